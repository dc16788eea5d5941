//! Tests of the BACKWARD compatibility check.

use serde_json::json;

use super::*;

fn order() -> Value {
    json!({
        "type": "object",
        "properties": {
            "order": {"type": "string", "minLength": 1, "maxLength": 128},
            "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Item"}},
            "note": {"type": ["string", "null"]}
        },
        "required": ["order", "items"],
        "$defs": {"Item": {"type": "object", "properties": {
            "quantity": {"type": "integer", "minimum": 1, "maximum": 100}},
            "required": ["quantity"]}}
    })
}

fn changed(edit: impl FnOnce(&mut Value)) -> Vec<Incompatibility> {
    let mut next = order();
    edit(&mut next);
    backward(&order(), &next)
}

#[test]
fn the_same_schema_and_new_optional_fields_and_looser_bounds_are_compatible() {
    assert_eq!(backward(&order(), &order()), []);
    let found = changed(|s| {
        s["properties"]["channel"] = json!({"type": "string", "enum": ["web", "app"]});
        s["properties"]["order"]["maxLength"] = json!(256);
        s["$defs"]["Item"]["properties"]["quantity"]["maximum"] = json!(1000);
        s["$defs"]["Item"]["properties"]["quantity"]["type"] = json!("number");
        s["required"] = json!(["items"]);
    });
    assert_eq!(found, []);
}

#[test]
fn removed_retyped_newly_required_and_tightened_fields_are_named() {
    type Edit = fn(&mut Value);
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            |s: &mut Value| {
                s["properties"].as_object_mut().unwrap().remove("note");
            },
            "/data/note",
            "removed",
        ),
        (
            |s: &mut Value| s["properties"]["order"]["type"] = json!("integer"),
            "/data/order",
            "was string",
        ),
        (
            |s: &mut Value| s["properties"]["note"]["type"] = json!("string"),
            "/data/note",
            "was null",
        ),
        (
            |s: &mut Value| s["required"] = json!(["order", "items", "note"]),
            "/data/note",
            "newly required",
        ),
        (
            |s: &mut Value| s["properties"]["order"]["maxLength"] = json!(64),
            "/data/order",
            "lowered",
        ),
        (
            |s: &mut Value| s["$defs"]["Item"]["properties"]["quantity"]["minimum"] = json!(2),
            "/data/items/*/quantity",
            "raised",
        ),
        (
            |s: &mut Value| s["$defs"]["Item"]["properties"]["quantity"]["type"] = json!("string"),
            "/data/items/*/quantity",
            "was integer",
        ),
        (
            |s: &mut Value| s["properties"]["order"]["pattern"] = json!("^o-"),
            "/data/order",
            "pattern",
        ),
        (
            |s: &mut Value| s["additionalProperties"] = json!(false),
            "/data",
            "additionalProperties",
        ),
        (
            |s: &mut Value| s["properties"]["note"]["enum"] = json!(["a"]),
            "/data/note",
            "enum",
        ),
        (
            |s: &mut Value| s["oneOf"] = json!([{"required": ["note"]}]),
            "/data",
            "oneOf",
        ),
    ];
    for (edit, field, says) in cases {
        let found = changed(edit);
        assert!(
            found
                .iter()
                .any(|i| i.field == field && i.reason.contains(says)),
            "{field} {says}: {found:?}"
        );
    }
}

#[test]
fn items_constrained_where_anything_went_are_named() {
    let previous = json!({"type": "object", "properties": {"tags": {"type": "array"}}});
    let next = json!({"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}}}});
    let found = backward(&previous, &next);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].field, "/data/tags/*");
    assert_eq!(backward(&next, &previous), []);
}

#[test]
fn a_narrowed_enum_names_the_value_dropped() {
    let previous = json!({"type": "object", "properties": {"c": {"enum": ["sms", "email"]}}});
    let next = json!({"type": "object", "properties": {"c": {"enum": ["sms"]}}});
    let found = backward(&previous, &next);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].field, "/data/c");
    assert!(found[0].reason.contains("\"email\""), "{}", found[0]);
}
