//! JSON numbers as JSON Schema reads them: `2.0` is the integer 2 (a
//! number's value, not its spelling, decides its type), where serde would
//! refuse `2.0` for an integer field. Request bodies and ingested events are
//! read through [`integral_as_integers`], so a client whose JSON library
//! writes every number as a float is understood, and an event's data is
//! stored with its integers spelled as integers for the plugins that read
//! them.

use serde_json::{Number, Value};

/// 2^64, the first float past `u64::MAX`.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// Rewrite every number in `value` that is a float with an integral value
/// within the 64-bit range as an integer; others stay as they are.
pub fn integral_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(integer) = as_integer(n) {
                *n = integer;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_as_integers),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // range checked
fn as_integer(n: &Number) -> Option<Number> {
    if !n.is_f64() {
        return None;
    }
    let f = n.as_f64()?;
    if f.fract() != 0.0 || !f.is_finite() {
        return None;
    }
    if (0.0..TWO_POW_64).contains(&f) {
        Some(Number::from(f as u64))
    } else if f < 0.0 && f >= i64::MIN as f64 {
        Some(Number::from(f as i64))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::integral_as_integers;

    #[test]
    fn integral_floats_become_integers_and_nothing_else_changes() {
        let mut v = json!({
            "quantity": 68.0, "ttl": 9337.0, "neg": -3.0, "zero": -0.0,
            "price": 9.5, "big": 1e19, "huge": 1e30, "int": 7, "s": "2.0",
            "list": [1.0, [2.0], {"x": 3.0}],
        });
        integral_as_integers(&mut v);
        assert_eq!(
            v,
            json!({
                "quantity": 68, "ttl": 9337, "neg": -3, "zero": 0,
                "price": 9.5, "big": 10_000_000_000_000_000_000_u64, "huge": 1e30, "int": 7, "s": "2.0",
                "list": [1, [2], {"x": 3}],
            })
        );
        assert!(v["quantity"].is_u64() && v["neg"].is_i64());
    }
}
