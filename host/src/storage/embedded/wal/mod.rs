//! The embedded store's write-ahead log: what makes a group commit durable.
//!
//! The writer applies a group of requests to redb without syncing it
//! (`Durability::None`), writes the group's logged writes to the log as
//! one CRC-checked [`frame`] with one `write`, commits the redb transaction
//! and hands the group to the sync thread, which `fdatasync`s the segment
//! (once for every group waiting) before anyone is answered. Every group
//! also records the LSN of its frame in redb, so the database always says
//! which frames it holds. A checkpoint (a durable redb commit, every second or 4 MiB of log)
//! makes everything before it durable in redb, and the log's segments are
//! deleted. After a crash, redb is back at its last durable commit and the
//! frames after the LSN it holds are applied again, in order; the torn tail
//! of the last segment (a frame cut short by the crash) is dropped, being a
//! group that was never acknowledged.
//!
//! Segments are files named by the LSN of their first frame
//! (`<lsn>.wal`, 20 digits), in the `wal` directory beside the database.
//! As PostgreSQL does with its WAL segments, a segment is filled with zeroes
//! when it is created and, once a checkpoint no longer needs its frames,
//! renamed and written over again rather than deleted: a frame then goes
//! to blocks the file already has, so its `fdatasync` writes the frame and
//! flushes, without the inode write an append needs (measured in
//! `docs/BENCHMARKS.md`, "The log writer's I/O and the acks"). Reading a
//! segment stops at zeroes (never written) or at a frame whose LSN does not
//! follow the one before it (the first frame has the LSN of the segment's
//! name): bytes left from the file's earlier use.

pub(crate) mod frame;

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) use frame::Frame;

use super::unavailable;
use crate::storage::StorageError;

/// Suffix of a segment file's name.
const SUFFIX: &str = ".wal";
/// Bytes of zeroes a new segment is filled with.
const PREALLOCATED: u64 = 1 << 20;
/// A segment that grew beyond this (a very large group) is deleted at a
/// checkpoint rather than kept to be written over.
const REUSED_AT_MOST: u64 = 16 << 20;

/// The frames a store must apply again when it opens.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    /// Frames after the database's LSN, in order.
    pub(crate) frames: Vec<Frame>,
    /// Bytes of a torn tail that were dropped.
    pub(crate) torn_bytes: u64,
}

/// A segment file whose frames the database holds, kept to be written
/// over by the next segment.
struct Spare {
    path: PathBuf,
    file: File,
}

/// The open log: appends frames to the current segment.
pub(crate) struct Wal {
    dir: PathBuf,
    /// The segment frames go to, once the first frame since the last
    /// checkpoint created it (or renamed the spare to it).
    segment: Option<Arc<File>>,
    /// The last checkpoint's segment, to be written over.
    spare: Option<Spare>,
    /// Bytes in the current segment.
    segment_bytes: u64,
    /// The LSN the next frame gets.
    next_lsn: u64,
    /// A write or sync failed: the segment's end is unknown, so nothing more
    /// is appended until the log is opened again.
    broken: bool,
}

fn segment_name(lsn: u64) -> String {
    format!("{lsn:020}{SUFFIX}")
}

/// The LSN a segment's file name gives its first frame, if it names one.
fn first_lsn_of(path: &Path) -> Option<u64> {
    path.file_name()?
        .to_str()?
        .strip_suffix(SUFFIX)?
        .parse()
        .ok()
}

/// The segments in `dir`, oldest first.
fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StorageError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| unavailable(format!("{}: {e}", dir.display())))? {
        let path = entry.map_err(unavailable)?.path();
        if let Some(lsn) = first_lsn_of(&path) {
            out.push((lsn, path));
        }
    }
    out.sort();
    Ok(out)
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| unavailable(format!("{}: {e}", dir.display())))
}

