//! How far a partition worker got in each topic it reads, and when that
//! position must reach the store.
//!
//! A batch that staged effects commits its offsets with them, as one unit.
//! A batch that staged nothing (the plugin ignored its events, or handled
//! them without a publish, a push or a KV write) has nothing the offsets
//! must be atomic with: it only moves the position here, and the worker
//! commits it with the next batch that has effects, within the plugin's
//! `commit_interval_ms`, or when it stops, whichever comes first. This
//! is Kafka Streams' commit interval, kept to the batches where it cannot
//! split an effect from its offset. A crash in between delivers those
//! events again, which at-least-once delivery already allows: handling
//! them the first time left nothing behind to be repeated.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::storage::NextOffset;

/// A worker's position per topic, and whether the store has it.
#[derive(Debug, Default)]
pub struct Progress {
    /// Offset of the next event to consume, per topic handled so far.
    next: BTreeMap<String, u64>,
    /// Since when the position is ahead of the last commit, if it is.
    ahead_since: Option<Instant>,
}

impl Progress {
    /// The event at `offset` of `topic` is done with.
    pub fn passed(&mut self, topic: &str, offset: u64) {
        let next = offset + 1;
        match self.next.get_mut(topic) {
            Some(at) if *at == next => return,
            Some(at) => *at = next,
            None => {
                self.next.insert(topic.to_owned(), next);
            }
        }
        self.ahead_since.get_or_insert_with(Instant::now);
    }

    /// The position to commit, in `partition` of every topic.
    pub fn offsets(&self, partition: u32) -> Vec<NextOffset> {
        self.next
            .iter()
            .map(|(topic, next)| NextOffset {
                topic: topic.clone(),
                partition,
                next: *next,
            })
            .collect()
    }

    /// A commit of [`Self::offsets`] succeeded.
    pub fn committed(&mut self) {
        self.ahead_since = None;
    }

    /// Whether the position is ahead of the last commit.
    pub fn is_ahead(&self) -> bool {
        self.ahead_since.is_some()
    }

    /// When the position must be committed on its own (`interval` after
    /// it first got ahead), if it is ahead.
    pub fn commit_due(&self, interval: Duration) -> Option<Instant> {
        self.ahead_since.map(|since| since + interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_secs(1);

    #[test]
    fn a_new_position_is_due_within_the_interval_and_a_commit_settles_it() {
        let mut progress = Progress::default();
        assert!(!progress.is_ahead());
        assert_eq!(progress.commit_due(INTERVAL), None);

        let before = Instant::now();
        progress.passed("in", 4);
        progress.passed("other", 0);
        let due = progress.commit_due(INTERVAL).unwrap();
        assert!(due >= before + INTERVAL);
        assert!(due <= Instant::now() + INTERVAL);
        let offsets = progress.offsets(3);
        assert_eq!(
            offsets,
            [
                NextOffset {
                    topic: "in".into(),
                    partition: 3,
                    next: 5
                },
                NextOffset {
                    topic: "other".into(),
                    partition: 3,
                    next: 1
                },
            ]
        );

        progress.committed();
        assert!(!progress.is_ahead());
        assert_eq!(progress.offsets(3), offsets);
    }

    #[test]
    fn passing_an_offset_already_passed_does_not_put_the_position_ahead() {
        let mut progress = Progress::default();
        progress.passed("in", 4);
        progress.committed();
        progress.passed("in", 4);
        assert!(!progress.is_ahead());
        progress.passed("in", 5);
        assert!(progress.is_ahead());
    }

    #[test]
    fn the_interval_runs_from_the_first_uncommitted_event() {
        let mut progress = Progress::default();
        progress.passed("in", 0);
        let due = progress.commit_due(INTERVAL);
        progress.passed("in", 1);
        assert_eq!(progress.commit_due(INTERVAL), due);
    }
}
