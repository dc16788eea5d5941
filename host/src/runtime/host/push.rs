//! `streamplug:plugin/push`: stage a message for a customer's live sessions
//! on the push log, on a granted channel.

use crate::event::{Event, JSON_CONTENT_TYPE};
use crate::routing::is_event_type;
use crate::runtime::bindings::streamplug::plugin::push::{Host, PushError};
use crate::runtime::state::StoreState;

/// Largest push payload, bytes.
pub const MAX_PUSH_DATA: usize = 256 * 1024;

/// The header naming a push's channel.
pub const CHANNEL_HEADER: &str = "channel";

impl Host for StoreState {
    async fn to_customer(
        &mut self,
        customer: String,
        channel: String,
        message_type: String,
        data: Vec<u8>,
    ) -> Result<(), PushError> {
        if self.effects.read_only {
            return Err(PushError::Other(crate::runtime::effects::READ_ONLY.into()));
        }
        if !self.plugin.push_grants.contains(&channel) {
            return Err(PushError::ChannelNotGranted(channel));
        }
        if customer.is_empty() || customer.len() > 256 {
            return Err(PushError::InvalidMessage(
                "the customer id is 1 to 256 bytes".into(),
            ));
        }
        if !is_event_type(&message_type) {
            return Err(PushError::InvalidMessage(format!(
                "`{message_type}` is not a message type"
            )));
        }
        if data.len() > MAX_PUSH_DATA {
            return Err(PushError::InvalidMessage(format!(
                "data is {} bytes; at most {MAX_PUSH_DATA} are allowed",
                data.len()
            )));
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(&data).is_err() {
            return Err(PushError::InvalidMessage("data must be JSON".into()));
        }
        if self.effects.current.publishes.len() >= self.plugin.max_publishes as usize {
            return Err(PushError::TooManyPushes(self.plugin.max_publishes));
        }
        let mut headers = vec![(CHANNEL_HEADER.to_owned(), channel)];
        headers.extend(self.effects.trigger.provenance());
        // Stable across attempts: the n-th emission while handling this event.
        let emitted = self.effects.current.publishes.len();
        self.effects.current.publishes.push(Event {
            id: self.effects.trigger.emitted_id(&self.plugin.name, emitted),
            source: format!("plugin:{}", self.plugin.name),
            ty: message_type,
            subject: Some(customer.clone()),
            time: Some(Event::now()),
            topic: self.plugin.push_topic.clone(),
            key: Some(customer),
            content_type: Some(JSON_CONTENT_TYPE.into()),
            data,
            headers,
        });
        Ok(())
    }
}
