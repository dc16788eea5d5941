//! A field-level problem in a submitted event, named by its JSON pointer:
//! what every parser and check of an incoming event answers with.

/// A field-level problem in a submitted event.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct FieldError {
    /// JSON pointer to the offending field, e.g. `/0/data/price`.
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// The error at `pointer` (a JSON pointer into the request body).
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}
