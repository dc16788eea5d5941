//! `streamplug:plugin/producer`: stage events on granted topics.

use serde_json::Value;

use crate::event::vocabulary::Vocabulary;
use crate::event::{Event, JSON_CONTENT_TYPE, is_valid_attribute_name};
use crate::routing::is_event_type;
use crate::runtime::bindings::streamplug::plugin::producer::{Host, OutgoingEvent, PublishError};
use crate::runtime::state::StoreState;

/// Largest payload a plugin may publish in one event.
pub const MAX_PUBLISHED_DATA: usize = 1024 * 1024;

impl Host for StoreState {
    async fn publish(&mut self, event: OutgoingEvent) -> Result<String, PublishError> {
        if self.effects.read_only {
            return Err(PublishError::Other(
                crate::runtime::effects::READ_ONLY.into(),
            ));
        }
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
        let key = checked_against_vocabulary(&self.plugin.vocabulary, &event)?;
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
            key: key.or(event.key).or_else(|| event.subject.clone()),
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

/// An event of a type of the vocabulary must carry JSON data that fits the
/// type's schema (the version its `dataschema` names, else any accepted
/// one) and name a customer if the type needs one; a type keyed by a field
/// of its data is keyed by it (the key returned). Types the vocabulary does
/// not know are the plugins' own and pass as they are.
fn checked_against_vocabulary(
    vocabulary: &Vocabulary,
    event: &OutgoingEvent,
) -> Result<Option<String>, PublishError> {
    if vocabulary.lookup(&event.type_).is_none() {
        return Ok(None);
    }
    let invalid = |what: String| {
        PublishError::InvalidEvent(format!("`{}` of the vocabulary: {what}", event.type_))
    };
    if !crate::event::is_json_media_type(event.content_type.as_deref()) {
        return Err(invalid("its data is JSON".into()));
    }
    let data: Value = serde_json::from_slice(&event.data)
        .map_err(|e| invalid(format!("data is not JSON: {e}")))?;
    let dataschema = event
        .headers
        .iter()
        .find(|(n, _)| n == "dataschema")
        .map(|(_, v)| v.as_str());
    let version = vocabulary
        .validate(
            &event.type_,
            dataschema,
            event.subject.as_deref(),
            Some(&data),
            "",
        )
        .map_err(|e| invalid(format!("{}: {}", e.pointer, e.message)))?;
    version
        .partition_key(&data, "")
        .transpose()
        .map_err(|e| invalid(format!("{}: {}", e.pointer, e.message)))
}
