//! Every constraint of a type's JSON Schema (lengths, ranges, array sizes,
//! patterns, formats, the fields it allows) checked with the `jsonschema`
//! crate, each type's schema compiled once; a failure names the field with
//! a JSON pointer. Serde's deserialization (after this) makes sure the
//! type's readers can read what is stored.

use jsonschema::error::ValidationErrorKind;
use schemars::Schema;
use serde_json::Value;

use super::cloudevents::FieldError;

/// A type's data schema, compiled (and as written, for the descriptions
/// of its fields).
pub(super) struct CompiledSchema(Option<(jsonschema::Validator, &'static Schema)>);

impl CompiledSchema {
    /// Checks nothing (a type without a schema; never the case in the
    /// vocabulary).
    pub(super) const NONE: Self = Self(None);

    /// Compile `schema` (Draft 2020-12, formats asserted). A schema that
    /// does not compile checks nothing: ours are generated from our own
    /// types, so that is a bug, logged.
    pub(super) fn of(name: &str, schema: &'static Schema) -> Self {
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(schema.as_value())
            .inspect_err(|e| tracing::error!(%name, error = %e, "an event schema does not compile"))
            .ok();
        Self(validator.map(|v| (v, schema)))
    }

    /// The first violation in `value` (the data of the event at `at`), as a
    /// field error with its pointer.
    pub(super) fn check(&self, value: &Value, at: &str) -> Result<(), FieldError> {
        let Some((validator, schema)) = &self.0 else {
            return Ok(());
        };
        let Some(e) = validator.iter_errors(value).next() else {
            return Ok(());
        };
        let mut pointer = format!("{at}{}", e.instance_path());
        let mut message = e.to_string();
        match e.kind() {
            // Reported at the object: point at the missing field itself.
            ValidationErrorKind::Required { property } => {
                if let Some(name) = property.as_str() {
                    pointer = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
                }
            }
            // A pattern says little by itself: add what the field is.
            ValidationErrorKind::Pattern { .. } => {
                let keyword = e.schema_path().to_string();
                let field = keyword.strip_suffix("/pattern").unwrap_or(&keyword);
                if let Some(what) = schema
                    .as_value()
                    .pointer(field)
                    .and_then(|f| f.get("description"))
                    .and_then(Value::as_str)
                {
                    message = format!("{message}: {}", what.trim_end_matches('.'));
                }
            }
            _ => {}
        }
        Err(FieldError::new(pointer, message))
    }
}
