//! The event model: one CloudEvents-shaped record that flows from ingest
//! through the log to plugins, and its JSON forms.

pub mod cloudevents;
pub mod compatibility;
pub mod field_error;
pub mod limits;
mod schema_check;
pub mod type_file;
pub mod vocabulary;

use serde::{Deserialize, Serialize};

pub use limits::MAX_SUBJECT_CHARS;

/// The CloudEvents spec version every event carries.
pub const SPEC_VERSION: &str = "1.0";
/// The content type of every event of the built-in vocabulary.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// One event, as stored in the log and handed to plugins.
///
/// `subject` is the customer id; `key` is the partition key (the subject
/// unless the producer set `partitionkey`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id (CloudEvents `id`).
    pub id: String,
    /// Producer of the event (CloudEvents `source`).
    pub source: String,
    /// Event type (CloudEvents `type`).
    pub ty: String,
    /// Customer id (CloudEvents `subject`).
    pub subject: Option<String>,
    /// RFC 3339 time of the occurrence.
    pub time: Option<String>,
    /// Topic the event is written to.
    pub topic: String,
    /// Partition key.
    pub key: Option<String>,
    /// Media type of `data`.
    pub content_type: Option<String>,
    /// Payload. Serialised as bytes, not as a sequence of numbers: the
    /// same bytes in postcard (the log's records and frames), written and
    /// read in one copy instead of one call a byte.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    /// Extension attributes (`traceparent`, ...) and metadata, names lowercase.
    pub headers: Vec<(String, String)>,
}

impl Event {
    /// A fresh, time-ordered event id (UUID v7).
    pub fn new_id() -> String {
        let mut buf = [0; uuid::fmt::Hyphenated::LENGTH];
        uuid::Uuid::now_v7()
            .hyphenated()
            .encode_lower(&mut buf)
            .to_owned()
    }

    /// The current time in RFC 3339 with millisecond precision.
    pub fn now() -> String {
        crate::clock::now_rfc3339()
    }

    /// The value of header `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `data` is JSON.
    pub fn is_json(&self) -> bool {
        is_json_media_type(self.content_type.as_deref())
    }
}

/// Whether data of `content_type` is JSON: `application/json` (with
/// parameters), a `+json` type, or none given (JSON is the default).
pub fn is_json_media_type(content_type: Option<&str>) -> bool {
    content_type.is_none_or(|ct| ct.starts_with(JSON_CONTENT_TYPE) || ct.contains("+json"))
}

/// An event as stored at a position of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Partition within the event's topic.
    pub partition: u32,
    /// Offset within the partition.
    pub offset: u64,
    /// Where the event stands in the append order across the log's topics,
    /// which is what a merged stream of several topics follows: the
    /// embedded writer's sequence number, or on Kafka the append time in
    /// microseconds since the epoch (see `storage::kafka::order`).
    pub seq: u64,
    /// The event.
    pub event: Event,
}

/// Whether `name` is a valid CloudEvents extension attribute name
/// (lowercase a-z and 0-9, at most 20 characters recommended; we allow 64).
pub fn is_valid_attribute_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// Whether `name` is an event type name: letters, digits, `.`, `_` and
/// `-`, at least one.
pub fn is_valid_type_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Kafka's topic naming rule, which the embedded log follows too.
pub fn is_valid_topic_name(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::Event;

    #[test]
    fn a_new_id_is_a_lowercase_hyphenated_uuid_v7_and_ids_grow() {
        let (a, b) = (Event::new_id(), Event::new_id());
        let parsed = uuid::Uuid::parse_str(&a).unwrap();
        assert_eq!(parsed.get_version_num(), 7);
        assert_eq!(a, parsed.hyphenated().to_string());
        assert_eq!(a.len(), 36);
        assert!(a < b, "time-ordered: {a} {b}");
    }
}
