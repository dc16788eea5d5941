//! A committed group's records on their way to readers. The writer moves
//! past a group's records as soon as its transaction commits (the next
//! group appends after them), but readers see them only once the group is
//! durable: the log's sync thread publishes each partition's
//! [`Publication`] after its frame's `fdatasync`.

use std::sync::Arc;

use super::Records;
use super::partition::PartitionLog;

/// What readers are to see of one partition's records of a committed group.
pub(crate) struct Publication {
    log: Arc<PartitionLog>,
    /// The segment the records went to (a roll after them may already have
    /// started the next one).
    base: u64,
    /// Their index entries, bytes, and the offset after the last of them.
    index: Vec<(u64, u64)>,
    added: u64,
    end: u64,
    /// The records filled the segment: it is sealed, and gets its index file.
    sealed: bool,
}

impl Records {
    /// The group's transaction committed: the writer moves past its staged
    /// records (rolling a full segment), and what readers are to see of
    /// them comes back, to publish once the group is durable.
    pub(crate) fn commit_staged(&mut self) -> Vec<Publication> {
        let mut out = Vec::with_capacity(self.touched.len());
        for slot in self.touched.drain(..) {
            let Some(part) = self.parts.get_mut(&slot) else {
                continue;
            };
            let added = part.staged.len() as u64;
            let mut publication = Publication {
                log: part.log.clone(),
                base: part.base,
                index: std::mem::take(&mut part.staged_index),
                added,
                end: part.staged_end,
                sealed: false,
            };
            part.written += added;
            part.staged.clear();
            part.indexed_published = part.indexed;
            part.unsynced = true;
            if part.written >= self.segment_bytes {
                match part.start_segment(part.staged_end) {
                    Ok(old) => {
                        self.rolled.extend(old);
                        publication.sealed = true;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, dir = %part.dir.display(), "could not roll a segment; appending to the old one");
                    }
                }
            }
            out.push(publication);
        }
        out
    }
}

impl Publication {
    /// Readers see the records; the partition's, whose readers are to be
    /// woken (see [`PartitionLog::wake`]).
    pub(crate) fn publish(mut self) -> Arc<PartitionLog> {
        let mut shared = self.log.write_shared();
        shared.end = shared.end.max(self.end);
        // Always found: upkeep, which drops and replaces segments, waits
        // until every group before it is published.
        if let Some(segment) = shared
            .segments
            .iter_mut()
            .rev()
            .find(|s| s.base == self.base)
        {
            segment.index.append(&mut self.index);
            segment.size += self.added;
        }
        drop(shared);
        if self.sealed {
            // Written under the read lock: readers go on meanwhile.
            let shared = self.log.read_shared();
            if let Some(segment) = shared.segments.iter().rev().find(|s| s.base == self.base) {
                segment.write_index(self.end);
            }
        }
        self.log
    }
}
