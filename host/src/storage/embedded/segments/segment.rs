//! One segment file of a partition: records of consecutive offsets from its
//! base, appended and never changed (compaction writes a new file in its
//! place), with a sparse index in memory of where every 4 KiB of records
//! begins.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::index_file;
use super::record::{self, Head, Parsed};
use crate::storage::StorageError;

use super::super::unavailable;

/// Bytes of records between two entries of the index.
pub(super) const INDEX_EVERY: u64 = 4096;
/// Bytes read from a segment at once.
const READ_CHUNK: usize = 64 << 10;

/// A segment as readers see it.
pub(crate) struct Segment {
    /// Offset of its first record (and its file's name).
    pub(crate) base: u64,
    pub(crate) path: PathBuf,
    pub(crate) file: Arc<File>,
    /// (offset, position) of a record every [`INDEX_EVERY`] bytes, the
    /// first record's included.
    pub(crate) index: Vec<(u64, u64)>,
    /// Bytes of published records.
    pub(crate) size: u64,
}

/// What a segment file held when it was opened.
pub(crate) struct Opened {
    pub(crate) segment: Segment,
    /// The offset after its last record kept (its base if none).
    pub(crate) end: u64,
    /// Bytes cut off its end: a torn record, or records past the end.
    pub(crate) cut: u64,
    /// Its index came from its index file, not from a scan.
    pub(crate) from_index: bool,
}

pub(crate) fn file_name(base: u64) -> String {
    format!("{base:020}.log")
}

/// Delete the segment file at `path` and its index file.
pub(crate) fn remove_files(path: &Path) -> Result<(), StorageError> {
    std::fs::remove_file(path).map_err(|e| io(path, e))?;
    index_file::remove(path)
}

/// The base offset of a segment file named `name`, if it is one.
pub(crate) fn base_of(name: &str) -> Option<u64> {
    name.strip_suffix(".log")?.parse().ok()
}

fn io(path: &Path, e: std::io::Error) -> StorageError {
    unavailable(format!("{}: {e}", path.display()))
}

fn open_rw(path: &Path, create: bool) -> Result<File, StorageError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(path)
        .map_err(|e| io(path, e))
}

impl Segment {
    /// A new, empty segment file in `dir` starting at `base`.
    pub(crate) fn create(dir: &Path, base: u64) -> Result<Self, StorageError> {
        let path = dir.join(file_name(base));
        let file = open_rw(&path, true)?;
        file.set_len(0).map_err(|e| io(&path, e))?;
        index_file::remove(&path)?;
        Ok(Self {
            base,
            path,
            file: Arc::new(file),
            index: Vec::new(),
            size: 0,
        })
    }

    /// Open the segment at `path`, keeping its records below `end` and
    /// cutting off the rest: records of groups the database does not hold
    /// (the write-ahead log gives them again), a torn last record, or
    /// whatever follows a damaged one.
    ///
    /// A sealed segment with an index file that matches it, wholly below
    /// `end`, is not scanned ([`index_file`]).
    pub(crate) fn open(path: PathBuf, base: u64, end: u64) -> Result<Opened, StorageError> {
        let file = open_rw(&path, false)?;
        let len = file.metadata().map_err(|e| io(&path, e))?.len();
        let mut segment = Self {
            base,
            path,
            file: Arc::new(file),
            index: Vec::new(),
            size: len,
        };
        if let Some(sealed) = index_file::read(&segment.path)
            && sealed.size == len
            && sealed.end <= end
        {
            segment.index = sealed.entries;
            return Ok(Opened {
                segment,
                end: sealed.end,
                cut: 0,
                from_index: true,
            });
        }
        let mut kept = base;
        let mut at = 0;
        let mut indexed: Option<u64> = None;
        let mut index = Vec::new();
        let stop = segment.scan(0, |head, _, pos| {
            if head.offset >= end {
                return Ok(false);
            }
            if indexed.is_none_or(|last| pos - last >= INDEX_EVERY) {
                index.push((head.offset, pos));
                indexed = Some(pos);
            }
            kept = head.offset + 1;
            at = pos + head.len;
            Ok(true)
        });
        match stop {
            // A damaged or torn record ends what is kept; whoever opens the
            // partition decides whether records the database holds are lost.
            Ok(()) | Err(Scan::Damaged(_)) => {}
            Err(Scan::Failed(e)) => return Err(e),
        }
        segment.index = index;
        if at < len {
            segment.file.set_len(at).map_err(|e| io(&segment.path, e))?;
        }
        segment.size = at;
        Ok(Opened {
            end: kept,
            cut: len - at,
            segment,
            from_index: false,
        })
    }

