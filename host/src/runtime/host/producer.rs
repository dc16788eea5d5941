//! `streamplug:plugin/producer`: stage events on granted topics.

use crate::event::{Event, JSON_CONTENT_TYPE, is_valid_attribute_name};
use crate::routing::is_event_type;
use crate::runtime::bindings::streamplug::plugin::producer::{Host, OutgoingEvent, PublishError};
use crate::runtime::state::StoreState;

/// Largest payload a plugin may publish in one event.
pub const MAX_PUBLISHED_DATA: usize = 1024 * 1024;

impl Host for StoreState {
    async fn publish(&mut self, event: OutgoingEvent) -> Result<String, PublishError> {
        if !self.plugin.publish_grants.contains(&event.topic) {
            return Err(PublishError::TopicNotGranted(event.topic));
        }
        if !is_event_type(&event.type_) {
            return Err(PublishError::InvalidEvent(format!(
                "`{}` is not an event type (letters, digits, `.`, `_`, `-`)",
                event.type_
            )));
        }
        if event.data.len() > MAX_PUBLISHED_DATA {
            return Err(PublishError::InvalidEvent(format!(
                "data is {} bytes; at most {MAX_PUBLISHED_DATA} are allowed",
                event.data.len()
            )));
        }
        if let Some((name, _)) = event
            .headers
            .iter()
            .find(|(n, _)| !is_valid_attribute_name(n))
        {
            return Err(PublishError::InvalidEvent(format!(
                "header `{name}`: names are lowercase a-z and 0-9"
            )));
        }
        let staged = self.effects.current.publishes.len();
        if staged >= self.plugin.max_publishes as usize {
            return Err(PublishError::TooManyPublishes(self.plugin.max_publishes));
        }
        let mut headers = event.headers;
        let trigger = &self.effects.trigger;
        if !trigger.id.is_empty() {
            headers.push(("causationid".into(), trigger.id.clone()));
        }
        if let Some(tp) = &trigger.traceparent
            && !headers.iter().any(|(n, _)| n == "traceparent")
        {
            headers.push(("traceparent".into(), tp.clone()));
        }
        // Stable across attempts: the n-th emission while handling this event.
        let id = trigger.emitted_id(&self.plugin.name, staged);
        let event = Event {
            id: id.clone(),
            source: format!("plugin:{}", self.plugin.name),
            ty: event.type_,
            key: event.key.or_else(|| event.subject.clone()),
            subject: event.subject,
            time: Some(Event::now()),
            topic: event.topic,
            content_type: Some(
                event
                    .content_type
                    .unwrap_or_else(|| JSON_CONTENT_TYPE.into()),
            ),
            data: event.data,
            headers,
        };
        // The bounds every ingested event has: header count and size,
        // subject and key length.
        crate::event::limits::check(&event, "")
            .map_err(|e| PublishError::InvalidEvent(format!("{}: {}", e.pointer, e.message)))?;
        self.effects.current.publishes.push(event);
        Ok(id)
    }
}
