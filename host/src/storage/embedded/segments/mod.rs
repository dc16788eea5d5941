//! The records of the embedded log, out of the database: each partition is
//! a directory of append-only segment files (`records/<topic>-<partition>/
//! <base offset>.log`, Kafka's layout), each record CRC-checked, with a
//! sparse index in memory. The write-ahead log makes a group durable; the
//! segments are written once, without a sync of their own, and synced at
//! each checkpoint, before the database records how far they reach. When
//! the store opens, each partition is cut back to the end the database
//! holds and the log's later frames are applied again.
//!
//! The log writer stages a group's records per partition, writes them
//! before the group's frame is logged, and moves past them once the group
//! committed; readers see them only when their [`Publication`] is
//! published, once the group is durable. A failed group's records are cut
//! off again.

pub(crate) mod import;
pub(crate) mod index_file;
mod partition;
mod publish;
pub(crate) mod record;
mod recover;
mod rewrite;
mod segment;
mod sync_at_once;

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

pub(crate) use partition::PartitionLog;
pub(crate) use publish::Publication;
use segment::{INDEX_EVERY, Segment};
use sync_at_once::sync_all_at_once;

use super::unavailable;
use crate::event::Event;
use crate::storage::StorageError;

/// A segment rolls once it holds this many bytes unless configured
/// otherwise (Kafka's `segment.bytes` is 1 GiB; smaller segments let
/// retention free disk sooner on a laptop).
pub const DEFAULT_SEGMENT_BYTES: u64 = 16 << 20;

/// (topic, partition).
pub(crate) type Slot = (String, u32);

/// Every partition's records, shared by the writer and readers.
pub(crate) type Logs = Arc<RwLock<HashMap<Slot, Arc<PartitionLog>>>>;

/// The log writer's side of one partition.
struct Appending {
    log: Arc<PartitionLog>,
    dir: PathBuf,
    /// The last segment's file (none before the first record) and its
    /// base offset.
    file: Option<Arc<File>>,
    base: u64,
    /// Bytes of that file written and published.
    written: u64,
    /// Records of the group being written, their index entries, and the
    /// offset after the last of them.
    staged: Vec<u8>,
    staged_index: Vec<(u64, u64)>,
    staged_end: u64,
    /// Position of the last index entry (published, and with the staged ones).
    indexed: Option<u64>,
    indexed_published: Option<u64>,
    /// Written since the last sync.
    unsynced: bool,
}

/// The writer's handle on every partition's records.
pub(crate) struct Records {
    dir: PathBuf,
    logs: Logs,
    parts: HashMap<Slot, Appending>,
    /// Partitions with staged records, in the order first staged.
    touched: Vec<Slot>,
    /// Files of segments rolled since the last sync.
    rolled: Vec<Arc<File>>,
    /// A segment rolls once it holds this many bytes.
    segment_bytes: u64,
}

/// A partition's directory under `records`: the topic's name (bytes other
/// than letters, digits, `.`, `_` and `-` as `%XX`), a dash, the partition.
pub(crate) fn partition_dir(records: &Path, topic: &str, partition: u32) -> PathBuf {
    let mut name = String::with_capacity(topic.len() + 4);
    for b in topic.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            name.push(b as char);
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    records.join(format!("{name}-{partition}"))
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| unavailable(format!("{}: {e}", dir.display())))
}

impl Records {
    /// The records under `dir` (nothing opened yet: see [`Records::open_partition`]).
    pub(crate) fn new(dir: PathBuf, logs: Logs, segment_bytes: u64) -> Self {
        Self {
            segment_bytes: segment_bytes.max(1),
            dir,
            logs,
            parts: HashMap::new(),
            touched: Vec::new(),
            rolled: Vec::new(),
        }
    }

    /// A known partition's log.
    pub(crate) fn partition(&self, slot: &Slot) -> Option<Arc<PartitionLog>> {
        self.parts.get(slot).map(|p| p.log.clone())
    }

    /// Forget every partition's writer state (before opening them again
    /// after a write failure).
    pub(crate) fn reset(&mut self) {
        self.parts.clear();
        self.touched.clear();
        self.rolled.clear();
    }

    /// The partition's shared log, registered if new.
    fn log(&self, slot: &Slot) -> Arc<PartitionLog> {
        let mut logs = self.logs.write().unwrap_or_else(PoisonError::into_inner);
        logs.entry(slot.clone()).or_default().clone()
    }

    /// Make sure a partition of a new topic is known (empty).
    pub(crate) fn ensure(&mut self, topic: &str, partition: u32) {
        let slot = (topic.to_owned(), partition);
        if !self.parts.contains_key(&slot) {
            let log = self.log(&slot);
            let dir = partition_dir(&self.dir, topic, partition);
            self.parts.insert(slot, Appending::new(log, dir));
        }
    }

