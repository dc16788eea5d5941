//! Schema evolution: whether a type's new data schema still accepts every
//! event its previous schema accepted (Confluent Schema Registry's BACKWARD
//! rule, as it reads JSON Schema): readers on the new schema must read what
//! was written under the old one. A new optional field is fine; a removed
//! field, a changed type, a newly required field, a closed object that was
//! open, or a tighter bound, enum, pattern or format is not, and each is
//! named by the field it is at. Compositions (`allOf`, `anyOf`, `oneOf`,
//! `not`, `if`) must stay as they were: their compatibility is not decided
//! here, so a change to one needs a new version.

use serde_json::{Map, Value};

/// One way a new schema refuses what the previous one accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatibility {
    /// Where, as a pointer into the event (`/data/items/*/quantity`; `*`
    /// for any item of an array).
    pub field: String,
    /// What changed.
    pub reason: String,
}

impl std::fmt::Display for Incompatibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Every way `next` refuses data `previous` accepted (both whole data
/// schemas, their `$defs` resolved); empty when `next` is backward
/// compatible.
pub fn backward(previous: &Value, next: &Value) -> Vec<Incompatibility> {
    let mut found = Vec::new();
    let roots = Roots { previous, next };
    compare(&roots, previous, next, "/data", 0, &mut found);
    found
}

/// The two root schemas, for `$ref`s into their `$defs`.
struct Roots<'a> {
    previous: &'a Value,
    next: &'a Value,
}

/// Deepest nesting followed (a recursive `$ref` stops here).
const MAX_DEPTH: usize = 32;

const COMPOSITIONS: &[&str] = &["allOf", "anyOf", "oneOf", "not", "if", "then", "else"];

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut schema = schema;
    for _ in 0..MAX_DEPTH {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(target) => schema = target,
                None => return schema,
            },
            None => return schema,
        }
    }
    schema
}

fn compare(
    roots: &Roots<'_>,
    previous: &Value,
    next: &Value,
    field: &str,
    depth: usize,
    found: &mut Vec<Incompatibility>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let previous = resolve(roots.previous, previous);
    let next = resolve(roots.next, next);
    let mut refuse = |reason: String| {
        found.push(Incompatibility {
            field: field.to_owned(),
            reason,
        });
    };
    // `true` accepts anything, as `{}` does; `false` nothing.
    let anything = Map::new();
    let (Some(p), Some(n)) = (as_map(previous, &anything), as_map(next, &anything)) else {
        if next == &Value::Bool(false) && previous != &Value::Bool(false) {
            refuse("no longer accepted at all".into());
        }
        return;
    };
    for keyword in COMPOSITIONS {
        if p.get(*keyword) != n.get(*keyword) {
            refuse(format!(
                "`{keyword}` changed: compositions must stay as they were within a version"
            ));
        }
    }
    types(p, n, &mut refuse);
    bounds(p, n, LOWER_BOUNDS, true, &mut refuse);
    bounds(p, n, UPPER_BOUNDS, false, &mut refuse);
    for keyword in [
        "pattern",
        "format",
        "const",
        "multipleOf",
        "uniqueItems",
        "propertyNames",
    ] {
        if let Some(now) = n.get(keyword)
            && p.get(keyword) != Some(now)
        {
            refuse(format!("`{keyword}` is now {now}"));
        }
    }
    if let Some(Value::Array(now)) = n.get("enum") {
        match p.get("enum") {
            Some(Value::Array(before)) => {
                for value in before.iter().filter(|v| !now.contains(v)) {
                    refuse(format!("{value} is no longer one of the `enum` values"));
                }
            }
            _ => refuse("now limited to an `enum`".into()),
        }
    }
    objects(roots, p, n, field, depth, found);
    if let (Some(before), Some(now)) = (p.get("items"), n.get("items")) {
        compare(roots, before, now, &format!("{field}/*"), depth + 1, found);
    } else if let Some(now) = n.get("items") {
        compare(
            roots,
            &Value::Bool(true),
            now,
            &format!("{field}/*"),
            depth + 1,
            found,
        );
    }
}

