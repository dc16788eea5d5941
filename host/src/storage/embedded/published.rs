//! When recent groups became durable and visible: a bounded ring of
//! (sequence number after the group, instant), kept by the sync thread as
//! it publishes, so a reader can tell how long an event waited for it (the
//! `pickup` and `push` stages of [`crate::stages`]).

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Publications remembered: at one a millisecond, four seconds' worth; an
/// event older than the ring reports no wait (a backlog after a restart).
const REMEMBERED: usize = 4096;

/// The ring. An entry covers the sequence numbers from the one before it
/// up to its own; the first entry only bounds the second.
#[derive(Debug)]
pub(super) struct PublishTimes {
    ring: Mutex<VecDeque<(u64, Instant)>>,
}

impl PublishTimes {
    /// A ring for a log whose next sequence number is `next_seq` (what it
    /// held before is not timed).
    pub(super) fn starting_at(next_seq: u64) -> Self {
        Self {
            ring: Mutex::new(VecDeque::from([(next_seq, Instant::now())])),
        }
    }

    /// Everything below `next_seq` is visible from now.
    pub(super) fn published(&self, next_seq: u64) {
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        if ring.len() == REMEMBERED {
            ring.pop_front();
        }
        ring.push_back((next_seq, Instant::now()));
    }

    /// How long ago the event with sequence number `seq` became visible,
    /// if its publication is still remembered.
    pub(super) fn visible_for(&self, seq: u64) -> Option<Duration> {
        let ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        match ring.partition_point(|(next, _)| *next <= seq) {
            // Below the ring's first bound: older than what it remembers.
            0 => None,
            covering => ring.get(covering).map(|(_, at)| at.elapsed()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_visible_from_its_groups_publication() {
        let times = PublishTimes::starting_at(8);
        times.published(10);
        std::thread::sleep(Duration::from_millis(20));
        times.published(12);
        let first = times.visible_for(9).unwrap();
        let second = times.visible_for(11).unwrap();
        assert!(first >= Duration::from_millis(20), "{first:?}");
        assert!(second < first);
        assert_eq!(times.visible_for(12), None, "not published yet");
        assert_eq!(times.visible_for(7), None, "held before the start");
    }

    #[test]
    fn an_event_older_than_the_ring_reports_nothing() {
        let times = PublishTimes::starting_at(0);
        for next in 1..=(REMEMBERED as u64 + 10) {
            times.published(next * 2);
        }
        assert_eq!(times.visible_for(3), None);
        assert!(times.visible_for(REMEMBERED as u64 * 2 + 19).is_some());
    }
}
