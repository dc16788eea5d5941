//! The event vocabulary: every event type the gateway accepts at ingest,
//! each read from a type file ([`super::type_file`]: a JSON Schema of its
//! `data` with its metadata). The shipped e-commerce types are the
//! standard set, built into the binary from `wire/event-types/`; their
//! reference (`docs/events.md`), `GET /v1/schemas`, the published API
//! documents and the validation at ingest all come from the same files.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::field_error::FieldError;
use super::schema_check::CompiledSchema;
pub use super::type_file::{Origin, TypeFile, TypeFileError};

/// The standard set: file name and text of each type file, in the order
/// the reference lists them.
const STANDARD_FILES: &[(&str, &str)] = &[
    (
        "page.viewed.json",
        include_str!("../../event-types/page.viewed.json"),
    ),
    (
        "product.viewed.json",
        include_str!("../../event-types/product.viewed.json"),
    ),
    (
        "cart.item_added.json",
        include_str!("../../event-types/cart.item_added.json"),
    ),
    (
        "cart.item_removed.json",
        include_str!("../../event-types/cart.item_removed.json"),
    ),
    (
        "customer.updated.json",
        include_str!("../../event-types/customer.updated.json"),
    ),
    (
        "order.placed.json",
        include_str!("../../event-types/order.placed.json"),
    ),
    (
        "order.paid.json",
        include_str!("../../event-types/order.paid.json"),
    ),
    (
        "order.shipped.json",
        include_str!("../../event-types/order.shipped.json"),
    ),
    (
        "order.delivered.json",
        include_str!("../../event-types/order.delivered.json"),
    ),
    (
        "order.cancelled.json",
        include_str!("../../event-types/order.cancelled.json"),
    ),
    (
        "support.message.json",
        include_str!("../../event-types/support.message.json"),
    ),
    (
        "message.status.json",
        include_str!("../../event-types/message.status.json"),
    ),
];

/// One event type of the vocabulary.
#[derive(Debug)]
pub struct EventType {
    /// The CloudEvents `type`.
    pub name: String,
    /// The version of its schema.
    pub version: u32,
    /// Who may send it.
    pub origin: Origin,
    /// What it means, one sentence.
    pub description: String,
    schema: CompiledSchema,
}

impl EventType {
    fn from_file(file: &str, text: &str) -> Result<Self, TypeFileError> {
        let t = TypeFile::parse(file, text)?;
        let schema = CompiledSchema::compile(t.schema).map_err(|reason| TypeFileError {
            file: file.to_owned(),
            reason,
        })?;
        Ok(Self {
            name: t.name,
            version: t.version,
            origin: t.origin,
            description: t.description,
            schema,
        })
    }

    /// The JSON Schema (2020-12) of this type's `data`, as its file has it.
    pub fn data_schema(&self) -> &Value {
        self.schema.schema()
    }

    /// Place this type's data schema among a document's `definitions`
    /// (found at `path`, e.g. `#/components/schemas`) under the type's
    /// name, its `$defs` beside it as `<type>.<name>`, and give the
    /// reference to it.
    pub fn publish_into(&self, definitions: &mut Map<String, Value>, path: &str) -> Value {
        let mut schema = self.data_schema().clone();
        let from = "#/$defs/".to_owned();
        let to = format!("{path}/{}.", self.name);
        if let Some(root) = schema.as_object_mut() {
            root.remove("$schema");
            if let Some(Value::Object(defs)) = root.remove("$defs") {
                for (name, mut def) in defs {
                    point_refs(&mut def, &from, &to);
                    definitions.insert(format!("{}.{name}", self.name), def);
                }
            }
        }
        point_refs(&mut schema, &from, &to);
        definitions.insert(self.name.clone(), schema);
        serde_json::json!({ "$ref": format!("{path}/{}", self.name) })
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

/// A set of event types, each compiled once.
#[derive(Debug, Default)]
pub struct Vocabulary {
    types: Vec<EventType>,
}

impl Vocabulary {
    /// The standard e-commerce vocabulary, loaded once per process.
    pub fn standard() -> &'static Self {
        static STANDARD: OnceLock<Vocabulary> = OnceLock::new();
        STANDARD.get_or_init(|| {
            Self::from_files(STANDARD_FILES.iter().copied()).unwrap_or_else(|e| {
                // The files are ours and a test loads them: never reached.
                tracing::error!(error = %e, "the standard event vocabulary does not load");
                Self::default()
            })
        })
    }

    /// The types of `files` (name and text of each), in order; a type
    /// named again replaces the earlier one in its place.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, TypeFileError> {
        let mut vocabulary = Self::default();
        for (file, text) in files {
            vocabulary.insert(EventType::from_file(file, text)?);
        }
        Ok(vocabulary)
    }

