//! The constraints of a JSON Schema that deserializing with serde does not
//! enforce: string lengths, numeric minimums, array lengths and the
//! currency-code pattern, checked with a JSON pointer to the field.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use regex::Regex;
use schemars::Schema;
use serde_json::Value;

use super::cloudevents::FieldError;

/// The constraints from the schema that serde does not enforce: string
/// lengths, numeric minimums, array lengths and patterns.
pub(super) fn check_against_schema(
    value: &Value,
    schema: &Schema,
    at: &str,
) -> Result<(), FieldError> {
    let schema = schema.as_value();
    let defs = schema.get("$defs").unwrap_or(&Value::Null);
    // One path buffer for the whole walk: a field's pointer is written out
    // only when it fails.
    let mut path = String::with_capacity(at.len() + 32);
    path.push_str(at);
    check_node(value, schema, defs, &mut path)
}

fn check_node(
    value: &Value,
    schema: &Value,
    defs: &Value,
    path: &mut String,
) -> Result<(), FieldError> {
    let schema = resolve(schema, defs);
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object(),
    ) {
        for (name, sub) in props {
            if let Some(v) = obj.get(name) {
                within(path, name, |path| check_node(v, sub, defs, path))?;
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), value.as_array()) {
        for (i, v) in arr.iter().enumerate() {
            within(path, i, |path| check_node(v, items, defs, path))?;
        }
    }
    let at = path.as_str();
    let err = |m: String| Err(FieldError::new(at, m));
    let num = |k: &str| schema.get(k).and_then(Value::as_f64);
    match value {
        Value::String(s) => {
            let len = s.chars().count() as f64;
            if let Some(min) = num("minLength").filter(|m| len < *m) {
                return err(format!("must be at least {min} characters long"));
            }
            if let Some(max) = num("maxLength").filter(|m| len > *m) {
                return err(format!("must be at most {max} characters long"));
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
                && !matches_pattern(pattern, s)
            {
                return err(match schema.get("description").and_then(Value::as_str) {
                    Some(what) => format!("must match `{pattern}`: {}", what.trim_end_matches('.')),
                    None => format!("must match `{pattern}`"),
                });
            }
        }
        Value::Number(n) => {
            if let (Some(min), Some(v)) = (num("minimum"), n.as_f64())
                && v < min
            {
                return err(format!("must be at least {min}"));
            }
        }
        Value::Array(a) => {
            if let Some(min) = num("minItems").filter(|m| (a.len() as f64) < *m) {
                return err(format!("must have at least {min} entries"));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Run `check` with `segment` appended to the pointer in `path`.
fn within<R>(
    path: &mut String,
    segment: impl std::fmt::Display,
    check: impl FnOnce(&mut String) -> R,
) -> R {
    use std::fmt::Write;
    let len = path.len();
    let _ = write!(path, "/{segment}");
    let result = check(path);
    path.truncate(len);
    result
}

/// Whether `text` matches the schema `pattern`; each pattern is compiled
/// once. A pattern that does not compile matches everything (our schemas are
/// generated from our own types, so this is a bug, logged once).
fn matches_pattern(pattern: &str, text: &str) -> bool {
    static COMPILED: OnceLock<Mutex<HashMap<String, Option<Regex>>>> = OnceLock::new();
    let mut compiled = COMPILED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(regex) = compiled.get(pattern) {
        return regex.as_ref().is_none_or(|r| r.is_match(text));
    }
    let regex = Regex::new(pattern)
        .inspect_err(
            |e| tracing::error!(%pattern, error = %e, "invalid pattern in an event schema"),
        )
        .ok();
    let matches = regex.as_ref().is_none_or(|r| r.is_match(text));
    compiled.insert(pattern.to_owned(), regex);
    matches
}

/// Follow a `$ref` into `$defs`, and unwrap `anyOf: [T, null]` (optional fields).
fn resolve<'a>(schema: &'a Value, defs: &'a Value) -> &'a Value {
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        && let Some(def) = defs.get(name)
    {
        return def;
    }
    schema
}
