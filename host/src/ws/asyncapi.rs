//! The AsyncAPI 3.0 document of the gateway's event interfaces, generated
//! from the types the code sends and takes: the WebSocket session (the
//! frames in and out, the close codes, the resume token) and the topics of
//! the standard routes with the event types they carry, each with its
//! `data` schema from the vocabulary. `streamplug asyncapi` prints it and
//! `docs/asyncapi.json` holds a copy a test keeps equal to it.

use schemars::Schema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use super::frames::{Ack, ErrorFrame, HistoryLost, PushBody, Welcome};
use super::session::close;
use crate::event::vocabulary::Vocabulary;
use crate::routing::Router;
use crate::web::ingest_body::IngestBody;

/// A message of the session: its name, what it is, and the `kind` it
/// carries (none for the event frames a client sends).
struct Frame {
    name: &'static str,
    kind: Option<&'static str>,
    summary: &'static str,
    payload: Schema,
}

fn frames(generator: &mut SchemaGenerator) -> Vec<Frame> {
    vec![
        Frame {
            name: "event",
            kind: None,
            summary: "One event or a batch, as `POST /v1/events` takes them; answered in order by `ack` or `error`",
            payload: generator.subschema_for::<IngestBody>(),
        },
        Frame {
            name: "welcome",
            kind: Some("welcome"),
            summary: "The first frame of a session",
            payload: generator.subschema_for::<Welcome<'static>>(),
        },
        Frame {
            name: "ack",
            kind: Some("ack"),
            summary: "An event frame's events are durable",
            payload: generator.subschema_for::<Ack<'static>>(),
        },
        Frame {
            name: "error",
            kind: Some("error"),
            summary: "A frame could not be handled (an RFC 9457 problem); the session stays open",
            payload: generator.subschema_for::<ErrorFrame<'static>>(),
        },
        Frame {
            name: "push",
            kind: Some("push"),
            summary: "A plugin pushed to this customer",
            payload: generator.subschema_for::<PushBody<'static>>(),
        },
        Frame {
            name: "history_lost",
            kind: Some("history_lost"),
            summary: "On resume, pushes older than the retention were skipped",
            payload: generator.subschema_for::<HistoryLost>(),
        },
    ]
}

/// `schema` with its `kind` property fixed to `kind`.
fn with_kind(schema: Schema, kind: &str, definitions: &mut Map<String, Value>) -> Value {
    let mut value = schema.to_value();
    let target = match value.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .rsplit('/')
            .next()
            .and_then(|name| definitions.get_mut(name)),
        None => Some(&mut value),
    };
    if let Some(kind_schema) = target.and_then(|t| t.pointer_mut("/properties/kind")) {
        *kind_schema = json!({"type": "string", "const": kind});
    }
    value
}

/// The document.
pub fn asyncapi() -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    let frames = frames(&mut generator);
    let mut definitions = generator.take_definitions(true);
    crate::web::ingest_body::define_events(
        Vocabulary::standard(),
        &mut definitions,
        "#/components/schemas",
    );

    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    for frame in frames {
        let payload = match frame.kind {
            Some(kind) => with_kind(frame.payload, kind, &mut definitions),
            None => frame.payload.to_value(),
        };
        messages.insert(
            frame.name.into(),
            json!({"name": frame.name, "summary": frame.summary, "contentType": "application/json", "payload": payload}),
        );
        channel_messages.insert(
            frame.name.into(),
            json!({"$ref": format!("#/components/messages/{}", frame.name)}),
        );
    }
    let session_ref = |name: &str| json!({"$ref": format!("#/channels/session/messages/{name}")});
    let close_codes: Vec<Value> = close::ALL
        .iter()
        .map(|(code, meaning)| json!({"code": code, "meaning": meaning}))
        .collect();

    let mut channels = Map::new();
    channels.insert(
        "session".into(),
        json!({
            "address": "/v1/ws",
            "title": "A customer's live session",
            "description": "Opened with a customer token (`?token=` or `Authorization: Bearer`) and optionally `?resume=<partition>.<offset>` (the last `resume` received) to replay missed pushes. Text frames only, JSON. A client may send several event frames before their answers (at most websocket.max_frames_in_flight are read ahead); the answers come in the order of the frames, so the n-th `ack` or `error` answers the n-th event frame. The close codes are in `x-close-codes`. Protocol: docs/websocket.md.",
            "messages": channel_messages,
            "x-close-codes": close_codes,
        }),
    );
    let mut operations = Map::new();
    operations.insert(
        "receiveEvents".into(),
        json!({
            "action": "receive",
            "channel": {"$ref": "#/channels/session"},
            "summary": "The gateway takes a customer's events",
            "messages": [session_ref("event")],
            "reply": {"channel": {"$ref": "#/channels/session"}, "messages": [session_ref("ack"), session_ref("error")]},
        }),
    );
    operations.insert(
        "sendSessionFrames".into(),
        json!({
            "action": "send",
            "channel": {"$ref": "#/channels/session"},
            "summary": "The gateway greets the session, pushes to it and reports lost history",
            "messages": [session_ref("welcome"), session_ref("push"), session_ref("history_lost")],
        }),
    );
    topics(
        &mut channels,
        &mut operations,
        &mut messages,
        &mut definitions,
    );

    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "streamplug",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The gateway's event interfaces: customers' WebSocket sessions, and the topics of the standard routes with the event types they carry (CloudEvents 1.0; `data` as the vocabulary defines it, GET /v1/schemas).",
            "license": {"name": "Apache-2.0"},
        },
        "servers": {
            "gateway": {
                "host": "localhost:8080",
                "protocol": "ws",
                "description": "The gateway's HTTP listener (server.listen); wss behind TLS.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": definitions},
    })
}

