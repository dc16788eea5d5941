//! The event vocabulary: the payload (`data`) of every event type the gateway
//! accepts at ingest, as Rust types. Their JSON Schemas (generated with
//! `schemars`, published in `docs/events.md` and at `GET /v1/schemas`) and
//! the validation at ingest come from the same definitions.

use std::collections::HashMap;
use std::sync::OnceLock;

use schemars::{Schema, SchemaGenerator, schema_for};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::cloudevents::FieldError;
use super::schema_check::CompiledSchema;

pub use super::data::*;

/// Who may send a type at ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A customer's own session or token may send it, about itself
    /// (views, cart changes, support messages); keys and staff too, as
    /// their scopes allow.
    Customer,
    /// Only the shop's backend (a key or staff whose scopes name it):
    /// orders, profile changes, delivery reports.
    Backend,
}

impl Origin {
    /// As written in the reference.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Backend => "backend",
        }
    }
}

/// One entry of the vocabulary.
#[derive(Debug, Clone, Copy)]
pub struct EventType {
    /// The CloudEvents `type`.
    pub name: &'static str,
    /// Who may send it.
    pub origin: Origin,
    /// What it means, one sentence.
    pub description: &'static str,
    schema: fn() -> Schema,
    /// The schema of its `data` as `generator` places it: a reference to
    /// the type's definition, for the published documents.
    pub subschema: fn(&mut SchemaGenerator) -> Schema,
    validate: fn(&Value, &CompiledSchema, &str) -> Result<(), FieldError>,
}

impl EventType {
    /// The JSON Schema of this type's `data`, generated once per process.
    pub fn data_schema(&self) -> &'static Schema {
        static SCHEMAS: OnceLock<HashMap<&'static str, Schema>> = OnceLock::new();
        static ANY: OnceLock<Schema> = OnceLock::new();
        SCHEMAS
            .get_or_init(|| VOCABULARY.iter().map(|t| (t.name, (t.schema)())).collect())
            .get(self.name)
            // Every EventType is an entry of VOCABULARY; this is never reached.
            .unwrap_or_else(|| ANY.get_or_init(Schema::default))
    }

    /// [`EventType::data_schema`], compiled once per process.
    fn compiled_schema(&self) -> &'static CompiledSchema {
        static COMPILED: OnceLock<HashMap<&'static str, CompiledSchema>> = OnceLock::new();
        static NONE: CompiledSchema = CompiledSchema::NONE;
        COMPILED
            .get_or_init(|| {
                VOCABULARY
                    .iter()
                    .map(|t| (t.name, CompiledSchema::of(t.name, t.data_schema())))
                    .collect()
            })
            .get(self.name)
            .unwrap_or(&NONE)
    }
}

macro_rules! event_type {
    ($name:literal, $ty:ty, $origin:ident, $desc:literal) => {
        EventType {
            name: $name,
            origin: Origin::$origin,
            description: $desc,
            schema: || schema_for!($ty),
            subschema: |generator| generator.subschema_for::<$ty>(),
            validate: |v, schema, at| check::<$ty>(v, schema, at),
        }
    };
}

/// Every event type accepted at ingest.
pub const VOCABULARY: &[EventType] = &[
    event_type!(
        "page.viewed",
        PageData,
        Customer,
        "A customer opened a page of the shop."
    ),
    event_type!(
        "product.viewed",
        ProductData,
        Customer,
        "A customer looked at a product."
    ),
    event_type!(
        "cart.item_added",
        ProductData,
        Customer,
        "A customer put a product in the cart."
    ),
    event_type!(
        "cart.item_removed",
        CartRemovalData,
        Customer,
        "A customer took a product out of the cart."
    ),
    event_type!(
        "customer.updated",
        CustomerData,
        Backend,
        "A customer registered or changed their contact details."
    ),
    event_type!(
        "order.placed",
        OrderPlacedData,
        Backend,
        "A customer placed an order."
    ),
    event_type!("order.paid", OrderStatusData, Backend, "An order was paid."),
    event_type!(
        "order.shipped",
        OrderStatusData,
        Backend,
        "An order left the warehouse."
    ),
    event_type!(
        "order.delivered",
        OrderStatusData,
        Backend,
        "An order reached the customer."
    ),
    event_type!(
        "order.cancelled",
        OrderStatusData,
        Backend,
        "An order was cancelled."
    ),
    event_type!(
        "support.message",
        SupportMessageData,
        Customer,
        "A customer wrote to support (chat)."
    ),
    event_type!(
        "message.status",
        MessageStatusData,
        Backend,
        "A message sent to a customer (SMS, email) reached a delivery status, as the CPaaS reported it."
    ),
];

