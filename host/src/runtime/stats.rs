//! What one plugin version did since it was loaded: invocations by
//! outcome and events dead-lettered. Lock-free counters, read by the status
//! API (and by a canary's health check).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::outcome::Outcome;

/// Counters of one plugin version.
#[derive(Debug, Default)]
pub struct VersionStats {
    ok: AtomicU64,
    retry: AtomicU64,
    reject: AtomicU64,
    trap: AtomicU64,
    dead_lettered: AtomicU64,
}

/// A reading of [`VersionStats`].
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct StatsReading {
    /// Handled.
    pub ok: u64,
    /// Attempts the plugin asked to retry.
    pub retry: u64,
    /// Events the plugin rejected.
    pub reject: u64,
    /// Attempts that trapped, ran out of CPU or memory, or timed out.
    pub trap: u64,
    /// Events sent to the dead-letter topic.
    pub dead_lettered: u64,
}

impl VersionStats {
    /// Count one invocation.
    pub fn record(&self, outcome: &Outcome) {
        let counter = match outcome {
            Outcome::Ok => &self.ok,
            Outcome::Retry(_) => &self.retry,
            Outcome::Reject(_) => &self.reject,
            Outcome::Trap(_) => &self.trap,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Count one dead-lettered event.
    pub fn record_dead_letter(&self) {
        self.dead_lettered.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts now.
    pub fn read(&self) -> StatsReading {
        StatsReading {
            ok: self.ok.load(Ordering::Relaxed),
            retry: self.retry.load(Ordering::Relaxed),
            reject: self.reject.load(Ordering::Relaxed),
            trap: self.trap.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
        }
    }
}

impl StatsReading {
    /// What happened between `earlier` and this reading.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            ok: self.ok.saturating_sub(earlier.ok),
            retry: self.retry.saturating_sub(earlier.retry),
            reject: self.reject.saturating_sub(earlier.reject),
            trap: self.trap.saturating_sub(earlier.trap),
            dead_lettered: self.dead_lettered.saturating_sub(earlier.dead_lettered),
        }
    }

    /// Invocations, whatever their outcome.
    pub fn invocations(&self) -> u64 {
        self.ok + self.retry + self.reject + self.trap
    }

    /// Invocations that were the plugin's fault: traps (including CPU,
    /// memory and time limits) and rejections. Retries are left out: they
    /// are mostly a dependency being down, which the live version meets too.
    pub fn failures(&self) -> u64 {
        self.reject + self.trap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_counted_apart() {
        let stats = VersionStats::default();
        stats.record(&Outcome::Ok);
        stats.record(&Outcome::Ok);
        stats.record(&Outcome::Trap("boom".into()));
        stats.record(&Outcome::Retry("later".into()));
        stats.record(&Outcome::Reject("bad".into()));
        stats.record_dead_letter();
        assert_eq!(
            stats.read(),
            StatsReading {
                ok: 2,
                retry: 1,
                reject: 1,
                trap: 1,
                dead_lettered: 1
            }
        );
    }
}