/// One channel per topic of the standard routes and of the types' own
/// topics, with a message per event
/// type routed there (its `data` schema from the vocabulary), and the
/// operation that publishes them.
fn topics(
    channels: &mut Map<String, Value>,
    operations: &mut Map<String, Value>,
    messages: &mut Map<String, Value>,
    definitions: &mut Map<String, Value>,
) {
    // Where the standard configuration sends each type: a type's own topic
    // beats a prefix route (`customer.register` goes to `commands`).
    let router =
        Router::new(&crate::config::standard_routes()).with_topics_of(Vocabulary::standard());
    let mut by_topic: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for t in Vocabulary::standard().types() {
        let Some(topic) = router.topic_for(&t.name) else {
            continue;
        };
        let name = t.name.replace('.', "_");
        messages.insert(
            name.clone(),
            json!({
                "name": t.name,
                "summary": t.description,
                "contentType": "application/cloudevents+json",
                "payload": {
                    "type": "object",
                    "required": ["specversion", "id", "source", "type"],
                    "properties": {
                        "specversion": {"const": "1.0"},
                        "id": {"type": "string"},
                        "source": {"type": "string"},
                        "type": {"const": t.name},
                        "subject": {"type": "string", "description": "The customer"},
                        "time": {"type": "string", "format": "date-time"},
                        "data": t.publish_into(definitions, "#/components/schemas"),
                    },
                },
                "x-origin": t.origin.as_str(),
            }),
        );
        by_topic.entry(topic).or_default().push(name);
    }
    for (topic, names) in by_topic {
        let channel_messages: Map<String, Value> = names
            .into_iter()
            .map(|name| {
                let r = json!({"$ref": format!("#/components/messages/{name}")});
                (name, r)
            })
            .collect();
        let id = format!("topic_{}", topic.replace('-', "_"));
        let message_refs: Vec<Value> = channel_messages
            .keys()
            .map(|name| json!({"$ref": format!("#/channels/{id}/messages/{name}")}))
            .collect();
        channels.insert(
            id.clone(),
            json!({
                "address": topic,
                "title": format!("Topic {topic}"),
                "description": "A topic of the standard routes: the events of these types, partitioned by each type's key (the customer unless the type names another field), durable before they are acknowledged.",
                "messages": channel_messages,
            }),
        );
        operations.insert(
            format!("publish_{id}"),
            json!({
                "action": "send",
                "channel": {"$ref": format!("#/channels/{id}")},
                "summary": format!("The gateway appends the events routed to {topic}"),
                "messages": message_refs,
            }),
        );
    }
}

/// The document as `docs/asyncapi.json` holds it: pretty JSON, one newline
/// at the end.
pub fn asyncapi_json() -> String {
    crate::docs_file::pretty_json(&asyncapi())
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_asyncapi_json_matches_the_code() {
        crate::docs_file::assert_current("asyncapi.json", &super::asyncapi_json());
    }

    #[test]
    fn every_frame_and_topic_is_described_and_every_ref_resolves() {
        let doc = super::asyncapi();
        for name in ["event", "welcome", "ack", "error", "push", "history_lost"] {
            assert!(doc["components"]["messages"][name].is_object(), "{name}");
        }
        let welcome = &doc["components"]["messages"]["welcome"]["payload"];
        let welcome = match welcome["$ref"].as_str() {
            Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap(),
            None => welcome,
        };
        assert_eq!(welcome["properties"]["kind"]["const"], "welcome");
        assert_eq!(
            doc["channels"]["topic_order_events"]["address"],
            "order-events"
        );
        assert!(doc["channels"]["topic_order_events"]["messages"]["order_placed"].is_object());
        assert_eq!(
            doc["channels"]["session"]["x-close-codes"]
                .as_array()
                .unwrap()
                .len(),
            6
        );
        let text = serde_json::to_string(&doc).unwrap();
        for r in text.split("\"$ref\":\"").skip(1) {
            let pointer = &r[1..r.find('"').unwrap()];
            assert!(doc.pointer(pointer).is_some(), "dangling $ref #{pointer}");
        }
    }
}
