//! The redb tables of the embedded store and their encodings.

use std::collections::HashMap;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::unavailable;
#[cfg(test)]
use crate::event::Event;
use crate::storage::{StorageError, entry_size};

/// Topic name → partition count.
pub(super) const TOPICS: TableDefinition<&str, u32> = TableDefinition::new("topics");
/// The records table of format 2, when records were kept in the database:
/// (topic, partition, offset) → the event's sequence number and append time
/// (ms since the epoch; 8 bytes each, little-endian), then the
/// postcard-encoded [`Event`]. Only read to migrate them to segments.
pub(super) const EVENTS: TableDefinition<(&str, u32, u64), &[u8]> = TableDefinition::new("records");
/// The table of databases written before events carried their sequence
/// number: (topic, partition, offset) → postcard-encoded [`Event`].
const EVENTS_WITHOUT_SEQ: TableDefinition<(&str, u32, u64), &[u8]> = TableDefinition::new("events");
/// (consumer group, topic, partition) → next offset to consume.
pub(super) const OFFSETS: TableDefinition<(&str, &str, u32), u64> = TableDefinition::new("offsets");
/// Format 2's (topic, partition) → bytes of its records; dropped by the migration.
pub(super) const PARTITION_BYTES: TableDefinition<(&str, u32), u64> =
    TableDefinition::new("partition-bytes");
/// (topic, partition) → how far its segments reach: the offset after its
/// last record, the bytes of its kept records (what `retention_bytes`
/// bounds) and its oldest kept offset.
pub(super) const PARTITIONS: TableDefinition<(&str, u32), (u64, u64, u64)> =
    TableDefinition::new("partitions");
/// (plugin namespace, key) → value.
pub(super) const KV: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("kv");
/// (plugin namespace, key) → when its value expires (ms since the epoch),
/// for values set with a time to live.
pub(super) const KV_EXPIRY: TableDefinition<(&str, &str), u64> = TableDefinition::new("kv-expiry");
/// (expiry, plugin namespace, key), in the order they expire: what the
/// sweep reads.
pub(super) const KV_EXPIRING: TableDefinition<(u64, &str, &str), ()> =
    TableDefinition::new("kv-expiring");

/// Facts about the database itself: [`APPLIED_LSN`].
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The LSN of the last write-ahead log frame the database holds.
pub(super) const APPLIED_LSN: &str = "applied-lsn";
/// The sequence number the next appended event gets.
pub(super) const NEXT_SEQ: &str = "next-seq";
/// The layout of the data directory a database belongs to.
pub(super) const FORMAT_KEY: &str = "format";
/// The layout this build writes and reads: 1 was the database alone
/// (no `meta` entry), 2 adds the write-ahead log, 3 keeps the records in
/// segment files. Older ones are migrated when opened; newer ones are
/// refused.
pub(super) const FORMAT: u64 = 3;

/// Next offset of every partition: (topic, partition) → offset.
pub(super) type NextOffsets = HashMap<(String, u32), u64>;

pub(super) fn create_all(db: &Database) -> Result<(), StorageError> {
    let txn = db.begin_write().map_err(unavailable)?;
    txn.open_table(TOPICS).map_err(unavailable)?;
    txn.open_table(OFFSETS).map_err(unavailable)?;
    txn.open_table(KV).map_err(unavailable)?;
    txn.open_table(KV_EXPIRY).map_err(unavailable)?;
    txn.open_table(KV_EXPIRING).map_err(unavailable)?;
    txn.open_table(PARTITIONS).map_err(unavailable)?;
    check_format(&txn)?;
    migrate_events_without_seq(&txn)?;
    txn.commit().map_err(unavailable)
}

/// Refuse a data directory of a newer layout than [`FORMAT`] (a newer
/// streamplug wrote it: reading it could lose what that one acknowledged);
/// mark an older one as taken over.
fn check_format(txn: &redb::WriteTransaction) -> Result<(), StorageError> {
    let mut meta = txn.open_table(META).map_err(unavailable)?;
    let found = meta
        .get(FORMAT_KEY)
        .map_err(unavailable)?
        .map(|v| v.value());
    match found {
        Some(format) if format > FORMAT => Err(unavailable(format!(
            "the data directory was written by a newer streamplug (store format {format}; \
             this build reads formats up to {FORMAT}): run that version, or set \
             `storage.data_dir` to another directory"
        ))),
        Some(_) => Ok(()),
        None => meta
            .insert(FORMAT_KEY, FORMAT)
            .map(drop)
            .map_err(unavailable),
    }
}

