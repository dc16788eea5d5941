//! Store format 2 → 3: the records move out of the database into segment
//! files. The segments are written and synced first; one durable
//! transaction then records how far each partition reaches, drops the old
//! tables and marks the format. A crash before that commit leaves format 2,
//! and the next start migrates again from the beginning.

use std::path::Path;

use redb::{Database, ReadableTable, TableHandle};

use super::segments::import::write_partition;
use super::segments::record::Head;
use super::tables::{
    EVENTS, FORMAT, FORMAT_KEY, META, NEXT_SEQ, PARTITION_BYTES, PARTITIONS, TOPICS,
    split_old_record,
};
use super::unavailable;
use crate::storage::StorageError;

/// Move the records of a format-2 database into segments under
/// `records_dir` (nothing to do for a newer one).
pub(super) fn records_out_of_database(
    db: &Database,
    records_dir: &Path,
) -> Result<(), StorageError> {
    let txn = db.begin_write().map_err(unavailable)?;
    let old_tables: Vec<String> = txn
        .list_tables()
        .map_err(unavailable)?
        .map(|t| t.name().to_owned())
        .collect();
    if !old_tables.iter().any(|t| t == EVENTS.name()) {
        return Ok(());
    }
    std::fs::create_dir_all(records_dir).map_err(unavailable)?;
    let mut states = Vec::new();
    let mut next_seq = 0;
    let mut moved = 0u64;
    {
        let topics = txn.open_table(TOPICS).map_err(unavailable)?;
        let events = txn.open_table(EVENTS).map_err(unavailable)?;
        for entry in topics.iter().map_err(unavailable)? {
            let (name, partitions) = entry.map_err(unavailable)?;
            let topic = name.value().to_owned();
            for p in 0..partitions.value() {
                let range = events
                    .range((topic.as_str(), p, 0)..=(topic.as_str(), p, u64::MAX))
                    .map_err(unavailable)?;
                let records = range.map(|entry| {
                    let (k, v) = entry.map_err(unavailable)?;
                    let (seq, appended_ms, payload) = split_old_record(v.value())?;
                    next_seq = next_seq.max(seq + 1);
                    moved += 1;
                    let head = Head {
                        offset: k.value().2,
                        seq,
                        appended_ms,
                        len: 0,
                    };
                    Ok((head, payload.to_vec()))
                });
                let state = write_partition(records_dir, &topic, p, records)?;
                states.push((topic.clone(), p, state));
            }
        }
    }
    {
        let mut table = txn.open_table(PARTITIONS).map_err(unavailable)?;
        for (topic, p, s) in &states {
            table
                .insert((topic.as_str(), *p), (s.end, s.bytes, s.start))
                .map_err(unavailable)?;
        }
        let mut meta = txn.open_table(META).map_err(unavailable)?;
        meta.insert(NEXT_SEQ, next_seq).map_err(unavailable)?;
        meta.insert(FORMAT_KEY, FORMAT).map_err(unavailable)?;
    }
    txn.delete_table(EVENTS).map_err(unavailable)?;
    if old_tables.iter().any(|t| t == PARTITION_BYTES.name()) {
        txn.delete_table(PARTITION_BYTES).map_err(unavailable)?;
    }
    txn.commit().map_err(unavailable)?;
    tracing::info!(
        records = moved,
        "embedded log migrated to store format 3: records moved out of the database into segment files"
    );
    Ok(())
}