    /// Stage `event`'s record at `offset` of `slot`; its length on disk.
    pub(crate) fn stage(
        &mut self,
        slot: &Slot,
        offset: u64,
        seq: u64,
        appended_ms: u64,
        event: &Event,
    ) -> Result<u64, StorageError> {
        if !self.parts.contains_key(slot) {
            self.ensure(&slot.0, slot.1);
        }
        let Some(part) = self.parts.get_mut(slot) else {
            return Err(unavailable("partition vanished"));
        };
        if part.file.is_none() {
            part.start_segment(offset)?;
        }
        if part.staged.is_empty() {
            self.touched.push(slot.clone());
        }
        let pos = part.written + part.staged.len() as u64;
        if part.indexed.is_none_or(|last| pos - last >= INDEX_EVERY) {
            part.staged_index.push((offset, pos));
            part.indexed = Some(pos);
        }
        part.staged_end = offset + 1;
        record::encode(&mut part.staged, offset, seq, appended_ms, event)
    }

    /// Write the staged records to their segments (not synced: the
    /// write-ahead log holds them durably).
    pub(crate) fn write_staged(&mut self) -> Result<(), StorageError> {
        for slot in &self.touched {
            let Some(part) = self.parts.get(slot) else {
                continue;
            };
            if let Some(file) = &part.file {
                file.write_all_at(&part.staged, part.written)
                    .map_err(|e| unavailable(format!("{}: {e}", part.dir.display())))?;
            }
        }
        Ok(())
    }

    /// The group failed: forget its staged records and cut off whatever of
    /// them was written.
    pub(crate) fn roll_back(&mut self) {
        for slot in self.touched.drain(..) {
            let Some(part) = self.parts.get_mut(&slot) else {
                continue;
            };
            if let Some(file) = &part.file
                && let Err(e) = file.set_len(part.written)
            {
                tracing::warn!(error = %e, dir = %part.dir.display(), "could not cut off a failed group's records; reopening cuts them");
            }
            part.staged.clear();
            part.staged_index.clear();
            part.indexed = part.indexed_published;
        }
    }

    /// Make every record written so far durable (a checkpoint): every file
    /// written since the last one synced at once ([`sync_all_at_once`]).
    pub(crate) fn sync(&mut self) -> Result<(), StorageError> {
        let mut files: Vec<(&File, &Path)> =
            self.rolled.iter().map(|f| (&**f, &*self.dir)).collect();
        for part in self.parts.values().filter(|p| p.unsynced) {
            if let Some(file) = &part.file {
                files.push((file, &part.dir));
            }
        }
        sync_all_at_once(&files)?;
        self.rolled.clear();
        for part in self.parts.values_mut() {
            part.unsynced = false;
        }
        Ok(())
    }

    /// Retention moved `slot`'s oldest kept offset to `start` (durably):
    /// readers skip what is below it, and segments wholly below it go.
    pub(crate) fn advance_start(&mut self, slot: &Slot, start: u64) {
        let Some(part) = self.parts.get(slot) else {
            return;
        };
        let doomed: Vec<PathBuf> = {
            let mut shared = part.log.write_shared();
            shared.start = shared.start.max(start);
            let below = shared
                .segments
                .iter()
                .skip(1)
                .take_while(|next| next.base <= shared.start)
                .count();
            shared.segments.drain(..below).map(|s| s.path).collect()
        };
        for path in doomed {
            if let Err(e) = segment::remove_files(&path) {
                tracing::warn!(error = %e, path = %path.display(), "could not delete a segment retention no longer keeps");
            }
        }
    }
}

impl Appending {
    fn new(log: Arc<PartitionLog>, dir: PathBuf) -> Self {
        Self {
            log,
            dir,
            file: None,
            base: 0,
            written: 0,
            staged: Vec::new(),
            staged_index: Vec::new(),
            staged_end: 0,
            indexed: None,
            indexed_published: None,
            unsynced: false,
        }
    }

    /// Start a new segment at `base` (the first, or a roll); the file of
    /// the one it follows.
    fn start_segment(&mut self, base: u64) -> Result<Option<Arc<File>>, StorageError> {
        let first = self.file.is_none();
        if first {
            std::fs::create_dir_all(&self.dir)
                .map_err(|e| unavailable(format!("{}: {e}", self.dir.display())))?;
            if let Some(records) = self.dir.parent() {
                sync_dir(records)?;
            }
        }
        let segment = Segment::create(&self.dir, base)?;
        sync_dir(&self.dir)?;
        let old = self.file.replace(segment.file.clone());
        self.base = base;
        self.written = 0;
        self.indexed = None;
        self.indexed_published = None;
        self.log.write_shared().segments.push(segment);
        Ok(old)
    }
}
