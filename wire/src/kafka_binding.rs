//! The CloudEvents Kafka protocol binding (1.0, binary mode) for our events:
//! the data is the record value, the partition key the record key, and every
//! attribute a `ce_<name>` header (`content-type` for `datacontenttype`), so
//! other Kafka tools read the events as CloudEvents. `traceparent` and
//! `tracestate` are also written as plain headers for OpenTelemetry
//! instrumentations. Reading accepts binary and structured mode, and records
//! from producers that know nothing of CloudEvents.

use crate::event::cloudevents::parse_object;
use crate::event::{Event, SPEC_VERSION};

/// A record as the binding sees it: key, headers and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Record key (the partition key).
    pub key: Option<Vec<u8>>,
    /// Headers in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Record value; `None` for an event without data.
    pub value: Option<Vec<u8>>,
}

const CONTENT_TYPE: &str = "content-type";
const TRACE_HEADERS: &[&str] = &["traceparent", "tracestate"];

/// The binary-mode record of `event`.
pub fn to_record(event: &Event) -> Record {
    let mut headers: Vec<(String, Vec<u8>)> = vec![
        ("ce_specversion".into(), SPEC_VERSION.as_bytes().to_vec()),
        ("ce_id".into(), event.id.as_bytes().to_vec()),
        ("ce_source".into(), event.source.as_bytes().to_vec()),
        ("ce_type".into(), event.ty.as_bytes().to_vec()),
    ];
    let optional = [
        ("ce_subject", &event.subject),
        ("ce_time", &event.time),
        (CONTENT_TYPE, &event.content_type),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            headers.push((name.into(), v.as_bytes().to_vec()));
        }
    }
    for (name, value) in &event.headers {
        headers.push((format!("ce_{name}"), value.as_bytes().to_vec()));
        if TRACE_HEADERS.contains(&name.as_str()) {
            headers.push((name.clone(), value.as_bytes().to_vec()));
        }
    }
    Record {
        key: event.key.as_ref().map(|k| k.as_bytes().to_vec()),
        headers,
        value: (!event.data.is_empty()).then(|| event.data.clone()),
    }
}

/// The event in a record read from `topic` at `partition`/`offset`.
pub fn from_record(topic: &str, partition: u32, offset: u64, record: &Record) -> Event {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let header = |name: &str| {
        record
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| text(v))
    };
    let key = record.key.as_deref().map(text);
    let content_type = header(CONTENT_TYPE);
    if content_type.as_deref().is_some_and(|ct| {
        ct.to_ascii_lowercase()
            .starts_with("application/cloudevents")
    }) {
        let parsed = record
            .value
            .as_deref()
            .and_then(|v| serde_json::from_slice(v).ok())
            .and_then(|json| parse_object(json, "").ok());
        if let Some(incoming) = parsed {
            let mut event = incoming.event;
            event.topic = topic.to_owned();
            event.key = key.or(event.key);
            return event;
        }
    }
    let mut headers = Vec::new();
    for (name, value) in &record.headers {
        let Some(attr) = name.strip_prefix("ce_") else {
            continue;
        };
        if !matches!(
            attr,
            "specversion" | "id" | "source" | "type" | "subject" | "time"
        ) {
            headers.push((attr.to_owned(), text(value)));
        }
    }
    // Plain trace headers from instrumentations that do not write `ce_` ones.
    for name in TRACE_HEADERS {
        let known = headers.iter().any(|(n, _)| n == name);
        if let Some(v) = header(name).filter(|_| !known) {
            headers.push(((*name).to_owned(), v));
        }
    }
    Event {
        id: header("ce_id").unwrap_or_else(|| format!("{topic}-{partition}-{offset}")),
        source: header("ce_source").unwrap_or_else(|| format!("kafka://{topic}")),
        ty: header("ce_type").unwrap_or_else(|| "kafka.record".to_owned()),
        subject: header("ce_subject"),
        time: header("ce_time"),
        topic: topic.to_owned(),
        key,
        content_type,
        data: record.value.clone().unwrap_or_default(),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event {
            id: "e1".into(),
            source: "/web".into(),
            ty: "product.viewed".into(),
            subject: Some("alice".into()),
            time: Some("2026-11-23T10:00:00.000Z".into()),
            topic: "customer-interactions".into(),
            key: Some("alice".into()),
            content_type: Some("application/json".into()),
            data: br#"{"product":"p1"}"#.to_vec(),
            headers: vec![(
                "traceparent".into(),
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
            )],
        }
    }

    #[test]
    fn binary_mode_round_trips_and_names_headers_as_the_binding_says() {
        let record = to_record(&event());
        let names: Vec<&str> = record.headers.iter().map(|(n, _)| n.as_str()).collect();
        for expected in [
            "ce_specversion",
            "ce_id",
            "ce_source",
            "ce_type",
            "ce_subject",
            "ce_time",
            "content-type",
            "ce_traceparent",
            "traceparent",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        assert_eq!(record.key.as_deref(), Some(&b"alice"[..]));
        assert_eq!(from_record("customer-interactions", 0, 5, &record), event());
    }

    #[test]
    fn structured_mode_and_plain_records_are_read_too() {
        let structured = Record {
            key: Some(b"bob".to_vec()),
            headers: vec![(CONTENT_TYPE.into(), b"application/cloudevents+json; charset=UTF-8".to_vec())],
            value: Some(br#"{"specversion":"1.0","id":"s1","source":"/x","type":"order.paid","subject":"bob","data":{"order":"o1"}}"#.to_vec()),
        };
        let e = from_record("order-events", 1, 9, &structured);
        assert_eq!(
            (e.id.as_str(), e.ty.as_str(), e.subject.as_deref()),
            ("s1", "order.paid", Some("bob"))
        );
        let plain = Record {
            key: None,
            headers: vec![],
            value: Some(b"hello".to_vec()),
        };
        let e = from_record("raw", 2, 7, &plain);
        assert_eq!(
            (e.id.as_str(), e.ty.as_str(), e.data.as_slice()),
            ("raw-2-7", "kafka.record", &b"hello"[..])
        );
    }

    #[test]
    fn an_event_without_data_is_a_null_value() {
        let mut e = event();
        e.data.clear();
        assert_eq!(to_record(&e).value, None);
    }
}
