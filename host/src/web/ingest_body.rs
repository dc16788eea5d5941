//! What an ingest takes, `POST /v1/events` and a session's event frame
//! alike: one event or a batch. These types describe the body for the
//! published documents (OpenAPI, AsyncAPI); the pipeline parses it with
//! `event::cloudevents` into events, naming each invalid field.
//!
//! The description is exact, so a tool that generates requests from it
//! (Schemathesis in the contract tests) finds every request it calls
//! valid accepted and every one it calls invalid refused: an event is one
//! of the vocabulary's types with that type's `data` schema, `subject` or
//! its shorthand `customer` (one of them), the bounds of
//! [`crate::event::limits`], and extension attributes as CloudEvents names
//! them. A JSON `null` attribute counts as absent (CloudEvents JSON format).

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use crate::config::DEFAULT_MAX_BATCH_EVENTS;
use crate::event::limits::{
    MAX_HEADER_NAME_CHARS, MAX_HEADER_VALUE_CHARS, MAX_ID_CHARS, MAX_SHORT_CHARS, MAX_SOURCE_CHARS,
    MAX_SUBJECT_CHARS,
};
use crate::event::vocabulary::{EventType, Vocabulary};

/// What `POST /v1/events` takes as `application/json`: one event (either
/// form) or a batch.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // a description: the pipeline parses the JSON itself
pub enum IngestBody {
    /// One event.
    One(IncomingEvent),
    /// A batch, appended atomically on the embedded log.
    Batch(EventBatch),
}

/// A batch of events in either form.
#[derive(JsonSchema)]
#[allow(dead_code)] // a description
pub struct EventBatch(
    #[schemars(length(min = 1, max = DEFAULT_MAX_BATCH_EVENTS))] Vec<IncomingEvent>,
);

/// A batch of structured CloudEvents
/// (`application/cloudevents-batch+json`).
#[derive(JsonSchema)]
#[allow(dead_code)] // a description
pub struct StructuredEventBatch(
    #[schemars(length(min = 1, max = DEFAULT_MAX_BATCH_EVENTS))] Vec<StructuredIncomingEvent>,
);

/// One event as a client sends it: CloudEvents 1.0 structured JSON, or the
/// short form (`type`, `customer`, `data`); missing `id`, `source`, `time`
/// and `specversion` are filled in.
pub struct IncomingEvent;

/// One structured CloudEvent (`application/cloudevents+json`): it names
/// its `specversion`, `id` and `source`.
pub struct StructuredIncomingEvent;

/// One command as a client sends it to `POST /v1/commands`: an
/// [`IncomingEvent`] of a command type.
pub struct IncomingCommand;

/// One command as a structured CloudEvent.
pub struct StructuredIncomingCommand;

/// Stand-ins wherever the bodies are generated: [`define_events`] puts
/// the real definition, one variant per type of the deployment's
/// vocabulary, in their place.
macro_rules! stand_in {
    ($($ty:ident),*) => {$(
        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({})
            }
        }
    )*};
}

stand_in!(
    IncomingEvent,
    StructuredIncomingEvent,
    IncomingCommand,
    StructuredIncomingCommand
);

/// Replace the stand-ins for `IncomingEvent`, `StructuredIncomingEvent`
/// and their command forms among a document's `definitions` (found at
/// `path`, e.g. `#/components/schemas`): one variant per type of
/// `vocabulary` (per command type for the commands), each type's data
/// schema beside them.
pub fn define_events(vocabulary: &Vocabulary, definitions: &mut Map<String, Value>, path: &str) {
    let stand_ins = [
        ("IncomingEvent", false, false),
        ("StructuredIncomingEvent", true, false),
        ("IncomingCommand", false, true),
        ("StructuredIncomingCommand", true, true),
    ];
    for (name, structured, commands) in stand_ins {
        if !definitions.contains_key(name) {
            continue;
        }
        let types: Vec<&EventType> = if commands {
            vocabulary.command_types().collect()
        } else {
            vocabulary.types().iter().collect()
        };
        let schema = one_of_the_types(&types, definitions, path, structured);
        definitions.insert(name.into(), schema);
    }
}

