//! Bounds on an event's attributes, for every way an event enters the log:
//! ingest (HTTP, WebSocket, webhooks) and plugin publishes. An unbounded
//! attribute is memory and disk an outside caller or a plugin could take.
//! Lengths are counted in characters (Unicode scalar values), as JSON
//! Schema's `maxLength` counts them, so the published schemas state them
//! exactly; a character is at most 4 bytes.

use super::Event;
use super::field_error::FieldError;

/// Longest `id`, characters.
pub const MAX_ID_CHARS: usize = 256;
/// Longest `source` (a URI reference), characters.
pub const MAX_SOURCE_CHARS: usize = 1024;
/// Longest `type`, characters.
pub const MAX_TYPE_CHARS: usize = 128;
/// Longest `subject` (the customer id) and partition key, characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest `datacontenttype` and `time`, characters.
pub const MAX_SHORT_CHARS: usize = 128;
/// Most extension attributes (headers) of one event.
pub const MAX_HEADERS: usize = 32;
/// Longest extension attribute value, characters.
pub const MAX_HEADER_VALUE_CHARS: usize = 2048;
/// Longest extension attribute name, characters.
pub const MAX_HEADER_NAME_CHARS: usize = 64;

/// Length of `s` in characters.
fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The first attribute of `event` over its bound, as a field error under
/// `at` (the event's JSON pointer).
pub fn check(event: &Event, at: &str) -> Result<(), FieldError> {
    let over = |field: &str, len: usize, max: usize| {
        if len > max {
            Err(FieldError::new(
                format!("{at}/{field}"),
                format!("{len} characters; at most {max} are accepted"),
            ))
        } else {
            Ok(())
        }
    };
    over("id", chars(&event.id), MAX_ID_CHARS)?;
    over("source", chars(&event.source), MAX_SOURCE_CHARS)?;
    over("type", chars(&event.ty), MAX_TYPE_CHARS)?;
    over(
        "subject",
        event.subject.as_deref().map_or(0, chars),
        MAX_SUBJECT_CHARS,
    )?;
    over(
        "partitionkey",
        event.key.as_deref().map_or(0, chars),
        MAX_SUBJECT_CHARS,
    )?;
    over(
        "datacontenttype",
        event.content_type.as_deref().map_or(0, chars),
        MAX_SHORT_CHARS,
    )?;
    over(
        "time",
        event.time.as_deref().map_or(0, chars),
        MAX_SHORT_CHARS,
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
        over(name, chars(name), MAX_HEADER_NAME_CHARS)?;
        over(name, chars(value), MAX_HEADER_VALUE_CHARS)?;
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
            id: "x".repeat(MAX_ID_CHARS + 1),
            ..event()
        };
        assert_eq!(check(&long_id, "/3").unwrap_err().pointer, "/3/id");
        let long_subject = Event {
            subject: Some("x".repeat(MAX_SUBJECT_CHARS + 1)),
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
            headers: vec![("traceparent".into(), "v".repeat(MAX_HEADER_VALUE_CHARS + 1))],
            ..event()
        };
        assert_eq!(check(&big, "").unwrap_err().pointer, "/traceparent");
    }
}