    fn insert(&mut self, t: EventType) {
        match self.types.iter_mut().find(|old| old.name == t.name) {
            Some(old) => *old = t,
            None => self.types.push(t),
        }
    }

    /// Every type, in order.
    pub fn types(&self) -> &[EventType] {
        &self.types
    }

    /// The type named `name`, if there is one.
    pub fn lookup(&self, name: &str) -> Option<&EventType> {
        self.types.iter().find(|t| t.name == name)
    }

    /// Validate an ingested event's type, subject and data.
    ///
    /// `at` is the JSON pointer of the event within the request body.
    pub fn validate(
        &self,
        ty: &str,
        subject: Option<&str>,
        data: Option<&Value>,
        at: &str,
    ) -> Result<(), FieldError> {
        let Some(entry) = self.lookup(ty) else {
            let known: Vec<_> = self.types.iter().map(|t| t.name.as_str()).collect();
            return Err(FieldError::new(
                format!("{at}/type"),
                format!(
                    "unknown event type `{ty}`; known types: {}",
                    known.join(", ")
                ),
            ));
        };
        // Every type of the vocabulary is about one customer.
        if subject.is_none() {
            return Err(FieldError::new(
                format!("{at}/subject"),
                format!("`{ty}` needs the customer id in `subject` (or `customer`)"),
            ));
        }
        let Some(data) = data else {
            return Err(FieldError::new(
                format!("{at}/data"),
                "JSON `data` is required for this type",
            ));
        };
        entry.schema.check(data, &format!("{at}/data"))
    }