/// Give the events of an older database sequence numbers (in topic,
/// partition, offset order: their order across topics was not kept) and
/// move them to the current table.
fn migrate_events_without_seq(txn: &redb::WriteTransaction) -> Result<(), StorageError> {
    let exists = txn
        .list_tables()
        .map_err(unavailable)?
        .any(|t| redb::TableHandle::name(&t) == "events");
    if !exists {
        return Ok(());
    }
    {
        let old = txn.open_table(EVENTS_WITHOUT_SEQ).map_err(unavailable)?;
        let mut new = txn.open_table(EVENTS).map_err(unavailable)?;
        // Their append times were not kept: they count as appended now.
        let now = crate::storage::millis_now();
        for (seq, entry) in old.iter().map_err(unavailable)?.enumerate() {
            let (k, v) = entry.map_err(unavailable)?;
            let mut record = (seq as u64).to_le_bytes().to_vec();
            record.extend_from_slice(&now.to_le_bytes());
            record.extend_from_slice(v.value());
            new.insert(k.value(), record.as_slice())
                .map_err(unavailable)?;
        }
    }
    txn.delete_table(EVENTS_WITHOUT_SEQ).map_err(unavailable)?;
    tracing::info!("embedded log migrated: events now carry their append sequence");
    Ok(())
}

/// How far one partition's segments reach, as the database holds it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct PartitionState {
    /// The offset after its last record.
    pub(super) end: u64,
    /// Bytes of its kept records.
    pub(super) bytes: u64,
    /// Its oldest kept offset.
    pub(super) start: u64,
}

/// The state of every partition: (topic, partition) → state.
pub(super) type PartitionStates = HashMap<(String, u32), PartitionState>;

/// Topics, and the state of each of their partitions.
pub(super) fn load_topics(
    db: &Database,
) -> Result<(HashMap<String, u32>, PartitionStates), StorageError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let topics_table = txn.open_table(TOPICS).map_err(unavailable)?;
    let states = txn.open_table(PARTITIONS).map_err(unavailable)?;
    let mut topics = HashMap::new();
    let mut partitions = HashMap::new();
    for entry in topics_table.iter().map_err(unavailable)? {
        let (name, count) = entry.map_err(unavailable)?;
        let name = name.value().to_owned();
        for p in 0..count.value() {
            let state = states
                .get((name.as_str(), p))
                .map_err(unavailable)?
                .map_or_else(PartitionState::default, |v| {
                    let (end, bytes, start) = v.value();
                    PartitionState { end, bytes, start }
                });
            partitions.insert((name.clone(), p), state);
        }
        topics.insert(name, count.value());
    }
    Ok((topics, partitions))
}

/// A number kept in the `meta` table (0 if absent).
pub(super) fn load_meta(db: &Database, key: &str) -> Result<u64, StorageError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let meta = txn.open_table(META).map_err(unavailable)?;
    Ok(meta.get(key).map_err(unavailable)?.map_or(0, |v| v.value()))
}

/// Bytes held by each KV namespace.
pub(super) fn load_kv_usage(db: &Database) -> Result<HashMap<String, u64>, StorageError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let kv = txn.open_table(KV).map_err(unavailable)?;
    let mut usage: HashMap<String, u64> = HashMap::new();
    for entry in kv.iter().map_err(unavailable)? {
        let (k, v) = entry.map_err(unavailable)?;
        let (ns, key) = k.value();
        *usage.entry(ns.to_owned()).or_default() += entry_size(key, v.value());
    }
    Ok(usage)
}

/// Bytes before the event in a format-2 record: its sequence number and
/// append time.
const RECORD_HEAD: usize = 16;

fn head_u64(bytes: &[u8], at: usize) -> Result<u64, StorageError> {
    let field: [u8; 8] = bytes
        .get(at..at + 8)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| unavailable("corrupt event record: shorter than its head"))?;
    Ok(u64::from_le_bytes(field))
}

/// A format-2 record's sequence number, append time and encoded event.
pub(super) fn split_old_record(bytes: &[u8]) -> Result<(u64, u64, &[u8]), StorageError> {
    Ok((
        head_u64(bytes, 0)?,
        head_u64(bytes, 8)?,
        &bytes[RECORD_HEAD..],
    ))
}

/// A format-2 record, for tests that build an old data directory.
#[cfg(test)]
pub(super) fn encode_old_record(seq: u64, appended_ms: u64, event: &Event) -> Vec<u8> {
    let mut out = seq.to_le_bytes().to_vec();
    out.extend_from_slice(&appended_ms.to_le_bytes());
    postcard::to_io(event, &mut out).expect("an event encodes");
    out
}
