//! When the writer makes redb itself durable (a checkpoint): every second
//! or 4 MiB of write-ahead log while frames are being logged, so the log
//! stays short and a restart replays little.
//!
//! The writer waits while a checkpoint syncs the segment files it wrote
//! since the last one and commits redb durably, a dozen `fsync`s whatever
//! it carries. At a few hundred groups a second that wait was the p99 of
//! every durable step: every 100 ms, the first choice, put an append's p99
//! at 6.7-7.4 ms at 1k events/s against 2.8-3.3 ms every second
//! (docs/BENCHMARKS.md, the whole path). Under heavy load the 4 MiB bound
//! comes first, as before.

use std::time::{Duration, Instant};

/// Longest time between checkpoints while frames are logged.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
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
