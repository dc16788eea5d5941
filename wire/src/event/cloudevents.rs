//! CloudEvents structured JSON (`application/cloudevents+json`): parsing what
//! clients send and rendering what the read API returns.
//!
//! Accepted input, one object or an array of them:
//! - structured CloudEvents: `specversion`, `type`, `source`, `id`, `subject`,
//!   `time`, `datacontenttype`, `data` or `data_base64`, extension attributes;
//! - the shorthand `{ "type": ..., "customer": ..., "data": ... }`, where
//!   `customer` is the `subject` and everything else is filled in.

use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};

pub use super::field_error::FieldError;
use super::{Event, JSON_CONTENT_TYPE, SPEC_VERSION, is_valid_attribute_name};

/// The source given to events whose producer did not name one.
pub const DEFAULT_SOURCE: &str = "/streamplug/ingest";

/// A parsed but not yet routed event: everything but the topic.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingEvent {
    /// The event, with `topic` still empty.
    pub event: Event,
    /// The JSON data, kept parsed for validation against the vocabulary.
    pub data: Option<Value>,
}

const KNOWN_ATTRIBUTES: &[&str] = &[
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "customer",
    "time",
    "datacontenttype",
    "dataschema",
    "data",
    "data_base64",
    "partitionkey",
];

/// Parse one JSON object into an event. `at` is the JSON pointer of the object.
pub fn parse_object(value: Value, at: &str) -> Result<IncomingEvent, FieldError> {
    let Value::Object(mut obj) = value else {
        return Err(FieldError::new(at, "expected a JSON object (an event)"));
    };
    let ptr = |field: &str| format!("{at}/{field}");

    // A structured CloudEvent names its spec version, and then carries the
    // attributes the spec requires; the shorthand gets them generated.
    let structured = match obj.remove("specversion") {
        Some(v) if v.as_str() != Some(SPEC_VERSION) => {
            return Err(FieldError::new(
                ptr("specversion"),
                "unsupported CloudEvents specversion; expected \"1.0\"",
            ));
        }
        Some(_) => true,
        None => false,
    };
    if structured {
        for required in ["id", "source"] {
            if !obj.contains_key(required) {
                return Err(FieldError::new(
                    ptr(required),
                    "required by CloudEvents: a structured event names its `id` and `source`, which together identify it (a retried copy is recognised by them)",
                ));
            }
        }
    }
    let ty = take_string(&mut obj, "type", at)?
        .ok_or_else(|| FieldError::new(ptr("type"), "required field is missing"))?;
    if ty.is_empty() {
        return Err(FieldError::new(ptr("type"), "must not be empty"));
    }
    let subject = match (
        take_string(&mut obj, "subject", at)?,
        take_string(&mut obj, "customer", at)?,
    ) {
        (Some(_), Some(_)) => {
            return Err(FieldError::new(
                ptr("customer"),
                "give either `subject` or its shorthand `customer`, not both",
            ));
        }
        (s, c) => s.or(c),
    };
    if subject.as_deref() == Some("") {
        return Err(FieldError::new(ptr("subject"), "must not be empty"));
    }
    let id = take_string(&mut obj, "id", at)?.unwrap_or_else(Event::new_id);
    if id.is_empty() {
        return Err(FieldError::new(ptr("id"), "must not be empty"));
    }
    let source = take_string(&mut obj, "source", at)?.unwrap_or_else(|| DEFAULT_SOURCE.into());
    if source.is_empty() {
        return Err(FieldError::new(ptr("source"), "must not be empty"));
    }
    let time = match take_string(&mut obj, "time", at)? {
        Some(t) => {
            chrono::DateTime::parse_from_rfc3339(&t)
                .map_err(|e| FieldError::new(ptr("time"), format!("not an RFC 3339 time: {e}")))?;
            Some(t)
        }
        None => Some(Event::now()),
    };
    let content_type = take_string(&mut obj, "datacontenttype", at)?;
    let key = take_string(&mut obj, "partitionkey", at)?.or_else(|| subject.clone());
    let mut headers = Vec::new();
    if let Some(schema) = take_string(&mut obj, "dataschema", at)? {
        headers.push(("dataschema".to_owned(), schema));
    }

    let (data_bytes, data_json, content_type) =
        match (obj.remove("data"), obj.remove("data_base64")) {
            (Some(_), Some(_)) => {
                return Err(FieldError::new(
                    ptr("data_base64"),
                    "give either `data` or `data_base64`, not both",
                ));
            }
            (None, Some(Value::String(b64))) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| FieldError::new(ptr("data_base64"), format!("not base64: {e}")))?;
                let ct = content_type.unwrap_or_else(|| "application/octet-stream".into());
                let json = if ct.starts_with(JSON_CONTENT_TYPE) {
                    Some(serde_json::from_slice(&bytes).map_err(|e| {
                        FieldError::new(
                            ptr("data_base64"),
                            format!("declared JSON but is not: {e}"),
                        )
                    })?)
                } else {
                    None
                };
                (bytes, json, Some(ct))
            }
            (None, Some(_)) => {
                return Err(FieldError::new(ptr("data_base64"), "expected a string"));
            }
            (Some(data), None) => {
                let ct = content_type.unwrap_or_else(|| JSON_CONTENT_TYPE.into());
                match (&data, super::is_json_media_type(Some(&ct))) {
                    (_, true) => (
                        serde_json::to_vec(&data).unwrap_or_default(),
                        Some(data),
                        Some(ct),
                    ),
                    (Value::String(s), false) => (s.clone().into_bytes(), None, Some(ct)),
                    (_, false) => {
                        return Err(FieldError::new(
                            ptr("data"),
                            "non-JSON content must be a string or come as `data_base64`",
                        ));
                    }
                }
            }
            (None, None) => (Vec::new(), None, content_type),
        };

    // What is left are extension attributes.
    for (name, value) in obj {
        if KNOWN_ATTRIBUTES.contains(&name.as_str()) {
            continue;
        }
        if !is_valid_attribute_name(&name) {
            return Err(FieldError::new(
                ptr(&name),
                "unknown attribute; extension attribute names are lowercase a-z and 0-9",
            ));
        }
        let text = match value {
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(FieldError::new(
                    ptr(&name),
                    "extension attributes must be strings, numbers or booleans",
                ));
            }
        };
        headers.push((name, text));
    }

    let event = Event {
        id,
        source,
        ty,
        subject,
        time,
        topic: String::new(),
        key,
        content_type,
        data: data_bytes,
        headers,
    };
    super::limits::check(&event, at)?;
    Ok(IncomingEvent {
        event,
        data: data_json,
    })
}

