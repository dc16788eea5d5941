//! Decide a command. A plugin that lists a command type in its manifest's
//! `commands` is its one processor: returning `Ok(())` from the handler
//! accepts it (the events published while handling it are the answer the
//! sender gets); calling [`refuse_conflict`] or [`refuse_invalid`] and then
//! returning `Ok(())` refuses it with a reason. A refused command's
//! publishes and pushes are dropped and its KV writes kept, so a processor
//! may record what it refused.
//!
//! ```no_run
//! use streamplug_sdk::{Event, HandleError, command};
//!
//! fn handle(event: &Event, shipped: bool) -> Result<(), HandleError> {
//!     if shipped {
//!         command::refuse_conflict("the order has shipped; ask for a return instead")?;
//!         return Ok(());
//!     }
//!     // ... publish `order.cancelled` ...
//!     Ok(())
//! }
//! ```

use crate::bindings::streamplug::plugin::command as wit;
pub use crate::bindings::streamplug::plugin::command::CommandError;

/// Refuse the command being handled because it conflicts with the state it
/// acts on (the sender gets `409 Conflict` with `reason`).
pub fn refuse_conflict(reason: &str) -> Result<(), CommandError> {
    wit::refuse(wit::Refusal::Conflict, reason)
}

/// Refuse the command being handled because it is not acceptable as sent
/// (the sender gets `422 Unprocessable Content` with `reason`).
pub fn refuse_invalid(reason: &str) -> Result<(), CommandError> {
    wit::refuse(wit::Refusal::Invalid, reason)
}
