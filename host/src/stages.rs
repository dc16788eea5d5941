//! Where an event's time goes on its way from a client to the push it
//! causes: one Prometheus histogram, `streamplug_stage_seconds`, labelled by
//! stage (a closed set, so the labels stay bounded), so each part of the
//! path is judged by numbers (`/metrics`, and the load harness's report).
//!
//! The stages, in the order an event meets them:
//!
//! | stage | from | to | per |
//! |---|---|---|---|
//! | `validate` | a request's JSON parsed | its events checked and routed | request or frame |
//! | `append` | the events handed to the log | durable (the ack may go) | request or frame |
//! | `pickup` | an event durable, visible to readers | a plugin's worker starts on it | event and plugin |
//! | `handle` | the plugin called | it returned | event and plugin |
//! | `commit` | a worker's batch handled | its effects and offsets durable | batch |
//! | `push` | a push durable | handed to its customer's sessions | push |
//!
//! The handles are made once, when the gateway installs its recorder, so
//! recording one is an atomic load and the histogram's own (lock-free)
//! sample; before that (or in a process without a recorder) it does nothing.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::Histogram;

/// The histogram's name.
pub const STAGE_SECONDS: &str = "streamplug_stage_seconds";

/// Its bucket bounds, seconds: fine below a millisecond (a plugin's call,
/// the hand-offs), then through the fsync (about 1-2 ms here) to the
/// seconds a backlog takes.
pub const BUCKETS: &[f64] = &[
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.001_5, 0.002, 0.003, 0.005,
    0.007_5, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A part of the path (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Validate,
    Append,
    Pickup,
    Handle,
    Commit,
    Push,
}

impl Stage {
    /// Every stage, in path order.
    pub const ALL: [Stage; 6] = [
        Stage::Validate,
        Stage::Append,
        Stage::Pickup,
        Stage::Handle,
        Stage::Commit,
        Stage::Push,
    ];

    /// Its `stage` label.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Validate => "validate",
            Stage::Append => "append",
            Stage::Pickup => "pickup",
            Stage::Handle => "handle",
            Stage::Commit => "commit",
            Stage::Push => "push",
        }
    }
}

static HANDLES: OnceLock<[Histogram; 6]> = OnceLock::new();

/// Make the handles on the recorder just installed (the first call wins).
pub fn register() {
    HANDLES.get_or_init(|| {
        metrics::describe_histogram!(
            STAGE_SECONDS,
            metrics::Unit::Seconds,
            "Time an event spends in each stage of its path (validate, append, pickup, handle, commit, push)"
        );
        Stage::ALL.map(|stage| metrics::histogram!(STAGE_SECONDS, "stage" => stage.label()))
    });
}

/// Record `took` for `stage`.
pub fn record(stage: Stage, took: Duration) {
    if let Some(handles) = HANDLES.get() {
        handles[stage as usize].record(took.as_secs_f64());
    }
}

/// Record the time since `since` for `stage`.
pub fn since(stage: Stage, since: std::time::Instant) {
    if HANDLES.get().is_some() {
        record(stage, since.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_labels_are_distinct_and_in_index_order() {
        for (i, stage) in Stage::ALL.iter().enumerate() {
            assert_eq!(*stage as usize, i);
        }
        let labels: std::collections::BTreeSet<_> = Stage::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(labels.len(), Stage::ALL.len());
    }

    #[test]
    fn the_buckets_rise() {
        assert!(BUCKETS.windows(2).all(|w| w[0] < w[1]));
    }
}
