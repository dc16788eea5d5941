//! How a plugin's handling of one event ended: what dispatch commits,
//! retries or dead-letters, and what the statistics count.

/// How a plugin's handling of one event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Handled; commit it with its effects.
    Ok,
    /// The plugin asked for a later retry.
    Retry(String),
    /// The plugin rejected the event: dead-letter it.
    Reject(String),
    /// The plugin trapped, ran out of CPU time or memory, or timed out; the
    /// instance was discarded. Retried like `Retry`.
    Trap(String),
}