/// Every type with its description and data schema, as JSON (served at
/// `GET /v1/schemas`, printed by `streamplug schemas`).
pub fn schemas_json() -> Value {
    serde_json::to_value(type_schemas()).unwrap_or(Value::Null)
}

/// One event type as `GET /v1/schemas` lists it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct TypeSchema {
    /// The type's name, e.g. `product.viewed`.
    #[serde(rename = "type")]
    pub name: &'static str,
    /// Who may send it: `customer` (about itself; keys and staff too) or
    /// `backend` (keys and staff only).
    pub origin: &'static str,
    /// What it means.
    pub description: &'static str,
    /// The JSON Schema (2020-12) of its `data`.
    pub data: Value,
}

/// Every type of the vocabulary, with its data's schema.
pub fn type_schemas() -> Vec<TypeSchema> {
    VOCABULARY
        .iter()
        .map(|t| TypeSchema {
            name: t.name,
            origin: t.origin.as_str(),
            description: t.description,
            data: t.data_schema().as_value().clone(),
        })
        .collect()
}

/// `docs/events.md`: the vocabulary as a reference page, generated from
/// these definitions (`streamplug schemas --markdown`).
pub fn reference_markdown() -> String {
    let mut md = String::from(include_str!("events_intro.md"));
    md.push_str("\n| type | sent by | meaning |\n|---|---|---|\n");
    for t in VOCABULARY {
        md.push_str(&format!(
            "| `{}` | {} | {} |\n",
            t.name,
            t.origin.as_str(),
            t.description
        ));
    }
    for t in VOCABULARY {
        let schema = serde_json::to_string_pretty(&t.data_schema()).unwrap_or_default();
        md.push_str(&format!(
            "\n## `{}`\n\n{}\n\n```json\n{schema}\n```\n",
            t.name, t.description
        ));
    }
    md
}

/// The vocabulary entry for `name`, if it is a known type.
pub fn lookup(name: &str) -> Option<&'static EventType> {
    VOCABULARY.iter().find(|t| t.name == name)
}

/// Validate an ingested event's type, subject and data.
///
/// `at` is the JSON pointer of the event within the request body.
pub fn validate(
    ty: &str,
    subject: Option<&str>,
    data: Option<&Value>,
    at: &str,
) -> Result<(), FieldError> {
    let Some(entry) = lookup(ty) else {
        let known: Vec<_> = VOCABULARY.iter().map(|t| t.name).collect();
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
    (entry.validate)(data, entry.compiled_schema(), &format!("{at}/data"))
}

/// Check `value` against `schema` (T's), then deserialize it into `T`,
/// naming the failing field either way.
fn check<T: DeserializeOwned>(
    value: &Value,
    schema: &CompiledSchema,
    at: &str,
) -> Result<(), FieldError> {
    // The published schema first: it holds every constraint; then serde,
    // so what is stored is what the type's readers can deserialize.
    schema.check(value, at)?;
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| {
        let path = e.path().to_string();
        let mut pointer = if path == "." {
            at.to_owned()
        } else {
            format!("{at}/{}", path.replace(['.', '['], "/").replace(']', ""))
        };
        let message = e.into_inner().to_string();
        // serde reports a missing field at its parent: point at the field itself.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            pointer = format!("{pointer}/{field}");
        }
        FieldError::new(pointer, message)
    })?;
    Ok(())
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
    fn every_type_has_an_object_schema() {
        for t in VOCABULARY {
            let schema = t.data_schema();
            assert_eq!(schema.get("type"), Some(&json!("object")), "{}", t.name);
        }
    }
}