impl Wal {
    /// Open the log in `dir` (creating it) for a database that holds the
    /// frames up to `applied_lsn`: the frames after it come back to be
    /// applied again. A gap in them (a frame missing before later ones), or a
    /// damaged frame before the last segment's end, is refused: applying
    /// what follows would not give back what was acknowledged.
    pub(crate) fn open(dir: &Path, applied_lsn: u64) -> Result<(Self, Replay), StorageError> {
        fs::create_dir_all(dir).map_err(|e| unavailable(format!("{}: {e}", dir.display())))?;
        let found = segments(dir)?;
        let mut replay = Replay::default();
        let mut expected = applied_lsn + 1;
        for (n, (first_lsn, path)) in found.iter().enumerate() {
            let bytes =
                fs::read(path).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
            let (frames, damaged) = read_segment(&bytes, *first_lsn);
            let needed = frames.last().is_some_and(|f| f.lsn >= expected);
            for frame in frames {
                if frame.lsn < expected {
                    continue;
                }
                if frame.lsn > expected {
                    return Err(unavailable(format!(
                        "write-ahead log {}: frame {} follows frame {}: frames are missing, \
                         so the store cannot be recovered to what it acknowledged",
                        path.display(),
                        frame.lsn,
                        expected - 1
                    )));
                }
                expected += 1;
                replay.frames.push(frame);
            }
            // Damage after frames the database lacks, with more segments
            // to come, would lose acknowledged groups.
            if damaged > 0 && needed && n + 1 < found.len() {
                return Err(unavailable(format!(
                    "write-ahead log {}: {damaged} damaged bytes before the next segment",
                    path.display()
                )));
            }
            replay.torn_bytes += damaged;
        }
        let wal = Self {
            dir: dir.to_owned(),
            segment: None,
            spare: None,
            segment_bytes: 0,
            next_lsn: expected,
            broken: false,
        };
        Ok((wal, replay))
    }

    /// The directory the log lives in (to open it again).
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The LSN the next frame gets.
    pub(crate) fn next_lsn(&self) -> u64 {
        self.next_lsn
    }

    /// Bytes appended to the current segment.
    pub(crate) fn segment_bytes(&self) -> u64 {
        self.segment_bytes
    }

    /// Write the frame begun in `buf` (see [`frame::begin`]) with one
    /// `write`, not synced: its LSN comes back, with the segment file to
    /// `fdatasync` before the frame counts as durable (the log's sync
    /// thread does that, for every group waiting at once).
    pub(crate) fn write(
        &mut self,
        buf: &mut [u8],
        clock_ms: u64,
    ) -> Result<(u64, Arc<File>), StorageError> {
        if self.broken {
            return Err(unavailable(
                "the write-ahead log failed and has not been reopened",
            ));
        }
        let lsn = self.next_lsn;
        frame::seal(buf, lsn, clock_ms);
        let at = self.segment_bytes;
        let written = self.segment(lsn).and_then(|file| {
            file.write_all_at(buf, at)
                .map_err(|e| unavailable(format!("write-ahead log: {e}")))?;
            Ok(file.clone())
        });
        match written {
            Ok(file) => {
                self.segment_bytes += buf.len() as u64;
                self.next_lsn += 1;
                Ok((lsn, file))
            }
            Err(e) => {
                self.broken = true;
                Err(e)
            }
        }
    }

    /// Write the frame begun in `buf` and make it durable at once.
    #[cfg(test)]
    pub(crate) fn append(&mut self, buf: &mut [u8], clock_ms: u64) -> Result<u64, StorageError> {
        let (lsn, file) = self.write(buf, clock_ms)?;
        file.sync_data().map_err(unavailable)?;
        Ok(lsn)
    }

    /// A sync of the log failed: its end is unknown, so nothing more is
    /// written until it is opened again.
    pub(crate) fn set_broken(&mut self) {
        self.broken = true;
    }

    /// Take back the last frame appended (its group did not commit), so it
    /// is not applied at the next open: it becomes zeroes, where reading
    /// stops.
    pub(crate) fn discard_last(&mut self, frame_len: usize) {
        let Some(file) = &self.segment else { return };
        let keep = self.segment_bytes.saturating_sub(frame_len as u64);
        match file
            .write_all_at(&vec![0; frame_len], keep)
            .and_then(|()| file.sync_data())
        {
            Ok(()) => {
                self.segment_bytes = keep;
                self.next_lsn -= 1;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not take back a frame of the write-ahead log");
                self.broken = true;
            }
        }
    }

