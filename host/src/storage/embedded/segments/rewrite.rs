//! Compaction's removal of records: every segment holding one of them is
//! copied without it to a `.cleaned` file, synced, and renamed over the old
//! one (readers still reading the old file keep it until they let go).
//! Offsets stay as they were, with holes. Runs in a group of its own, so
//! no records are staged meanwhile.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use super::index_file;
use super::segment::{INDEX_EVERY, Segment, scan_file};
use super::{Records, Slot, record, sync_dir};
use crate::storage::StorageError;

use super::super::unavailable;

/// What a removal did.
#[derive(Default)]
pub(crate) struct Removed {
    pub(crate) records: u64,
    pub(crate) bytes: u64,
}

impl Records {
    /// Remove the records of `slot` at `offsets` (sorted) that are still there.
    pub(crate) fn remove(&mut self, slot: &Slot, offsets: &[u64]) -> Result<Removed, StorageError> {
        let mut removed = Removed::default();
        let Some(part) = self.parts.get_mut(slot) else {
            return Ok(removed);
        };
        let plans: Vec<(usize, u64, std::path::PathBuf, Arc<std::fs::File>, u64)> = {
            let shared = part.log.read_shared();
            shared
                .segments
                .iter()
                .enumerate()
                .filter(|(i, s)| {
                    let next = shared.segments.get(i + 1).map_or(u64::MAX, |n| n.base);
                    let first = offsets.partition_point(|o| *o < s.base);
                    offsets.get(first).is_some_and(|o| *o < next)
                })
                .map(|(i, s)| (i, s.base, s.path.clone(), s.file.clone(), s.size))
                .collect()
        };
        for (i, base, path, file, size) in plans {
            let cleaned_path = path.with_extension("cleaned");
            let mut out = Vec::with_capacity(size as usize);
            let mut index = Vec::new();
            let mut indexed: Option<u64> = None;
            let mut kept_end = base;
            scan_file(&file, 0, size, &mut |head, payload, _| {
                if offsets.binary_search(&head.offset).is_ok() {
                    removed.records += 1;
                    removed.bytes += head.len;
                    return Ok(true);
                }
                let pos = out.len() as u64;
                if indexed.is_none_or(|last| pos - last >= INDEX_EVERY) {
                    index.push((head.offset, pos));
                    indexed = Some(pos);
                }
                kept_end = head.offset + 1;
                record::encode_read(&mut out, &head, payload)?;
                Ok(true)
            })?;
            let io = |e: std::io::Error| unavailable(format!("{}: {e}", cleaned_path.display()));
            let cleaned = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&cleaned_path)
                .map_err(io)?;
            cleaned.write_all_at(&out, 0).map_err(io)?;
            cleaned.sync_data().map_err(io)?;
            index_file::remove(&path)?;
            std::fs::rename(&cleaned_path, &path).map_err(io)?;
            sync_dir(&part.dir)?;
            let file = Arc::new(cleaned);
            let size = out.len() as u64;
            let mut shared = part.log.write_shared();
            let last = i + 1 == shared.segments.len();
            shared.segments[i] = Segment {
                base,
                path,
                file: file.clone(),
                index,
                size,
            };
            if !last {
                shared.segments[i].write_index(kept_end);
            } else {
                part.file = Some(file);
                part.written = size;
                part.indexed = indexed;
                part.indexed_published = indexed;
            }
        }
        Ok(removed)
    }
}
