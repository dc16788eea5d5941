//! A sealed segment's sparse index on disk, `<base>.index` beside its
//! `<base>.log` (Kafka's names), so opening a partition reads the index of
//! each sealed segment instead of every record in it; only the segment
//! being appended to is scanned.
//!
//! Written when a segment rolls (and after a scan at open found none), not
//! synced: it is a cache of what a scan would find. One is used only when
//! its checksum holds, it describes a file of exactly the segment's length,
//! and the database holds every record it covers (so the checkpoint that
//! recorded them had synced the segment); anything else is scanned, and the
//! index written again. Compaction and retention remove it with the
//! segment it describes.
//!
//! Layout (little-endian): magic `SPIX`, version `u32`, the segment's size
//! `u64`, the offset after its last record `u64`, the entry count `u32`,
//! each entry (offset `u64`, position `u64`), then the CRC-32C of all of it.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::storage::StorageError;

use super::super::le::{u32_at, u64_at};
use super::super::unavailable;

const MAGIC: &[u8; 4] = b"SPIX";
const VERSION: u32 = 1;
/// Bytes before the entries.
const HEAD: usize = 4 + 4 + 8 + 8 + 4;

/// What a sealed segment's index file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SealedIndex {
    /// Bytes of the segment file.
    pub(crate) size: u64,
    /// The offset after its last record (its base if it has none).
    pub(crate) end: u64,
    /// (offset, position) entries, as [`super::segment::Segment::index`].
    pub(crate) entries: Vec<(u64, u64)>,
}

/// The index file of the segment at `log`.
pub(crate) fn path_of(log: &Path) -> PathBuf {
    log.with_extension("index")
}

fn encode(index: &SealedIndex) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEAD + index.entries.len() * 16 + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&index.size.to_le_bytes());
    out.extend_from_slice(&index.end.to_le_bytes());
    let count = u32::try_from(index.entries.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_le_bytes());
    for (offset, position) in index.entries.iter().take(count as usize) {
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&position.to_le_bytes());
    }
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn decode(bytes: &[u8]) -> Option<SealedIndex> {
    if bytes.len() < HEAD + 4 || &bytes[..4] != MAGIC || u32_at(bytes, 4) != VERSION {
        return None;
    }
    let count = u32_at(bytes, 24) as usize;
    let body = HEAD.checked_add(count.checked_mul(16)?)?;
    if bytes.len() != body + 4 || crc32c::crc32c(&bytes[..body]) != u32_at(bytes, body) {
        return None;
    }
    let entries = (0..count)
        .map(|i| {
            let at = HEAD + i * 16;
            (u64_at(bytes, at), u64_at(bytes, at + 8))
        })
        .collect();
    Some(SealedIndex {
        size: u64_at(bytes, 8),
        end: u64_at(bytes, 16),
        entries,
    })
}

/// Write the index of the segment at `log` (through a temporary file
/// renamed over it, so a reader never meets half of one).
pub(crate) fn write(log: &Path, index: &SealedIndex) -> Result<(), StorageError> {
    let path = path_of(log);
    let tmp = path.with_extension("index.tmp");
    let io = |e: std::io::Error| unavailable(format!("{}: {e}", path.display()));
    File::create(&tmp)
        .and_then(|mut f| f.write_all(&encode(index)))
        .map_err(io)?;
    fs::rename(&tmp, &path).map_err(io)
}

/// The index of the segment at `log`, if there is an intact one.
pub(crate) fn read(log: &Path) -> Option<SealedIndex> {
    decode(&fs::read(path_of(log)).ok()?)
}

/// Remove the index of the segment at `log`, if any.
pub(crate) fn remove(log: &Path) -> Result<(), StorageError> {
    let path = path_of(log);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(unavailable(format!("{}: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_reads_back_and_a_damaged_one_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("00000000000000000007.log");
        let index = SealedIndex {
            size: 9000,
            end: 57,
            entries: vec![(7, 0), (30, 4100), (52, 8200)],
        };
        write(&log, &index).unwrap();
        assert_eq!(read(&log), Some(index.clone()));
        let bytes = fs::read(path_of(&log)).unwrap();
        for at in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x10;
            assert_eq!(decode(&flipped), None, "flipped byte {at}");
        }
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None, "cut short");
        remove(&log).unwrap();
        assert_eq!(read(&log), None);
        remove(&log).unwrap();
    }
}
