//! One event type as a file: a JSON Schema (2020-12) of the event's `data`
//! whose `x-streamplug` object says what the type is. The shipped
//! e-commerce vocabulary is a set of such files (`wire/event-types/`,
//! built into the binary).
//!
//! ```json
//! {
//!   "$schema": "https://json-schema.org/draft/2020-12/schema",
//!   "title": "inventory.adjusted",
//!   "description": "The stock of a product changed.",
//!   "x-streamplug": {"type": "inventory.adjusted", "version": 1, "origin": "backend",
//!                    "topic": "inventory", "key": "/data/sku", "subject": "optional"},
//!   "type": "object",
//!   "properties": {"sku": {"type": "string", "minLength": 1}, "delta": {"type": "integer"}},
//!   "required": ["sku", "delta"]
//! }
//! ```
//!
//! `x-streamplug` holds `type` (the CloudEvents type), `version` (from 1),
//! `origin` (`customer`, `backend` or `plugin`: who may send it), and
//! optionally `kind` (`event`, the default, or `command`: a request one
//! processor plugin accepts or refuses), `topic` (where its events go unless an exact `[routes]` entry
//! says otherwise), `key` (a JSON pointer into the event's `data` whose
//! string is the partition key; the customer otherwise) and `subject`
//! (`required`, the default, or `optional` for types not about one
//! customer, which then need a `key`).

use serde::Deserialize;
use serde_json::{Map, Value};

/// The JSON Schema dialect every type file is written in.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Who may send a type at ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A customer's own session or token may send it, about itself
    /// (views, cart changes, support messages); keys and staff too, as
    /// their scopes allow.
    Customer,
    /// Only the shop's backend (a key or staff whose scopes name it):
    /// orders, profile changes, delivery reports.
    Backend,
    /// Only the gateway's plugins publish it; ingest refuses it from anyone.
    Plugin,
}

impl Origin {
    /// As written in type files and the reference.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Backend => "backend",
            Self::Plugin => "plugin",
        }
    }
}

/// Whether a type's events name a customer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectRule {
    /// Every event is about one customer, named in `subject`.
    #[default]
    Required,
    /// An event may name no customer (stock, prices); the type's `key`
    /// orders its events.
    Optional,
}

/// What a type's events are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A fact: something happened; every plugin subscribed may read it.
    #[default]
    Event,
    /// A request: exactly one processor plugin (its manifest's `commands`)
    /// accepts it, emitting the events it causes, or refuses it with a
    /// reason; `POST /v1/commands` answers with that outcome.
    Command,
}

impl Kind {
    /// As written in type files and the reference.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Command => "command",
        }
    }
}

/// The `x-streamplug` object of a type file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    #[serde(rename = "type")]
    name: String,
    version: u32,
    origin: Origin,
    #[serde(default)]
    kind: Kind,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    subject: SubjectRule,
}

