//! Opening a partition's segments: each cut back to the end the database
//! holds (the write-ahead log gives the later groups again), the segments
//! retention deleted whole removed, and lost records refused.

use std::path::PathBuf;

use super::index_file;
use super::partition::Shared;
use super::segment::{self, Segment};
use super::{Appending, Records, Slot, partition_dir};
use crate::storage::StorageError;

use super::super::unavailable;

/// The segment files of a partition's directory, by base offset; leftovers
/// of an interrupted compaction are removed.
fn segment_files(dir: &std::path::Path) -> Result<Vec<(u64, PathBuf)>, StorageError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(unavailable(format!("{}: {e}", dir.display()))),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(unavailable)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(base) = segment::base_of(&name) {
            files.push((base, entry.path()));
        } else if name.ends_with(".cleaned") || name.ends_with(".index.tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    files.sort_unstable();
    Ok(files)
}

impl Records {
    /// Open `slot`'s segments as the database describes the partition:
    /// records below `end`, the oldest kept at `start`.
    pub(crate) fn open_partition(
        &mut self,
        slot: &Slot,
        start: u64,
        end: u64,
    ) -> Result<(), StorageError> {
        let dir = partition_dir(&self.dir, &slot.0, slot.1);
        let files = segment_files(&dir)?;
        let mut segments: Vec<Segment> = Vec::new();
        // Each kept segment's end, and whether it still needs an index file.
        let mut sealing: Vec<(u64, bool)> = Vec::new();
        let mut reached = start;
        for (i, (base, path)) in files.iter().enumerate() {
            let next = files.get(i + 1).map(|(b, _)| *b);
            let wholly_deleted = next.is_some_and(|n| n <= start);
            let not_held = *base > end || (*base == end && !segments.is_empty());
            if wholly_deleted || not_held {
                segment::remove_files(path)?;
                continue;
            }
            let opened = Segment::open(path.clone(), *base, end)?;
            let last = next.is_none_or(|n| n > end || (n == end && opened.end == end));
            if opened.cut > 0 && !last {
                return Err(damaged(path, opened.end, end));
            }
            reached = reached.max(opened.end);
            sealing.push((opened.end, !opened.from_index));
            segments.push(opened.segment);
        }
        if end > start && reached < end {
            let path = segments.last().map_or(dir.clone(), |s| s.path.clone());
            return Err(damaged(&path, reached, end));
        }
        // Sealed segments scanned now get their index file; the last one is
        // appended to, so any index it has is stale from here on.
        if let Some((active, sealed)) = segments.split_last() {
            index_file::remove(&active.path)?;
            for (segment, (end, scanned)) in sealed.iter().zip(&sealing) {
                if *scanned {
                    segment.write_index(*end);
                }
            }
        }
        let log = self.log(slot);
        let mut part = Appending::new(log.clone(), dir);
        if let Some(active) = segments.last() {
            part.file = Some(active.file.clone());
            part.base = active.base;
            part.written = active.size;
            part.indexed = active.index.last().map(|(_, pos)| *pos);
            part.indexed_published = part.indexed;
        }
        *log.write_shared() = Shared {
            segments,
            start,
            end,
        };
        self.parts.insert(slot.clone(), part);
        Ok(())
    }
}

fn damaged(path: &std::path::Path, reached: u64, end: u64) -> StorageError {
    unavailable(format!(
        "{}: the records reach offset {reached} but the database holds them up to {end}: \
         the data directory lost acknowledged records (a disk fault?); restore it from a backup",
        path.display()
    ))
}
