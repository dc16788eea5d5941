//! Effectively-once side effects: run an outbound call as a named *step* of
//! the event being handled, and a retried or redelivered event gets the
//! recorded result instead of calling again.
//!
//! ```no_run
//! use streamplug_sdk::{HandleError, journal};
//!
//! fn confirm(order: &str) -> Result<(), HandleError> {
//!     // One SMS per order, whatever fails after it.
//!     let message_id: String = journal::run(&format!("sms:{order}"), |key| {
//!         // `key` is stable across attempts: send it to the provider as its
//!         // idempotency key or client message id.
//!         Ok(key.to_owned())
//!     })?;
//!     let _ = message_id;
//!     Ok(())
//! }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::HandleError;
use crate::bindings::streamplug::plugin::journal as wit;
pub use crate::bindings::streamplug::plugin::journal::JournalError;

/// The idempotency key of `step` of the event being handled: the same on
/// every attempt and version, a UUID.
pub fn idempotency_key(step: &str) -> Result<String, JournalError> {
    wit::idempotency_key(step)
}

/// The result an earlier attempt recorded for `step`, as JSON.
pub fn recorded<T: DeserializeOwned>(step: &str) -> Result<Option<T>, HandleError> {
    match wit::recorded(step)? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

/// Record `value` as the result of `step`, durably, now.
pub fn record<T: Serialize + ?Sized>(step: &str, value: &T) -> Result<(), HandleError> {
    let bytes = serde_json::to_vec(value)?;
    Ok(wit::record(step, &bytes)?)
}

/// Run `call` as `step` of the event being handled, once: when an earlier
/// attempt of this event completed the step, its recorded result is
/// returned and `call` does not run; otherwise `call` runs with the step's
/// idempotency key and its result is recorded before this returns. A failed
/// `call` records nothing (it runs again on the next attempt). Name each
/// step uniquely within the event (e.g. `sms:<order>`).
pub fn run<T, F>(step: &str, call: F) -> Result<T, HandleError>
where
    T: Serialize + DeserializeOwned,
    F: FnOnce(&str) -> Result<T, HandleError>,
{
    if let Some(done) = recorded(step)? {
        return Ok(done);
    }
    let key = idempotency_key(step)?;
    let value = call(&key)?;
    record(step, &value)?;
    Ok(value)
}