/// Why a type file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event type file {file}: {reason}")]
pub struct TypeFileError {
    /// The file, as named to the reader.
    pub file: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A type file, read: what the type is and its data schema.
#[derive(Debug, Clone)]
pub struct TypeFile {
    /// The CloudEvents `type`.
    pub name: String,
    /// The version of its schema, from 1.
    pub version: u32,
    /// Who may send it.
    pub origin: Origin,
    /// An event or a command.
    pub kind: Kind,
    /// The topic its events go to, when the file names one.
    pub topic: Option<String>,
    /// The JSON pointer into the event of its partition key, when not the
    /// customer: always under `/data` (e.g. `/data/sku`).
    pub key: Option<String>,
    /// Whether its events must name a customer.
    pub subject: SubjectRule,
    /// What it means, one sentence (the schema's `description`).
    pub description: String,
    /// The JSON Schema of its `data`: the file without `x-streamplug`.
    pub schema: Value,
}

impl TypeFile {
    /// Read the type file `file` (named in errors) holding `text`.
    pub fn parse(file: &str, text: &str) -> Result<Self, TypeFileError> {
        let refuse = |reason: String| TypeFileError {
            file: file.to_owned(),
            reason,
        };
        let mut schema: Map<String, Value> =
            serde_json::from_str(text).map_err(|e| refuse(format!("not a JSON object: {e}")))?;
        let metadata = schema
            .remove("x-streamplug")
            .ok_or_else(|| refuse("no `x-streamplug` object naming the type".into()))?;
        let metadata: Metadata = serde_path_to_error::deserialize(metadata)
            .map_err(|e| refuse(format!("`x-streamplug`: {e}")))?;
        if !crate::event::is_valid_type_name(&metadata.name) {
            return Err(refuse(format!(
                "`{}` is not an event type name (letters, digits, `.`, `_`, `-`)",
                metadata.name
            )));
        }
        if metadata.version == 0 {
            return Err(refuse("`version` starts at 1".into()));
        }
        if let Some(topic) = metadata.topic.as_deref()
            && !crate::event::is_valid_topic_name(topic)
        {
            return Err(refuse(format!("`{topic}` is not a topic name")));
        }
        let key = match metadata.key.as_deref() {
            None => None,
            Some(pointer) => match pointer.strip_prefix("/data") {
                Some(inner) if inner.starts_with('/') && inner.len() > 1 => {
                    Some(pointer.to_owned())
                }
                _ => {
                    return Err(refuse(format!(
                        "`key` is a JSON pointer into the data, e.g. `/data/sku`, not `{pointer}`"
                    )));
                }
            },
        };
        if metadata.subject == SubjectRule::Optional && key.is_none() {
            return Err(refuse(
                "a type whose events may name no customer needs a `key` to order them".into(),
            ));
        }
        match schema.get("$schema").and_then(Value::as_str) {
            Some(DIALECT) => {}
            other => {
                return Err(refuse(format!(
                    "`$schema` must be `{DIALECT}` (JSON Schema 2020-12), not {other:?}"
                )));
            }
        }
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(refuse(
                "the data schema must have `\"type\": \"object\"`".into(),
            ));
        }
        let description = schema
            .get("description")
            .and_then(Value::as_str)
            .filter(|d| !d.trim().is_empty())
            .ok_or_else(|| refuse("`description` says what the type means".into()))?
            .to_owned();
        Ok(Self {
            name: metadata.name,
            version: metadata.version,
            origin: metadata.origin,
            kind: metadata.kind,
            topic: metadata.topic,
            key,
            subject: metadata.subject,
            description,
            schema: Value::Object(schema),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn file(metadata: Value, rest: Value) -> String {
        let mut v =
            json!({"$schema": DIALECT, "description": "Something happened.", "type": "object"});
        v["x-streamplug"] = metadata;
        for (k, val) in rest.as_object().unwrap() {
            v[k] = val.clone();
        }
        v.to_string()
    }

    #[test]
    fn a_type_file_gives_its_metadata_and_the_schema_without_it() {
        let text = file(
            json!({"type": "feedback.submitted", "version": 2, "origin": "customer"}),
            json!({"required": ["stars"]}),
        );
        let t = TypeFile::parse("f.json", &text).unwrap();
        assert_eq!(
            (t.name.as_str(), t.version, t.origin),
            ("feedback.submitted", 2, Origin::Customer)
        );
        assert_eq!(t.description, "Something happened.");
        assert_eq!(t.kind, Kind::Event);
        assert!(t.schema.get("x-streamplug").is_none());
        assert_eq!(t.schema["required"], json!(["stars"]));
        assert_eq!(
            (t.topic, t.key, t.subject),
            (None, None, SubjectRule::Required)
        );
        let text = file(
            json!({"type": "inventory.adjusted", "version": 1, "origin": "backend", "kind": "command",
                   "topic": "inventory", "key": "/data/sku", "subject": "optional"}),
            json!({}),
        );
        let t = TypeFile::parse("i.json", &text).unwrap();
        assert_eq!(t.topic.as_deref(), Some("inventory"));
        assert_eq!(t.key.as_deref(), Some("/data/sku"));
        assert_eq!(t.subject, SubjectRule::Optional);
        assert_eq!(t.kind, Kind::Command);
    }

    #[test]
    fn a_bad_file_is_refused_naming_the_file_and_what_is_wrong() {
        let good = json!({"type": "a.b", "version": 1, "origin": "backend"});
        let cases = [
            ("[]".to_owned(), "not a JSON object"),
            (json!({"$schema": DIALECT}).to_string(), "x-streamplug"),
            (
                file(
                    json!({"type": "a.b", "version": 1, "origin": "robot"}),
                    json!({}),
                ),
                "origin",
            ),
            (
                file(
                    json!({"type": "a.b", "version": 1, "origin": "backend", "kind": "query"}),
                    json!({}),
                ),
                "kind",
            ),
            (
                file(
                    json!({"type": "a.b", "version": 1, "origin": "backend", "extra": 1}),
                    json!({}),
                ),
                "extra",
            ),
            (
                file(
                    json!({"type": "a b", "version": 1, "origin": "backend"}),
                    json!({}),
                ),
                "not an event type name",
            ),
            (
                file(
                    json!({"type": "a.b", "version": 0, "origin": "backend"}),
                    json!({}),
                ),
                "starts at 1",
            ),
            (
                file(
                    good.clone(),
                    json!({"$schema": "http://json-schema.org/draft-07/schema#"}),
                ),
                "2020-12",
            ),
            (file(good.clone(), json!({"type": "array"})), "\"object\""),
            (
                file(good.clone(), json!({"description": " "})),
                "description",
            ),
            (
                file(
                    json!({"type": "a.b", "version": 1, "origin": "backend", "topic": "a b"}),
                    json!({}),
                ),
                "topic name",
            ),
            (
                file(
                    json!({"type": "a.b", "version": 1, "origin": "backend", "key": "/subject"}),
                    json!({}),
                ),
                "/data/sku",
            ),
            (
                file(
                    json!({"type": "a.b", "version": 1, "origin": "backend", "key": "/data"}),
                    json!({}),
                ),
                "/data/sku",
            ),
            (
                file(
                    json!({"type": "a.b", "version": 1, "origin": "backend", "subject": "optional"}),
                    json!({}),
                ),
                "needs a `key`",
            ),
        ];
        for (text, says) in cases {
            let err = TypeFile::parse("types/x.json", &text).unwrap_err();
            assert_eq!(err.file, "types/x.json");
            assert!(err.to_string().contains(says), "{text}: {err}");
        }
    }
}
