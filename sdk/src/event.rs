//! The event handed to a plugin, with typed accessors.

use serde::de::DeserializeOwned;

use crate::HandleError;
use crate::bindings::streamplug::plugin::types::Event as WitEvent;

/// One event, shaped after CloudEvents.
#[derive(Debug, Clone)]
pub struct Event {
    inner: WitEvent,
}

impl From<WitEvent> for Event {
    fn from(inner: WitEvent) -> Self {
        Self { inner }
    }
}

impl Event {
    /// Build an event (for tests of plugin logic).
    pub fn new(ty: &str, subject: Option<&str>, data: &serde_json::Value) -> Self {
        Self {
            inner: WitEvent {
                id: "test".into(),
                source: "/test".into(),
                type_: ty.into(),
                subject: subject.map(Into::into),
                time: None,
                topic: "test".into(),
                key: subject.map(Into::into),
                content_type: Some("application/json".into()),
                data: serde_json::to_vec(data).unwrap_or_default(),
                headers: Vec::new(),
                partition: 0,
                offset: 0,
            },
        }
    }

    /// The event id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }
    /// Who produced it.
    pub fn source(&self) -> &str {
        &self.inner.source
    }
    /// The event type, e.g. `product.viewed`.
    pub fn ty(&self) -> &str {
        &self.inner.type_
    }
    /// The customer id (CloudEvents `subject`).
    pub fn subject(&self) -> Option<&str> {
        self.inner.subject.as_deref()
    }
    /// RFC 3339 time of the occurrence.
    pub fn time(&self) -> Option<&str> {
        self.inner.time.as_deref()
    }
    /// The topic it was read from.
    pub fn topic(&self) -> &str {
        &self.inner.topic
    }
    /// Its partition key.
    pub fn key(&self) -> Option<&str> {
        self.inner.key.as_deref()
    }
    /// Media type of the data.
    pub fn content_type(&self) -> Option<&str> {
        self.inner.content_type.as_deref()
    }
    /// The payload bytes.
    pub fn data(&self) -> &[u8] {
        &self.inner.data
    }
    /// An extension attribute or metadata header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    /// The name of the timer this event is, if it is a fired timer
    /// ([`crate::timer`]).
    pub fn timer_name(&self) -> Option<&str> {
        if self.inner.type_ == crate::timer::TYPE {
            self.header("timername")
        } else {
            None
        }
    }
    /// Partition and offset it was read at.
    pub fn position(&self) -> (u32, u64) {
        (self.inner.partition, self.inner.offset)
    }
    /// The JSON data as `T`; malformed data rejects the event.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HandleError> {
        Ok(serde_json::from_slice(&self.inner.data)?)
    }
}
