use serde_json::json;

use super::*;
use crate::event::vocabulary::Vocabulary;

fn vocabulary(schema: serde_json::Value) -> Vocabulary {
    let mut file = json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "Stock changed.", "type": "object",
        "x-streamplug": {"type": "inventory.adjusted", "version": 2, "origin": "backend",
                         "key": "/data/sku", "subject": "optional"}});
    for (k, v) in schema.as_object().unwrap() {
        file[k] = v.clone();
    }
    Vocabulary::from_files([("a.json", file.to_string().as_str())]).unwrap()
}

fn sample() -> Vocabulary {
    vocabulary(json!({
        "properties": {
            "sku": {"type": "string", "description": "Product id."},
            "delta": {"type": "integer"},
            "type": {"type": "string", "enum": ["manual", "count"]},
            "note": {"type": ["string", "null"]},
            "lots": {"type": "array", "items": {"$ref": "#/$defs/Lot"}},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "extra": {}
        },
        "required": ["sku", "delta"],
        "$defs": {"Lot": {"type": "object", "properties": {"id": {"type": "string"}, "count-left": {"type": "number"}}, "required": ["id"]}}
    }))
}

#[test]
fn the_model_names_records_after_the_type_and_places_used_ones_first() {
    let model = Model::of(&sample());
    let names: Vec<&str> = model.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["InventoryAdjustedV2Lot", "InventoryAdjustedV2"]);
    let root = &model.records[1];
    assert_eq!(root.event_type.as_deref(), Some("inventory.adjusted"));
    let shape = |name: &str| &root.fields.iter().find(|f| f.name == name).unwrap().shape;
    assert_eq!(
        shape("lots"),
        &Shape::List(Box::new(Shape::Record("InventoryAdjustedV2Lot".into())))
    );
    assert_eq!(
        shape("note"),
        &Shape::Nullable(Box::new(Shape::String { values: vec![] }))
    );
    assert_eq!(
        shape("tags"),
        &Shape::Map(Box::new(Shape::String { values: vec![] }))
    );
    assert_eq!(shape("extra"), &Shape::Any);
    assert_eq!(
        type_name("order.cancel.requested", 1),
        "OrderCancelRequested"
    );
    assert_eq!(type_name("cart.item_added", 1), "CartItemAdded");
}

#[test]
fn rust_types_rename_what_is_not_an_identifier_and_leave_out_absent_options() {
    let text = generate(&sample(), Lang::Rust);
    assert!(text.contains("pub struct InventoryAdjustedV2 {"), "{text}");
    assert!(text.contains("    pub sku: String,"), "{text}");
    assert!(text.contains("    pub r#type: Option<String>,"), "{text}");
    assert!(
        text.contains("    #[serde(rename = \"count-left\")]\n    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n    pub count_left: Option<f64>,"),
        "{text}"
    );
    assert!(
        text.contains("pub lots: Option<Vec<InventoryAdjustedV2Lot>>"),
        "{text}"
    );
    assert!(
        text.contains("pub const TYPE: &'static str = \"inventory.adjusted\";"),
        "{text}"
    );
}

#[test]
fn python_and_typescript_types_say_what_is_required() {
    let py = generate(&sample(), Lang::Python);
    assert!(py.contains("        \"sku\": Required[str],"), "{py}");
    assert!(
        py.contains("        \"type\": Literal[\"manual\", \"count\"],"),
        "{py}"
    );
    assert!(py.contains("        \"count-left\": float,"), "{py}");
    assert!(
        py.contains("    \"inventory.adjusted\": InventoryAdjustedV2,"),
        "{py}"
    );
    let ts = generate(&sample(), Lang::Ts);
    assert!(ts.contains("  sku: string;"), "{ts}");
    assert!(ts.contains("  note?: string | null;"), "{ts}");
    assert!(ts.contains("  \"count-left\"?: number;"), "{ts}");
    assert!(ts.contains("  type?: \"manual\" | \"count\";"), "{ts}");
    assert!(
        ts.contains("  \"inventory.adjusted\": InventoryAdjustedV2;"),
        "{ts}"
    );
}

/// The SDKs carry the standard vocabulary's types, generated (`make docs`).
#[test]
fn the_sdks_types_match_the_standard_vocabulary() {
    let standard = Vocabulary::standard();
    for (path, lang) in [
        ("sdk/src/vocabulary.rs", Lang::Rust),
        ("sdk/python/streamplug/vocabulary.py", Lang::Python),
        ("sdk/js/streamplug/vocabulary.d.ts", Lang::Ts),
        ("sdk/js/streamplug/vocabulary.js", Lang::Js),
    ] {
        crate::docs_file::assert_file_current(path, &generate(standard, lang));
    }
}

/// During a migration both versions are accepted: an event's data is either.
#[test]
fn a_type_with_two_accepted_versions_is_either_and_requires_what_both_do() {
    let file = |version: u32, required: serde_json::Value| {
        json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "Stock changed.", "type": "object",
            "x-streamplug": {"type": "inventory.adjusted", "version": version, "origin": "backend",
                             "key": "/data/sku", "subject": "optional"},
            "properties": {"sku": {"type": "string"}, "delta": {"type": "integer"}, "count": {"type": "integer"}},
            "required": required})
        .to_string()
    };
    // The newer file first: the model still puts the older version first.
    let v2 = file(2, json!(["sku", "count"]));
    let v1 = file(1, json!(["sku", "delta"]));
    let both = Vocabulary::from_files([("b.json", v2.as_str()), ("a.json", v1.as_str())]).unwrap();
    let ts = generate(&both, Lang::Ts);
    assert!(
        ts.contains("  \"inventory.adjusted\": InventoryAdjusted | InventoryAdjustedV2;"),
        "{ts}"
    );
    let js = generate(&both, Lang::Js);
    assert!(
        js.contains("\"inventory.adjusted\": Object.freeze({ name: \"InventoryAdjustedV2\", required: Object.freeze([\"sku\"]) }),"),
        "{js}"
    );
    let py = generate(&both, Lang::Python);
    assert!(
        py.contains("    \"inventory.adjusted\": InventoryAdjustedV2,\n}"),
        "{py}"
    );
}
