//! Bounds on an event's attributes, for every way an event enters the log:
//! ingest (HTTP, WebSocket, webhooks) and plugin publishes. An unbounded
//! attribute is memory and disk an outside caller or a plugin could take.

use super::Event;
use super::field_error::FieldError;

/// Longest `id`, bytes.
pub const MAX_ID_BYTES: usize = 256;
/// Longest `source` (a URI reference), bytes.
pub const MAX_SOURCE_BYTES: usize = 1024;
/// Longest `type`, bytes.
pub const MAX_TYPE_BYTES: usize = 128;
/// Longest `subject` (the customer id) and partition key, bytes.
pub const MAX_SUBJECT_BYTES: usize = 200;
/// Longest `datacontenttype` and `time`, bytes.
pub const MAX_SHORT_BYTES: usize = 128;
/// Most extension attributes (headers) of one event.
pub const MAX_HEADERS: usize = 32;
/// Longest extension attribute value, bytes.
pub const MAX_HEADER_VALUE_BYTES: usize = 2048;
/// Longest extension attribute name, bytes.
pub const MAX_HEADER_NAME_BYTES: usize = 64;

/// The first attribute of `event` over its bound, as a field error under
/// `at` (the event's JSON pointer).
pub fn check(event: &Event, at: &str) -> Result<(), FieldError> {
    let over = |field: &str, len: usize, max: usize| {
        if len > max {
            Err(FieldError::new(
                format!("{at}/{field}"),
                format!("{len} bytes; at most {max} are accepted"),
            ))
        } else {
            Ok(())
        }
    };
    over("id", event.id.len(), MAX_ID_BYTES)?;
    over("source", event.source.len(), MAX_SOURCE_BYTES)?;
    over("type", event.ty.len(), MAX_TYPE_BYTES)?;
    over(
        "subject",
        event.subject.as_deref().map_or(0, str::len),
        MAX_SUBJECT_BYTES,
    )?;
    over(
        "partitionkey",
        event.key.as_deref().map_or(0, str::len),
        MAX_SUBJECT_BYTES,
    )?;
    over(
        "datacontenttype",
        event.content_type.as_deref().map_or(0, str::len),
        MAX_SHORT_BYTES,
    )?;
    over(
        "time",
        event.time.as_deref().map_or(0, str::len),
        MAX_SHORT_BYTES,
    )?;
    if event.headers.len() > MAX_HEADERS {
        return Err(FieldError::new(
            at.to_owned(),
            format!(
                "{} extension attributes; at most {MAX_HEADERS} are accepted",
                event.headers.len()
            ),
        ));
    }
    for (name, value) in &event.headers {
        over(name, name.len(), MAX_HEADER_NAME_BYTES)?;
        over(name, value.len(), MAX_HEADER_VALUE_BYTES)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event {
            id: "e".into(),
            source: "/s".into(),
            ty: "product.viewed".into(),
            subject: Some("c".into()),
            time: None,
            topic: String::new(),
            key: None,
            content_type: None,
            data: Vec::new(),
            headers: Vec::new(),
        }
    }

    #[test]
    fn each_attribute_is_bounded_and_named() {
        check(&event(), "").unwrap();
        let long_id = Event {
            id: "x".repeat(MAX_ID_BYTES + 1),
            ..event()
        };
        assert_eq!(check(&long_id, "/3").unwrap_err().pointer, "/3/id");
        let long_subject = Event {
            subject: Some("x".repeat(MAX_SUBJECT_BYTES + 1)),
            ..event()
        };
        assert_eq!(check(&long_subject, "").unwrap_err().pointer, "/subject");
        let many = Event {
            headers: (0..=MAX_HEADERS)
                .map(|i| (format!("x{i}"), "v".into()))
                .collect(),
            ..event()
        };
        assert!(check(&many, "").is_err());
        let big = Event {
            headers: vec![("traceparent".into(), "v".repeat(MAX_HEADER_VALUE_BYTES + 1))],
            ..event()
        };
        assert_eq!(check(&big, "").unwrap_err().pointer, "/traceparent");
    }
}