    /// The current segment, made (the spare renamed, or a new file filled
    /// with zeroes, and its directory entry made durable) when the first
    /// frame since a checkpoint goes to it.
    fn segment(&mut self, first_lsn: u64) -> Result<&Arc<File>, StorageError> {
        if self.segment.is_none() {
            let path = self.dir.join(segment_name(first_lsn));
            let file = match self.spare.take() {
                Some(spare) => {
                    fs::rename(&spare.path, &path)
                        .map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
                    spare.file
                }
                None => create_zeroed(&path)?,
            };
            sync_dir(&self.dir)?;
            self.segment_bytes = 0;
            self.segment = Some(Arc::new(file));
        }
        self.segment
            .as_ref()
            .ok_or_else(|| unavailable("write-ahead log: no segment"))
    }

    /// The database durably holds every frame appended so far: the newest
    /// segment is kept to be written over (unless it grew too large), the
    /// others are deleted; the next frame starts a segment.
    pub(crate) fn checkpointed(&mut self) -> Result<(), StorageError> {
        self.segment = None;
        self.segment_bytes = 0;
        let mut found = segments(&self.dir)?;
        if self.spare.is_none()
            && let Some((_, newest)) = found.pop()
        {
            self.spare = reusable(&newest)?;
            if self.spare.is_none() {
                found.push((0, newest));
            }
        }
        for (_, path) in found {
            if self.spare.as_ref().is_some_and(|s| s.path == path) {
                continue;
            }
            fs::remove_file(&path).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
        }
        Ok(())
    }
}

/// The frames of one segment's bytes (the segment's first frame has LSN
/// `first_lsn`), in order, and the bytes of a torn frame after them (a frame
/// with the next LSN cut short or damaged). Zeroes (never written) and
/// frames left from the file's earlier use (other LSNs) end the segment
/// without being torn.
fn read_segment(bytes: &[u8], first_lsn: u64) -> (Vec<Frame>, u64) {
    let mut frames: Vec<Frame> = Vec::new();
    let mut at = 0;
    let mut next = first_lsn;
    while let Some((frame, len)) = frame::read(&bytes[at..]) {
        if frame.lsn != next {
            return (frames, 0);
        }
        at += len;
        next += 1;
        frames.push(frame);
    }
    let rest = &bytes[at..];
    let torn = match frame::claimed(rest) {
        Some((lsn, len)) if lsn == next => len.min(rest.len()),
        _ => 0,
    };
    (frames, torn as u64)
}

/// A new segment file at `path`, filled with [`PREALLOCATED`] zeroes,
/// durably.
fn create_zeroed(path: &Path) -> Result<File, StorageError> {
    let file = OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
    fill_zeroes(&file, path, 0)?;
    Ok(file)
}

/// Write zeroes in `file` from `from` up to [`PREALLOCATED`], durably.
fn fill_zeroes(file: &File, path: &Path, from: u64) -> Result<(), StorageError> {
    const CHUNK: u64 = 64 << 10;
    let failed = |e: std::io::Error| unavailable(format!("{}: {e}", path.display()));
    let zeroes = vec![0; CHUNK as usize];
    let mut at = from;
    while at < PREALLOCATED {
        let n = (PREALLOCATED - at).min(CHUNK) as usize;
        file.write_all_at(&zeroes[..n], at).map_err(failed)?;
        at += n as u64;
    }
    file.sync_all().map_err(failed)
}

/// The segment at `path` as a spare (filled up to [`PREALLOCATED`] if it
/// is shorter), unless it grew too large to keep.
fn reusable(path: &Path) -> Result<Option<Spare>, StorageError> {
    let failed = |e: std::io::Error| unavailable(format!("{}: {e}", path.display()));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(failed)?;
    let len = file.metadata().map_err(failed)?.len();
    if len > REUSED_AT_MOST {
        return Ok(None);
    }
    if len < PREALLOCATED {
        fill_zeroes(&file, path, len)?;
    }
    Ok(Some(Spare {
        path: path.to_owned(),
        file,
    }))
}

/// Tear the last frame of the segment at `path` as a crash in the middle
/// of writing it would: its last `bytes` bytes never reached the disk.
#[cfg(test)]
pub(crate) fn tear_last_frame(path: &Path, bytes: usize) {
    let data = fs::read(path).unwrap();
    let (frames, _) = read_segment(&data, first_lsn_of(path).unwrap());
    let end: usize = frames.iter().map(|f| frame::HEAD + f.payload.len()).sum();
    let file = OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(&vec![0; bytes], (end - bytes) as u64)
        .unwrap();
}

#[cfg(test)]
mod tests;