fn one_of_the_types(
    types: &[&EventType],
    definitions: &mut Map<String, Value>,
    path: &str,
    structured: bool,
) -> Value {
    if types.is_empty() {
        return json!({
            "description": "The vocabulary holds no type of this kind: nothing is valid here.",
            "not": {},
        });
    }
    let variants: Vec<Value> = types
        .iter()
        .map(|t| event_of(t, t.publish_into(definitions, path), structured))
        .collect();
    let form = if structured {
        "A structured CloudEvent (JSON format): `specversion`, `id` and `source` are required"
    } else {
        "CloudEvents 1.0 structured JSON (with `specversion`, then `id` and `source` are \
         required) or the short form (`type`, `customer`, `data`; the rest is filled in)"
    };
    json!({
        "description": format!(
            "One event of a type of the vocabulary (`GET /v1/schemas`), its `data` valid \
             against the type's schema. {form}. The customer goes in `subject` or `customer`, \
             one of them (a customer's own token may leave it out). Any other attribute is a \
             CloudEvents extension: a name of lowercase letters and digits, a string, number \
             or boolean value. `null` counts as absent."
        ),
        "oneOf": variants,
    })
}

/// A string attribute of at most `max` characters, `null` allowed.
fn text(description: &str, min: usize, max: usize) -> Value {
    json!({"type": ["string", "null"], "minLength": min, "maxLength": max, "description": description})
}

/// The schema of one event of type `t`, whose data schema is `data`.
fn event_of(t: &EventType, data: Value, structured: bool) -> Value {
    let mut required = vec!["type", "data"];
    if structured {
        required.extend(["specversion", "id", "source"]);
    }
    let given =
        |field: &str| json!({"required": [field], "properties": {field: {"type": "string"}}});
    json!({
        "title": t.name,
        "description": t.description,
        "type": "object",
        "required": required,
        "properties": {
            "specversion": {"const": "1.0", "description": "The CloudEvents version: a structured event names it, and then its `id` and `source`"},
            "id": text("Unique per `source`; a retried copy with the same pair is answered, not written again", 1, MAX_ID_CHARS),
            "source": {
                "type": ["string", "null"], "minLength": 1, "maxLength": MAX_SOURCE_CHARS,
                "description": "A URI reference naming the sender (`plugin:` sources are the gateway's own)",
                "not": {"type": "string", "pattern": "^plugin:"},
            },
            "type": {"const": t.name},
            "subject": text("The customer the event is about", 1, MAX_SUBJECT_CHARS),
            "customer": text("The same as `subject`, in the short form", 1, MAX_SUBJECT_CHARS),
            "time": {"type": ["string", "null"], "format": "date-time", "maxLength": MAX_SHORT_CHARS, "description": "RFC 3339; now when absent"},
            "datacontenttype": {
                "type": ["string", "null"], "maxLength": MAX_SHORT_CHARS,
                "pattern": "^application/json|\\+json",
                "description": "A JSON media type: `data` is JSON",
            },
            "dataschema": text("A URI of the data's schema", 0, MAX_HEADER_VALUE_CHARS),
            "partitionkey": text("Orders the event with others of the same key (the customer by default)", 0, MAX_SUBJECT_CHARS),
            "data": data,
        },
        "propertyNames": {"pattern": format!("^[a-z0-9]{{1,{MAX_HEADER_NAME_CHARS}}}$")},
        "additionalProperties": {
            "type": ["string", "number", "boolean"],
            "maxLength": MAX_HEADER_VALUE_CHARS,
            "description": "A CloudEvents extension attribute",
        },
        "if": {"required": ["specversion"]},
        "then": {"required": ["id", "source"]},
        "anyOf": [given("subject"), given("customer")],
        "not": {"allOf": [given("subject"), given("customer")]},
    })
}

/// The bodies the OpenAPI document names: stand-ins for utoipa (which
/// describes the route), replaced by [`complete_openapi`] with the schemas
/// above (utoipa's schema model has no `const`, `if` or `not`).
macro_rules! openapi_stand_in {
    ($($ty:ident),*) => {$(
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new().into()
            }
        }
        impl utoipa::ToSchema for $ty {}
    )*};
}

openapi_stand_in!(
    IngestBody,
    StructuredIncomingEvent,
    StructuredEventBatch,
    IncomingCommand,
    StructuredIncomingCommand
);

/// Put the ingest bodies' schemas (and the data schemas of `vocabulary`'s
/// types they refer to) into an OpenAPI document's `components.schemas`.
pub fn complete_openapi(doc: &mut Value, vocabulary: &Vocabulary) {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    generator.subschema_for::<IngestBody>();
    generator.subschema_for::<StructuredIncomingEvent>();
    generator.subschema_for::<StructuredEventBatch>();
    generator.subschema_for::<IncomingCommand>();
    generator.subschema_for::<StructuredIncomingCommand>();
    let mut definitions = generator.take_definitions(true);
    define_events(vocabulary, &mut definitions, "#/components/schemas");
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.extend(definitions);
    }
}
