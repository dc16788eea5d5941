//! Publish events to topics the manifest grants. Publishes commit with the
//! event being handled: nothing is published if the handler fails.

use serde::Serialize;

use crate::HandleError;
pub use crate::bindings::streamplug::plugin::producer::PublishError;
use crate::bindings::streamplug::plugin::producer::{self as wit, OutgoingEvent};

/// An event being built for publication.
#[derive(Debug, Clone)]
pub struct Publish {
    event: OutgoingEvent,
}

/// Start an event of type `ty` for `topic`.
pub fn to(topic: &str, ty: &str) -> Publish {
    Publish {
        event: OutgoingEvent {
            topic: topic.into(),
            type_: ty.into(),
            subject: None,
            key: None,
            content_type: None,
            data: Vec::new(),
            headers: Vec::new(),
        },
    }
}

impl Publish {
    /// The customer it is about (also the partition key unless [`Publish::key`] is set).
    pub fn subject(mut self, subject: &str) -> Self {
        self.event.subject = Some(subject.into());
        self
    }

    /// The partition key.
    pub fn key(mut self, key: &str) -> Self {
        self.event.key = Some(key.into());
        self
    }

    /// An extension attribute (lowercase a-z, 0-9).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.event.headers.push((name.into(), value.into()));
        self
    }

    /// JSON data.
    pub fn json<T: Serialize + ?Sized>(mut self, data: &T) -> Result<Self, HandleError> {
        self.event.data = serde_json::to_vec(data)?;
        self.event.content_type = Some("application/json".into());
        Ok(self)
    }

    /// Raw data with its media type.
    pub fn bytes(mut self, content_type: &str, data: Vec<u8>) -> Self {
        self.event.data = data;
        self.event.content_type = Some(content_type.into());
        self
    }

    /// Stage it; returns the id it will carry.
    pub fn send(self) -> Result<String, PublishError> {
        wit::publish(&self.event)
    }
}
