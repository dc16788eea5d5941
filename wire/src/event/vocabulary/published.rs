//! The vocabulary as documents show it: each type's data schema placed
//! in an API document's definitions, `GET /v1/schemas`, and the reference
//! page `docs/events.md`.

use serde_json::{Map, Value};

use super::{EventType, SubjectRule, Vocabulary};

impl EventType {
    /// The name this version's schema has among a document's definitions:
    /// the type's name for version 1, `<type>.v<version>` after.
    pub fn component_name(&self) -> String {
        match self.version {
            1 => self.name.clone(),
            v => format!("{}.v{v}", self.name),
        }
    }

    /// Place this type's data schema among a document's `definitions`
    /// (found at `path`, e.g. `#/components/schemas`) under its
    /// [`EventType::component_name`], its `$defs` beside it as
    /// `<component>.<name>`, and give the reference to it.
    pub fn publish_into(&self, definitions: &mut Map<String, Value>, path: &str) -> Value {
        let component = self.component_name();
        let mut schema = self.data_schema().clone();
        let from = "#/$defs/".to_owned();
        let to = format!("{path}/{component}.");
        if let Some(root) = schema.as_object_mut() {
            root.remove("$schema");
            if let Some(Value::Object(defs)) = root.remove("$defs") {
                for (name, mut def) in defs {
                    point_refs(&mut def, &from, &to);
                    definitions.insert(format!("{component}.{name}"), def);
                }
            }
        }
        point_refs(&mut schema, &from, &to);
        let reference = serde_json::json!({ "$ref": format!("{path}/{component}") });
        definitions.insert(component, schema);
        reference
    }
}

/// Rewrite every `$ref` starting with `from` to start with `to`.
fn point_refs(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(r) if key == "$ref" => {
                        if let Some(name) = r.strip_prefix(from) {
                            *r = format!("{to}{name}");
                        }
                    }
                    other => point_refs(other, from, to),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| point_refs(v, from, to)),
        _ => {}
    }
}

impl Vocabulary {
    /// Every type as `GET /v1/schemas` lists it.
    pub fn type_schemas(&self) -> Vec<TypeSchema> {
        self.types
            .iter()
            .map(|t| TypeSchema {
                name: t.name.clone(),
                version: t.version,
                origin: t.origin.as_str(),
                kind: t.kind.as_str(),
                topic: t.topic.clone(),
                key: t.key.clone(),
                customer_required: t.subject == SubjectRule::Required,
                description: t.description.clone(),
                data: t.data_schema().clone(),
            })
            .collect()
    }

    /// [`Vocabulary::type_schemas`] as JSON (served at `GET /v1/schemas`,
    /// printed by `streamplug schemas`).
    pub fn schemas_json(&self) -> Value {
        serde_json::to_value(self.type_schemas()).unwrap_or(Value::Null)
    }

    /// `docs/events.md`: the vocabulary as a reference page
    /// (`streamplug schemas --markdown`).
    pub fn reference_markdown(&self) -> String {
        let mut md = String::from(include_str!("events_intro.md"));
        md.push_str(
            "\n| type | kind | version | sent by | topic | partition key | meaning |\n|---|---|---|---|---|---|---|\n",
        );
        for t in &self.types {
            let topic = t
                .topic
                .as_deref()
                .map_or("by `[routes]`".into(), |t| format!("`{t}`"));
            let key = t
                .key
                .as_deref()
                .map_or("the customer".into(), |k| format!("`{k}`"));
            md.push_str(&format!(
                "| `{}` | {} | {} | {} | {topic} | {key} | {} |\n",
                t.name,
                t.kind.as_str(),
                t.version,
                t.origin.as_str(),
                t.description
            ));
        }
        for t in &self.types {
            let schema = serde_json::to_string_pretty(t.data_schema()).unwrap_or_default();
            let version = match t.version {
                1 => String::new(),
                v => format!(" (version {v})"),
            };
            md.push_str(&format!(
                "\n## `{}`{version}\n\n{}\n\n```json\n{schema}\n```\n",
                t.name, t.description
            ));
        }
        md
    }
}

/// One event type as `GET /v1/schemas` lists it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TypeSchema {
    /// The type's name, e.g. `product.viewed`.
    #[serde(rename = "type")]
    pub name: String,
    /// The version of its schema, from 1.
    pub version: u32,
    /// Who may send it: `customer` (about itself; keys and staff too),
    /// `backend` (keys and staff only) or `plugin` (the gateway's plugins
    /// only).
    pub origin: &'static str,
    /// `event` (a fact) or `command` (a request its one processor plugin
    /// accepts or refuses; send it to `POST /v1/commands`).
    pub kind: &'static str,
    /// The topic its definition names, if any (an exact route in the
    /// configuration wins; otherwise the routes decide).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The JSON pointer into the event of its partition key, if not the
    /// customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Whether every event of the type names a customer (`subject`).
    pub customer_required: bool,
    /// What it means.
    pub description: String,
    /// The JSON Schema (2020-12) of its `data`.
    pub data: Value,
}
