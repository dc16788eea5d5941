//! Durable timers: wake the plugin later for the key of the event it is
//! handling ("if no payment within 15 minutes"). When a timer is due, the
//! handler gets an event of type [`TYPE`] for that key, whose
//! [`Event::timer_name`](crate::Event::timer_name) is the timer's name and
//! whose data is the payload. Scheduling and cancelling take effect with
//! the event's other effects, and not at all if the handler fails; a timer
//! fires once with the effects of handling it, after restarts and hot swaps.
//!
//! ```no_run
//! use streamplug_sdk::{Event, HandleError, timer};
//!
//! fn handle(event: &Event) -> Result<(), HandleError> {
//!     if let Some(name) = event.timer_name() {
//!         // `name` fired: e.g. the payment never came.
//!         return Ok(());
//!     }
//!     timer::schedule_json("expire:o-17", 15 * 60_000, &serde_json::json!({"order": "o-17"}))?;
//!     Ok(())
//! }
//! ```

use serde::Serialize;

use crate::bindings::streamplug::plugin::timer as wit;
pub use crate::bindings::streamplug::plugin::timer::TimerError;

/// The type of a fired timer's event.
pub const TYPE: &str = "streamplug.timer";

/// Schedule timer `name` for the key of the event being handled, due in
/// `after_ms` milliseconds, with `payload` as its event's data; a pending
/// timer of that name and key is replaced.
pub fn schedule(name: &str, after_ms: u64, payload: &[u8]) -> Result<(), TimerError> {
    wit::schedule(name, after_ms, payload)
}

/// [`schedule`] with `payload` as JSON.
pub fn schedule_json<T: Serialize>(
    name: &str,
    after_ms: u64,
    payload: &T,
) -> Result<(), TimerError> {
    let bytes = serde_json::to_vec(payload)
        .map_err(|e| TimerError::InvalidName(format!("payload does not serialise: {e}")))?;
    schedule(name, after_ms, &bytes)
}

/// Cancel timer `name` of the key of the event being handled; whether one
/// was pending.
pub fn cancel(name: &str) -> Result<bool, TimerError> {
    wit::cancel(name)
}
