//! Expectations of an offline run: a JSON document shaped like the run's
//! `--json` report, holding only what must hold. An object matches when
//! every key it names matches (keys left out are free); an array when it
//! has as many elements and each matches; numbers by value (`208` is
//! `208.0`); anything else when equal.
//!
//! ```json
//! {"events": [{}, {"outcome": "ok", "pushes": [{"type": "cart.reminder"}]}],
//!  "kv": {"cart:alice": {"reminded": true}}}
//! ```

use serde::Serialize;
use serde_json::Value;

/// One expectation that does not hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    /// Where, e.g. `events[3].publishes[0].data.total`.
    pub at: String,
    /// What the expectation says.
    pub expected: Value,
    /// What the run did (`null` when it is missing).
    pub actual: Value,
}

/// Every place where `actual` does not match `expected`.
pub fn check(expected: &Value, actual: &Value) -> Vec<Mismatch> {
    let mut out = Vec::new();
    compare("", expected, actual, &mut out);
    out
}

/// How many leaf expectations (scalars and empty containers) `expected` holds.
pub fn count(expected: &Value) -> usize {
    match expected {
        Value::Object(o) if !o.is_empty() => o.values().map(count).sum(),
        Value::Array(a) if !a.is_empty() => a.iter().map(count).sum(),
        _ => 1,
    }
}

fn compare(at: &str, expected: &Value, actual: &Value, out: &mut Vec<Mismatch>) {
    let mismatch = |out: &mut Vec<Mismatch>| {
        out.push(Mismatch {
            at: if at.is_empty() {
                "(the report)".into()
            } else {
                at.to_owned()
            },
            expected: expected.clone(),
            actual: actual.clone(),
        });
    };
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                compare(&path, value, a.get(key).unwrap_or(&Value::Null), out);
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                compare(&format!("{at}[{i}]"), e, a, out);
            }
        }
        (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => {}
        (e, a) if e == a => {}
        _ => mismatch(out),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn what_is_named_must_hold_and_what_is_left_out_is_free() {
        let actual = json!({"events": [
            {"outcome": "ok", "publishes": [{"type": "t", "data": {"total": 208, "n": 1}}]},
            {"outcome": "trap", "reason": "boom"}]});
        let expected = json!({"events": [{}, {"outcome": "trap"}]});
        assert!(check(&expected, &actual).is_empty());
        let expected = json!({"events": [
            {"publishes": [{"data": {"total": 208.0}}]}, {"outcome": "ok", "pushes": []}]});
        assert_eq!(
            check(&expected, &actual),
            [
                Mismatch {
                    at: "events[1].outcome".into(),
                    expected: json!("ok"),
                    actual: json!("trap")
                },
                Mismatch {
                    at: "events[1].pushes".into(),
                    expected: json!([]),
                    actual: Value::Null
                },
            ]
        );
        assert_eq!(count(&expected), 3);
    }

    #[test]
    fn arrays_must_have_as_many_elements() {
        let m = check(&json!({"kv": {"a": [1]}}), &json!({"kv": {"a": [1, 2]}}));
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].at, "kv.a");
        let m = check(&json!([{}]), &json!({"events": []}));
        assert_eq!(m[0].at, "(the report)");
    }
}