fn take_string(
    obj: &mut Map<String, Value>,
    field: &str,
    at: &str,
) -> Result<Option<String>, FieldError> {
    match obj.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(FieldError::new(
            format!("{at}/{field}"),
            "expected a string",
        )),
    }
}

/// The structured-mode JSON of a stored event, as the read API returns it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StructuredEvent {
    /// Always "1.0".
    pub specversion: &'static str,
    /// CloudEvents `id`.
    pub id: String,
    /// CloudEvents `source`.
    pub source: String,
    /// CloudEvents `type`.
    #[serde(rename = "type")]
    pub ty: String,
    /// CloudEvents `subject` (customer id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// CloudEvents `time`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Media type of the data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datacontenttype: Option<String>,
    /// Partition key (CloudEvents `partitionkey` extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitionkey: Option<String>,
    /// JSON data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Non-JSON data, base64.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_base64: Option<String>,
    /// Extension attributes.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl From<&Event> for StructuredEvent {
    fn from(e: &Event) -> Self {
        let json = e
            .is_json()
            .then(|| serde_json::from_slice::<Value>(&e.data).ok())
            .flatten();
        let data_base64 = match (&json, e.data.is_empty()) {
            (None, false) => Some(base64::engine::general_purpose::STANDARD.encode(&e.data)),
            _ => None,
        };
        Self {
            specversion: SPEC_VERSION,
            id: e.id.clone(),
            source: e.source.clone(),
            ty: e.ty.clone(),
            subject: e.subject.clone(),
            time: e.time.clone(),
            datacontenttype: e.content_type.clone(),
            partitionkey: e.key.clone(),
            data: json,
            data_base64,
            extensions: e
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shorthand_fills_in_id_source_time_and_key() {
        let e = parse_object(
            json!({"type": "product.viewed", "customer": "c1", "data": {"product": "p1"}}),
            "",
        )
        .unwrap();
        assert_eq!(e.event.subject.as_deref(), Some("c1"));
        assert_eq!(e.event.key.as_deref(), Some("c1"));
        assert_eq!(e.event.source, DEFAULT_SOURCE);
        assert!(!e.event.id.is_empty());
        assert!(e.event.time.is_some());
        assert_eq!(e.data, Some(json!({"product": "p1"})));
    }

    #[test]
    fn structured_event_keeps_its_attributes_and_extensions() {
        let e = parse_object(
            json!({"specversion": "1.0", "id": "e1", "source": "/web", "type": "x", "subject": "c",
                   "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "data": 1}),
            "",
        )
        .unwrap();
        assert_eq!(e.event.id, "e1");
        assert_eq!(e.event.header("traceparent").map(str::len), Some(55));
        let back = serde_json::to_value(StructuredEvent::from(&e.event)).unwrap();
        assert_eq!(back["data"], json!(1));
        assert_eq!(back["traceparent"], e.event.header("traceparent").unwrap());
    }

    #[test]
    fn errors_name_the_field() {
        let err = parse_object(json!({"type": 5}), "/3").unwrap_err();
        assert_eq!(err.pointer, "/3/type");
        let err = parse_object(json!({"type": "a", "specversion": "0.3"}), "").unwrap_err();
        assert_eq!(err.pointer, "/specversion");
        let err = parse_object(json!({"type": "a", "Bad-Name": "x"}), "").unwrap_err();
        assert_eq!(err.pointer, "/Bad-Name");
        let err = parse_object(json!({"type": "a", "time": "yesterday"}), "").unwrap_err();
        assert_eq!(err.pointer, "/time");
    }

    #[test]
    fn binary_data_round_trips_as_base64() {
        let e = parse_object(
            json!({"type": "blob", "datacontenttype": "application/octet-stream", "data_base64": "AAEC"}),
            "",
        )
        .unwrap();
        assert_eq!(e.event.data, vec![0, 1, 2]);
        let back = serde_json::to_value(StructuredEvent::from(&e.event)).unwrap();
        assert_eq!(back["data_base64"], "AAEC");
    }
}
