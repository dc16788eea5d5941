//! Writing a partition's records wholesale into fresh segments: how the
//! records of a format-2 database (kept in the database itself) move out.

use std::os::unix::fs::FileExt;

use super::record::{self, Head};
use super::segment::Segment;
use super::{DEFAULT_SEGMENT_BYTES, partition_dir, sync_dir};
use crate::storage::StorageError;

use super::super::tables::PartitionState;
use super::super::unavailable;

/// Write `records` (in offset order) as the partition's only segments,
/// synced; the state the database is to hold for it.
pub(crate) fn write_partition(
    records_dir: &std::path::Path,
    topic: &str,
    partition: u32,
    records: impl Iterator<Item = Result<(Head, Vec<u8>), StorageError>>,
) -> Result<PartitionState, StorageError> {
    let dir = partition_dir(records_dir, topic, partition);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(unavailable(format!("{}: {e}", dir.display())));
        }
        _ => {}
    }
    let mut state = PartitionState::default();
    let mut buf = Vec::new();
    let mut segment: Option<Segment> = None;
    for entry in records {
        let (head, payload) = entry?;
        if segment.is_none() {
            if state.bytes == 0 {
                state.start = head.offset;
                std::fs::create_dir_all(&dir).map_err(unavailable)?;
            }
            segment = Some(Segment::create(&dir, head.offset)?);
        }
        state.bytes += record::encode_read(&mut buf, &head, &payload)?;
        state.end = head.offset + 1;
        if buf.len() as u64 >= DEFAULT_SEGMENT_BYTES {
            flush(segment.take(), &mut buf)?;
        }
    }
    flush(segment, &mut buf)?;
    if state.bytes > 0 {
        sync_dir(&dir)?;
        sync_dir(records_dir)?;
    }
    Ok(state)
}

fn flush(segment: Option<Segment>, buf: &mut Vec<u8>) -> Result<(), StorageError> {
    if let Some(segment) = segment {
        segment.file.write_all_at(buf, 0).map_err(unavailable)?;
        segment.file.sync_data().map_err(unavailable)?;
    }
    buf.clear();
    Ok(())
}