/// A schema as an object of keywords (`true` as `anything`, which is
/// empty); `None` for `false`.
fn as_map<'a>(
    schema: &'a Value,
    anything: &'a Map<String, Value>,
) -> Option<&'a Map<String, Value>> {
    match schema {
        Value::Object(m) => Some(m),
        Value::Bool(true) => Some(anything),
        _ => None,
    }
}

/// The JSON types a schema allows; `None` for any.
fn type_set(schema: &Map<String, Value>) -> Option<Vec<&str>> {
    match schema.get("type")? {
        Value::String(t) => Some(vec![t.as_str()]),
        Value::Array(ts) => Some(ts.iter().filter_map(Value::as_str).collect()),
        _ => None,
    }
}

fn types(p: &Map<String, Value>, n: &Map<String, Value>, refuse: &mut impl FnMut(String)) {
    let Some(now) = type_set(n) else {
        return;
    };
    let allows = |t: &str| now.contains(&t) || (t == "integer" && now.contains(&"number"));
    match type_set(p) {
        None => refuse(format!("now limited to type {}", now.join(" or "))),
        Some(before) => {
            for t in before.into_iter().filter(|t| !allows(t)) {
                refuse(format!(
                    "was {t}, now {}: a changed type needs a new version",
                    now.join(" or ")
                ));
            }
        }
    }
}

/// The bounds where a higher value accepts less (`minimum` and the rest).
const LOWER_BOUNDS: [&str; 5] = [
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
];
/// The bounds where a lower value accepts less.
const UPPER_BOUNDS: [&str; 5] = [
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
];

/// Refuse each of `keywords` that `n` adds, or moves the way that accepts
/// less: up for lower bounds, down for upper ones.
fn bounds(
    p: &Map<String, Value>,
    n: &Map<String, Value>,
    keywords: [&str; 5],
    lower: bool,
    refuse: &mut impl FnMut(String),
) {
    for keyword in keywords {
        let Some(now) = n.get(keyword).and_then(Value::as_f64) else {
            continue;
        };
        match p.get(keyword).and_then(Value::as_f64) {
            Some(before) if (lower && now <= before) || (!lower && now >= before) => {}
            Some(before) => {
                let moved = if lower { "raised" } else { "lowered" };
                refuse(format!("`{keyword}` {moved} from {before} to {now}"));
            }
            None => refuse(format!("`{keyword}` {now} added")),
        }
    }
}

fn objects(
    roots: &Roots<'_>,
    p: &Map<String, Value>,
    n: &Map<String, Value>,
    field: &str,
    depth: usize,
    found: &mut Vec<Incompatibility>,
) {
    let empty = Map::new();
    let before = p
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let now = n
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let required = |m: &Map<String, Value>| -> Vec<String> {
        m.get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let required_before = required(p);
    for name in required(n) {
        if !required_before.contains(&name) {
            found.push(Incompatibility {
                field: format!("{field}/{name}"),
                reason: "newly required: events written before may lack it".into(),
            });
        }
    }
    for (name, schema) in before {
        let at = format!("{field}/{name}");
        match now.get(name) {
            Some(next) => compare(roots, schema, next, &at, depth + 1, found),
            None => found.push(Incompatibility {
                field: at,
                reason: "removed: a removed field needs a new version".into(),
            }),
        }
    }
    let open = |m: &Map<String, Value>| m.get("additionalProperties") != Some(&Value::Bool(false));
    if open(p) && !open(n) {
        found.push(Incompatibility {
            field: field.to_owned(),
            reason:
                "`additionalProperties: false` added: events written before may hold other fields"
                    .into(),
        });
    }
    // A field new to the schema must accept what the old, open schema let
    // through under that name: anything, so nothing here; its own keywords
    // are new constraints only on events that never had it.
}

#[cfg(test)]
#[path = "compatibility_tests.rs"]
mod tests;
