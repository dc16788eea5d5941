//! When the writer makes redb itself durable (a checkpoint): every 100 ms
//! or 4 MiB of write-ahead log while frames are being logged, so the log
//! stays short and a restart replays little.

use std::time::{Duration, Instant};

/// Longest time between checkpoints while frames are logged.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// Most bytes of log between checkpoints.
const CHECKPOINT_BYTES: u64 = 4 << 20;

/// When redb was last made durable.
pub(super) struct Checkpoint {
    at: Instant,
    /// Frames were logged since.
    pub(super) behind: bool,
}

impl Default for Checkpoint {
    fn default() -> Self {
        Self {
            at: Instant::now(),
            behind: false,
        }
    }
}

impl Checkpoint {
    /// Whether a checkpoint is due, with `log_bytes` in the log's segment.
    pub(super) fn due(&self, log_bytes: u64) -> bool {
        self.behind && (self.at.elapsed() >= CHECKPOINT_EVERY || log_bytes >= CHECKPOINT_BYTES)
    }
}
