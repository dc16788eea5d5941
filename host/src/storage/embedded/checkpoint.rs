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
//! comes first, as before: at 10k events/s end to end, 16 or 32 MiB made
//! each checkpoint hold the writer longer (redb's pages since the last
//! durable commit) and raised the p99 from ~20 to 30-47 ms; 1 or 2 MiB were
//! no better than 4. The segment files are synced all at once
//! (`segments/sync_at_once.rs`).

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