    /// Write this segment's index file: it is sealed, and `end` is the
    /// offset after its last record. A failure costs a scan at the next
    /// open, so it is logged, not returned.
    pub(crate) fn write_index(&self, end: u64) {
        let sealed = index_file::SealedIndex {
            size: self.size,
            end,
            entries: self.index.clone(),
        };
        if let Err(e) = index_file::write(&self.path, &sealed) {
            tracing::warn!(error = %e, "could not write a sealed segment's index; the next start scans it");
        }
    }

    /// Where to start reading for `offset`: the position of the last
    /// indexed record at or before it.
    pub(crate) fn position_of(&self, offset: u64) -> u64 {
        let after = self.index.partition_point(|(o, _)| *o <= offset);
        after.checked_sub(1).map_or(0, |i| self.index[i].1)
    }

    /// Visit the published records from position `from` on, in order, with
    /// their encoded event and position, while `visit` says go on.
    pub(crate) fn scan(
        &self,
        from: u64,
        mut visit: impl FnMut(Head, &[u8], u64) -> Result<bool, StorageError>,
    ) -> Result<(), Scan> {
        scan_file(&self.file, from, self.size, &mut visit)
    }
}

/// Why a scan stopped early.
pub(crate) enum Scan {
    /// A record at this position is damaged, or torn.
    Damaged(u64),
    Failed(StorageError),
}

impl From<Scan> for StorageError {
    fn from(scan: Scan) -> Self {
        match scan {
            Scan::Damaged(pos) => unavailable(format!("damaged record at byte {pos} of a segment")),
            Scan::Failed(e) => e,
        }
    }
}

/// Visit the records of `file` between positions `from` and `to`.
pub(crate) fn scan_file(
    file: &File,
    from: u64,
    to: u64,
    visit: &mut impl FnMut(Head, &[u8], u64) -> Result<bool, StorageError>,
) -> Result<(), Scan> {
    let mut buf: Vec<u8> = Vec::new();
    // Position of buf[0] in the file.
    let mut base = from;
    let mut used = 0;
    loop {
        // Parse what is buffered.
        loop {
            match record::parse(&buf[used..]) {
                Parsed::Record(head, payload) => {
                    let pos = base + used as u64;
                    if !visit(head, payload, pos).map_err(Scan::Failed)? {
                        return Ok(());
                    }
                    used += head.len as usize;
                }
                Parsed::Short(_) => break,
                Parsed::Damaged => return Err(Scan::Damaged(base + used as u64)),
            }
        }
        let next = base + buf.len() as u64;
        if next >= to {
            return if used == buf.len() {
                Ok(())
            } else {
                Err(Scan::Damaged(base + used as u64))
            };
        }
        buf.drain(..used);
        base += used as u64;
        used = 0;
        let want = match record::parse(&buf) {
            Parsed::Short(n) => n.max(READ_CHUNK),
            _ => READ_CHUNK,
        };
        let have = buf.len();
        let take = (want.saturating_sub(have) as u64).min(to - next).max(1) as usize;
        buf.resize(have + take, 0);
        file.read_exact_at(&mut buf[have..], next)
            .map_err(|e| Scan::Failed(unavailable(e)))?;
    }
}
