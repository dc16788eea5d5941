//! The embedded store's write-ahead log: what makes a group commit durable.
//!
//! The writer applies a group of requests to redb without syncing it
//! (`Durability::None`), appends the group's logged writes to the log as
//! one CRC-checked [`frame`] with one `write` and one `fdatasync`, and only
//! then commits the redb transaction and answers. Every group also records
//! the LSN of its frame in redb, so the database always says which frames it
//! holds. A checkpoint (a durable redb commit, every 100 ms or 4 MiB of log)
//! makes everything before it durable in redb, and the log's segments are
//! deleted. After a crash, redb is back at its last durable commit and the
//! frames after the LSN it holds are applied again, in order; the torn tail
//! of the last segment (a frame cut short by the crash) is dropped, being a
//! group that was never acknowledged.
//!
//! Segments are files named by the LSN of their first frame
//! (`<lsn>.wal`, 20 digits), in the `wal` directory beside the database.

pub(crate) mod frame;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) use frame::Frame;

use super::unavailable;
use crate::storage::StorageError;

/// Suffix of a segment file's name.
const SUFFIX: &str = ".wal";

/// The frames a store must apply again when it opens.
#[derive(Debug, Default)]
pub(crate) struct Replay {
    /// Frames after the database's LSN, in order.
    pub(crate) frames: Vec<Frame>,
    /// Bytes of a torn tail that were dropped.
    pub(crate) torn_bytes: u64,
}

/// The open log: appends frames to the current segment.
pub(crate) struct Wal {
    dir: PathBuf,
    /// The segment frames go to, once the first frame since the last
    /// checkpoint created it.
    segment: Option<File>,
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

/// The segments in `dir`, oldest first.
fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, StorageError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| unavailable(format!("{}: {e}", dir.display())))? {
        let path = entry.map_err(unavailable)?.path();
        let lsn = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(SUFFIX))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(lsn) = lsn {
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
        for (n, (_, path)) in found.iter().enumerate() {
            let bytes =
                fs::read(path).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
            let mut at = 0;
            while let Some((frame, len)) = frame::read(&bytes[at..]) {
                at += len;
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
            let rest = (bytes.len() - at) as u64;
            if rest > 0 && n + 1 < found.len() {
                return Err(unavailable(format!(
                    "write-ahead log {}: {rest} damaged bytes before the next segment",
                    path.display()
                )));
            }
            replay.torn_bytes += rest;
        }
        let wal = Self {
            dir: dir.to_owned(),
            segment: None,
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

    /// Append the frame begun in `buf` (see [`frame::begin`]) durably: one
    /// write, one `fdatasync`. Its LSN comes back.
    pub(crate) fn append(&mut self, buf: &mut [u8], clock_ms: u64) -> Result<u64, StorageError> {
        if self.broken {
            return Err(unavailable(
                "the write-ahead log failed and has not been reopened",
            ));
        }
        let lsn = self.next_lsn;
        frame::seal(buf, lsn, clock_ms);
        let written = self.segment(lsn).and_then(|file| {
            file.write_all(buf)
                .and_then(|()| file.sync_data())
                .map_err(|e| unavailable(format!("write-ahead log: {e}")))
        });
        if let Err(e) = written {
            self.broken = true;
            return Err(e);
        }
        self.segment_bytes += buf.len() as u64;
        self.next_lsn += 1;
        Ok(lsn)
    }

    /// Take back the last frame appended (its group did not commit), so it
    /// is not applied at the next open.
    pub(crate) fn discard_last(&mut self, frame_len: usize) {
        let Some(file) = &self.segment else { return };
        let keep = self.segment_bytes.saturating_sub(frame_len as u64);
        match file.set_len(keep).and_then(|()| file.sync_data()) {
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

    /// The current segment, created (and its directory entry made durable)
    /// when the first frame since a checkpoint goes to it.
    fn segment(&mut self, first_lsn: u64) -> Result<&mut File, StorageError> {
        if self.segment.is_none() {
            let path = self.dir.join(segment_name(first_lsn));
            let file = OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)
                .map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
            sync_dir(&self.dir)?;
            self.segment_bytes = 0;
            self.segment = Some(file);
        }
        self.segment
            .as_mut()
            .ok_or_else(|| unavailable("write-ahead log: no segment"))
    }

    /// The database durably holds every frame appended so far: delete the
    /// segments; the next frame starts a new one.
    pub(crate) fn checkpointed(&mut self) -> Result<(), StorageError> {
        self.segment = None;
        self.segment_bytes = 0;
        for (_, path) in segments(&self.dir)? {
            fs::remove_file(&path).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
