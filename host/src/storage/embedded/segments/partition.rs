//! One partition's records as readers see them: its segments, the offset
//! of its oldest kept record (retention moves it) and the offset after its
//! last published record. The log writer changes it under the lock only to
//! publish a committed group, roll, drop or replace a segment; readers hold
//! the lock only to find where to read, then read the files without it.

use std::sync::{Arc, PoisonError, RwLock};

use tokio::sync::watch;

use super::segment::{Segment, scan_file};
use crate::event::StoredEvent;
use crate::storage::StorageError;

use super::record::{self, Head};

/// What a partition holds.
#[derive(Default)]
pub(crate) struct Shared {
    /// In offset order; the last is the one appended to.
    pub(crate) segments: Vec<Segment>,
    /// Offsets below this are deleted (retention).
    pub(crate) start: u64,
    /// The offset after the last published record.
    pub(crate) end: u64,
}

/// One partition of a topic.
#[derive(Default)]
pub(crate) struct PartitionLog {
    pub(crate) shared: RwLock<Shared>,
    /// Ticks when records are published here: what this partition's
    /// readers wait on, so a group wakes only the readers of what it wrote.
    published: Published,
}

/// A tick at every publication of a partition.
struct Published(watch::Sender<u64>);

impl Default for Published {
    fn default() -> Self {
        Self(watch::Sender::new(0))
    }
}

/// A stretch of one segment to read: its file, from where, to where.
struct Stretch {
    file: Arc<std::fs::File>,
    from: u64,
    to: u64,
}

impl PartitionLog {
    pub(crate) fn read_shared(&self) -> std::sync::RwLockReadGuard<'_, Shared> {
        self.shared.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write_shared(&self) -> std::sync::RwLockWriteGuard<'_, Shared> {
        self.shared.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A receiver of this partition's publication ticks.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.published.0.subscribe()
    }

    /// Wake this partition's readers (after the sequence number readers
    /// merge by has moved past what was published).
    pub(crate) fn wake(&self) {
        self.published.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The offset after the last published record.
    pub(crate) fn end(&self) -> u64 {
        self.read_shared().end
    }

    /// Where to read the records from `from` on (at least the oldest kept)
    /// and below which offset to stop.
    fn plan(&self, from: u64) -> (u64, u64, Vec<Stretch>) {
        let shared = self.read_shared();
        let from = from.max(shared.start);
        if from >= shared.end {
            return (from, shared.end, Vec::new());
        }
        let first = shared
            .segments
            .partition_point(|s| s.base <= from)
            .saturating_sub(1);
        let stretches = shared.segments[first..]
            .iter()
            .enumerate()
            .map(|(i, s)| Stretch {
                file: s.file.clone(),
                from: if i == 0 { s.position_of(from) } else { 0 },
                to: s.size,
            })
            .collect();
        (from, shared.end, stretches)
    }

    /// Visit the heads and encoded events of the published records from
    /// `from` on (at least the oldest kept), in order, while `visit` says go on.
    pub(crate) fn visit(
        &self,
        from: u64,
        mut visit: impl FnMut(Head, &[u8]) -> Result<bool, StorageError>,
    ) -> Result<(), StorageError> {
        let (from, end, stretches) = self.plan(from);
        let mut going = true;
        for stretch in stretches {
            let scanned = scan_file(
                &stretch.file,
                stretch.from,
                stretch.to,
                &mut |head, payload, _| {
                    if head.offset >= end {
                        going = false;
                    } else if head.offset >= from {
                        going = visit(head, payload)?;
                    }
                    Ok(going)
                },
            );
            match scanned {
                Ok(()) => {}
                Err(scan) => return Err(scan.into()),
            }
            if !going {
                break;
            }
        }
        Ok(())
    }

    /// Up to `limit` published records of partition `partition` from
    /// `from` on.
    pub(crate) fn read(
        &self,
        partition: u32,
        from: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StorageError> {
        // Grown as records come: a reader woken for nothing (or for one
        // record) allocates nothing (or little).
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        self.visit(from, |head, payload| {
            out.push(StoredEvent {
                partition,
                offset: head.offset,
                seq: head.seq,
                event: record::decode_event(payload)?,
            });
            Ok(out.len() < limit)
        })?;
        Ok(out)
    }
}