    /// Every type as `GET /v1/schemas` lists it.
    pub fn type_schemas(&self) -> Vec<TypeSchema> {
        self.types
            .iter()
            .map(|t| TypeSchema {
                name: t.name.clone(),
                version: t.version,
                origin: t.origin.as_str(),
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
        md.push_str("\n| type | version | sent by | meaning |\n|---|---|---|---|\n");
        for t in &self.types {
            md.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                t.name,
                t.version,
                t.origin.as_str(),
                t.description
            ));
        }
        for t in &self.types {
            let schema = serde_json::to_string_pretty(t.data_schema()).unwrap_or_default();
            md.push_str(&format!(
                "\n## `{}`\n\n{}\n\n```json\n{schema}\n```\n",
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
    /// Who may send it: `customer` (about itself; keys and staff too) or
    /// `backend` (keys and staff only).
    pub origin: &'static str,
    /// What it means.
    pub description: String,
    /// The JSON Schema (2020-12) of its `data`.
    pub data: Value,
}

/// Validate an ingested event against the standard vocabulary
/// ([`Vocabulary::validate`]).
pub fn validate(
    ty: &str,
    subject: Option<&str>,
    data: Option<&Value>,
    at: &str,
) -> Result<(), FieldError> {
    Vocabulary::standard().validate(ty, subject, data, at)
}

/// The standard vocabulary's type named `name`, if there is one.
pub fn lookup(name: &str) -> Option<&'static EventType> {
    Vocabulary::standard().lookup(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_valid_order_passes() {
        let data = json!({"order": "o1", "items": [{"product": "p1", "quantity": 2, "price": 9.5}],
                          "total": 19.0, "currency": "EUR"});
        validate("order.placed", Some("c1"), Some(&data), "").unwrap();
    }

    #[test]
    fn problems_name_the_field() {
        let cases = [
            ("product.viewed", json!({"price": 3}), "/data/product"),
            (
                "product.viewed",
                json!({"product": "p", "price": -1}),
                "/data/price",
            ),
            ("product.viewed", json!({"product": ""}), "/data/product"),
            (
                "order.placed",
                json!({"order": "o", "items": [], "total": 1, "currency": "EUR"}),
                "/data/items",
            ),
            (
                "order.placed",
                json!({"order": "o", "items": [{"product": "p", "quantity": 0, "price": 1}],
                                    "total": 1, "currency": "EUR"}),
                "/data/items/0/quantity",
            ),
            (
                "order.placed",
                json!({"order": "o", "items": [{"product": "p", "quantity": 1, "price": 1}],
                                    "total": 1, "currency": "euro"}),
                "/data/currency",
            ),
            ("support.message", json!({"text": 42}), "/data/text"),
            // Every keyword of the schema holds, nested ones too (a
            // maximum inside an item was let through by the hand-written
            // checker; Schemathesis found it).
            (
                "order.placed",
                json!({"order": "o", "items": [{"product": "p", "quantity": 1_000_001, "price": 1}],
                                    "total": 1, "currency": "EUR"}),
                "/data/items/0/quantity",
            ),
        ];
        for (ty, data, pointer) in cases {
            let err = validate(ty, Some("c"), Some(&data), "").unwrap_err();
            assert_eq!(err.pointer, pointer, "{ty} {data}: {err}");
        }
    }

    #[test]
    fn a_pattern_violation_says_what_the_field_is() {
        let data = json!({"order": "o", "items": [{"product": "p", "quantity": 1, "price": 1}],
                          "total": 1, "currency": "euro"});
        let err = validate("order.placed", Some("c"), Some(&data), "").unwrap_err();
        assert!(
            err.message.contains("^[A-Z]{3}$") && err.message.contains("ISO 4217"),
            "{err}"
        );
    }

    #[test]
    fn unknown_types_and_missing_customers_are_refused() {
        let err = validate("product.teleported", Some("c"), Some(&json!({})), "/2").unwrap_err();
        assert_eq!(err.pointer, "/2/type");
        assert!(err.message.contains("product.viewed"));
        let err = validate("product.viewed", None, Some(&json!({"product": "p"})), "").unwrap_err();
        assert_eq!(err.pointer, "/subject");
    }

    #[test]
    fn the_standard_set_loads_every_file_in_its_directory_in_order() {
        let v = Vocabulary::standard();
        assert_eq!(v.types().len(), STANDARD_FILES.len());
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/event-types");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = STANDARD_FILES
            .iter()
            .map(|(f, _)| (*f).to_owned())
            .collect();
        listed.sort();
        assert_eq!(listed, on_disk, "STANDARD_FILES lists every file");
        for ((file, _), t) in STANDARD_FILES.iter().zip(v.types()) {
            assert_eq!(
                *file,
                format!("{}.json", t.name),
                "a file is named after its type"
            );
            assert_eq!(t.data_schema().get("type"), Some(&json!("object")));
        }
    }

    #[test]
    fn a_later_file_replaces_a_type_in_its_place_and_a_new_one_is_added() {
        let standard = STANDARD_FILES.iter().copied();
        let replaced = r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "A customer looked at a product, v2.", "type": "object",
            "x-streamplug": {"type": "product.viewed", "version": 2, "origin": "customer"},
            "properties": {"sku": {"type": "string"}}, "required": ["sku"]}"#;
        let added = r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "A customer rated the shop.", "type": "object",
            "x-streamplug": {"type": "feedback.submitted", "version": 1, "origin": "customer"},
            "properties": {"stars": {"type": "integer", "minimum": 1, "maximum": 5}},
            "required": ["stars"]}"#;
        let v = Vocabulary::from_files(standard.chain([("a.json", replaced), ("b.json", added)]))
            .unwrap();
        assert_eq!(v.types().len(), STANDARD_FILES.len() + 1);
        assert_eq!(v.types()[1].version, 2);
        v.validate("product.viewed", Some("c"), Some(&json!({"sku": "s"})), "")
            .unwrap();
        let err = v.validate(
            "feedback.submitted",
            Some("c"),
            Some(&json!({"stars": 9})),
            "/0",
        );
        assert_eq!(err.unwrap_err().pointer, "/0/data/stars");
    }

    #[test]
    fn a_schema_that_does_not_compile_is_refused_naming_the_file() {
        let bad = r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "Broken.", "type": "object",
            "x-streamplug": {"type": "a.b", "version": 1, "origin": "backend"},
            "properties": {"x": {"type": "strung"}}}"#;
        let err = Vocabulary::from_files([("types/a.b.json", bad)]).unwrap_err();
        assert_eq!(err.file, "types/a.b.json");
        assert!(err.reason.contains("does not compile"), "{err}");
    }

    #[test]
    fn published_schemas_keep_their_definitions_beside_them() {
        let mut definitions = Map::new();
        let placed = lookup("order.placed").unwrap();
        let r = placed.publish_into(&mut definitions, "#/components/schemas");
        assert_eq!(r, json!({"$ref": "#/components/schemas/order.placed"}));
        assert_eq!(
            definitions["order.placed"]["properties"]["items"]["items"]["$ref"],
            json!("#/components/schemas/order.placed.OrderItem")
        );
        assert!(definitions["order.placed.OrderItem"].is_object());
        assert!(definitions["order.placed"].get("$defs").is_none());
    }
}
