//! The vocabulary: the standard set, type files and directories, validation.

use super::*;
use serde_json::{Map, json};

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
fn a_same_version_replaces_in_place_a_new_version_joins_and_a_new_type_is_added() {
    let standard = STANDARD_FILES.iter().copied();
    let file = |version: u32, description: &str, properties: &str, required: &str| {
        format!(
            r#"{{"$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "{description}", "type": "object",
            "x-streamplug": {{"type": "product.viewed", "version": {version}, "origin": "customer"}},
            "properties": {properties}, "required": {required}}}"#
        )
    };
    let same = file(
        1,
        "Looked at, v1 again.",
        r#"{"product": {"type": "string"}}"#,
        r#"["product"]"#,
    );
    let next = file(
        2,
        "Looked at, v2.",
        r#"{"sku": {"type": "string"}}"#,
        r#"["sku"]"#,
    );
    let added = r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "A customer rated the shop.", "type": "object",
        "x-streamplug": {"type": "feedback.submitted", "version": 1, "origin": "customer"},
        "properties": {"stars": {"type": "integer", "minimum": 1, "maximum": 5}},
        "required": ["stars"]}"#;
    let v = Vocabulary::from_files(standard.chain([
        ("a.json", same.as_str()),
        ("b.json", next.as_str()),
        ("c.json", added),
    ]))
    .unwrap();
    assert_eq!(v.types().len(), STANDARD_FILES.len() + 2);
    assert_eq!(
        v.types()[1].description,
        "Looked at, v1 again.",
        "replaced in place"
    );
    assert_eq!(v.lookup("product.viewed").unwrap().version, 2, "the newest");
    // Both versions accepted; each event checked against the one it fits,
    // or the one its `dataschema` names.
    let v1 = json!({"product": "p"});
    let v2 = json!({"sku": "s"});
    let version = |data: &Value, schema: Option<&str>| {
        v.validate("product.viewed", schema, Some("c"), Some(data), "")
            .map(|t| t.version)
    };
    assert_eq!(version(&v2, None), Ok(2));
    assert_eq!(version(&v1, None), Ok(1));
    let v2_uri = "urn:streamplug:schema:product.viewed:2";
    assert_eq!(v.lookup("product.viewed").unwrap().schema_uri(), v2_uri);
    let err = version(&v1, Some(v2_uri)).unwrap_err();
    assert_eq!(err.pointer, "/data/sku", "checked against v2 only");
    assert_eq!(
        version(&v1, Some("https://elsewhere.example/s.json")),
        Ok(1)
    );
    let err = version(&json!({}), None).unwrap_err();
    assert_eq!(err.pointer, "/data/sku", "the newest version's reason");
    let err = v.validate(
        "feedback.submitted",
        None,
        Some("c"),
        Some(&json!({"stars": 9})),
        "/0",
    );
    assert_eq!(err.unwrap_err().pointer, "/0/data/stars");
}

#[test]
fn a_directory_adds_and_replaces_types_in_name_order() {
    let dir = std::env::temp_dir().join(format!("sp-vocab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inventory = r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "The stock of a product changed.", "type": "object",
        "x-streamplug": {"type": "inventory.adjusted", "version": 1, "origin": "backend",
                         "topic": "inventory", "key": "/data/sku", "subject": "optional"},
        "properties": {"sku": {"type": "string"}, "delta": {"type": "integer"}},
        "required": ["sku", "delta"]}"#;
    std::fs::write(dir.join("inventory.adjusted.json"), inventory).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a type").unwrap();
    let v = Vocabulary::load(true, Some(&dir)).unwrap();
    assert_eq!(v.types().len(), STANDARD_FILES.len() + 1);
    let only = Vocabulary::load(false, Some(&dir)).unwrap();
    assert_eq!(only.types().len(), 1);
    let t = only.lookup("inventory.adjusted").unwrap();
    only.validate(
        "inventory.adjusted",
        None,
        None,
        Some(&json!({"sku": "s", "delta": -1})),
        "",
    )
    .unwrap();
    let key = t.partition_key(&json!({"sku": "s-1", "delta": 2}), "/0");
    assert_eq!(key, Some(Ok("s-1".to_owned())));
    assert!(
        lookup("order.placed")
            .unwrap()
            .partition_key(&json!({}), "")
            .is_none()
    );
    std::fs::write(dir.join("broken.json"), "{").unwrap();
    let err = Vocabulary::load(true, Some(&dir)).unwrap_err();
    assert!(err.file.ends_with("broken.json"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    let err = Vocabulary::load(true, Some(&dir)).unwrap_err();
    assert!(err.file.contains("sp-vocab"), "{err}");
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
