//! Every constraint of a type's JSON Schema (lengths, ranges, array sizes,
//! patterns, formats, the fields it allows) checked with the `jsonschema`
//! crate, each type's schema compiled once when the vocabulary is loaded;
//! a failure names the field with a JSON pointer.

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use super::field_error::FieldError;

/// A type's data schema, compiled (and as written, for the descriptions
/// of its fields).
#[derive(Debug)]
pub(super) struct CompiledSchema {
    validator: jsonschema::Validator,
    schema: Value,
}

impl CompiledSchema {
    /// Compile `schema` (Draft 2020-12, formats asserted); why not, if it
    /// does not compile.
    pub(super) fn compile(schema: Value) -> Result<Self, String> {
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| format!("the schema does not compile: {e}"))?;
        Ok(Self { validator, schema })
    }

    /// The schema as written.
    pub(super) fn schema(&self) -> &Value {
        &self.schema
    }

    /// The first violation in `value` (the data of the event at `at`), as a
    /// field error with its pointer.
    pub(super) fn check(&self, value: &Value, at: &str) -> Result<(), FieldError> {
        let Some(e) = self.validator.iter_errors(value).next() else {
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
                if let Some(what) = self
                    .schema
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
