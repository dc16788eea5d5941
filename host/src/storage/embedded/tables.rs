//! The redb tables of the embedded store and their encodings.

use std::collections::HashMap;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::unavailable;
use crate::event::Event;
use crate::storage::StorageError;

/// Topic name → partition count.
pub(super) const TOPICS: TableDefinition<&str, u32> = TableDefinition::new("topics");
/// (topic, partition, offset) → the event's sequence number in the whole
/// log's append order and its append time (ms since the epoch; 8 bytes
/// each, little-endian), then the postcard-encoded [`Event`].
pub(super) const EVENTS: TableDefinition<(&str, u32, u64), &[u8]> = TableDefinition::new("records");
/// The table of databases written before events carried their sequence
/// number: (topic, partition, offset) → postcard-encoded [`Event`].
const EVENTS_WITHOUT_SEQ: TableDefinition<(&str, u32, u64), &[u8]> = TableDefinition::new("events");
/// (consumer group, topic, partition) → next offset to consume.
pub(super) const OFFSETS: TableDefinition<(&str, &str, u32), u64> = TableDefinition::new("offsets");
/// (topic, partition) → bytes of its records (what `retention_bytes` bounds).
pub(super) const PARTITION_BYTES: TableDefinition<(&str, u32), u64> =
    TableDefinition::new("partition-bytes");
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
/// The layout of the data directory a database belongs to.
const FORMAT_KEY: &str = "format";
/// The layout this build writes and reads: 1 was the database alone
/// (no `meta` entry), 2 adds the write-ahead log. Older ones are taken over
/// as they are; newer ones are refused.
pub(super) const FORMAT: u64 = 2;

/// Next offset of every partition: (topic, partition) → offset.
pub(super) type NextOffsets = HashMap<(String, u32), u64>;

pub(super) fn create_all(db: &Database) -> Result<(), StorageError> {
    let txn = db.begin_write().map_err(unavailable)?;
    txn.open_table(TOPICS).map_err(unavailable)?;
    txn.open_table(EVENTS).map_err(unavailable)?;
    txn.open_table(OFFSETS).map_err(unavailable)?;
    txn.open_table(KV).map_err(unavailable)?;
    txn.open_table(KV_EXPIRY).map_err(unavailable)?;
    txn.open_table(KV_EXPIRING).map_err(unavailable)?;
    txn.open_table(PARTITION_BYTES).map_err(unavailable)?;
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

/// Topics, the next offset of each of their partitions, and the next
/// sequence number.
pub(super) fn load_topics(
    db: &Database,
) -> Result<(HashMap<String, u32>, NextOffsets, u64), StorageError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let topics_table = txn.open_table(TOPICS).map_err(unavailable)?;
    let events = txn.open_table(EVENTS).map_err(unavailable)?;
    let mut topics = HashMap::new();
    let mut next = HashMap::new();
    let mut next_seq = 0;
    for entry in topics_table.iter().map_err(unavailable)? {
        let (name, partitions) = entry.map_err(unavailable)?;
        let name = name.value().to_owned();
        let partitions = partitions.value();
        for p in 0..partitions {
            let last = events
                .range((name.as_str(), p, 0)..=(name.as_str(), p, u64::MAX))
                .map_err(unavailable)?
                .next_back()
                .transpose()
                .map_err(unavailable)?;
            if let Some((_, v)) = &last {
                next_seq = next_seq.max(record_seq(v.value())? + 1);
            }
            next.insert((name.clone(), p), last.map_or(0, |(k, _)| k.value().2 + 1));
        }
        topics.insert(name, partitions);
    }
    Ok((topics, next, next_seq))
}

/// The LSN of the last write-ahead log frame the database holds (0: none;
/// a database written before the log holds everything it was told).
pub(super) fn load_applied_lsn(db: &Database) -> Result<u64, StorageError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let meta = txn.open_table(META).map_err(unavailable)?;
    Ok(meta
        .get(APPLIED_LSN)
        .map_err(unavailable)?
        .map_or(0, |v| v.value()))
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

/// What a KV entry counts against its plugin's quota.
pub(crate) fn entry_size(key: &str, value: &[u8]) -> u64 {
    (key.len() + value.len()) as u64
}

/// Bytes before the event in a record: its sequence number and append time.
const RECORD_HEAD: usize = 16;

#[cfg(test)]
pub(super) fn encode_record(
    seq: u64,
    appended_ms: u64,
    event: &Event,
) -> Result<Vec<u8>, StorageError> {
    let mut out = Vec::with_capacity(RECORD_HEAD + 256);
    encode_record_into(&mut out, seq, appended_ms, event)?;
    Ok(out)
}

/// [`encode_record`] into `out` (cleared first), so a writer reuses one
/// buffer for every record.
pub(super) fn encode_record_into(
    out: &mut Vec<u8>,
    seq: u64,
    appended_ms: u64,
    event: &Event,
) -> Result<(), StorageError> {
    out.clear();
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&appended_ms.to_le_bytes());
    postcard::to_io(event, out).map(drop).map_err(unavailable)
}

fn head_u64(bytes: &[u8], at: usize) -> Result<u64, StorageError> {
    let field: [u8; 8] = bytes
        .get(at..at + 8)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| unavailable("corrupt event record: shorter than its head"))?;
    Ok(u64::from_le_bytes(field))
}

fn record_seq(bytes: &[u8]) -> Result<u64, StorageError> {
    head_u64(bytes, 0)
}

/// When a record was appended (ms since the epoch).
pub(super) fn record_appended_ms(bytes: &[u8]) -> Result<u64, StorageError> {
    head_u64(bytes, 8)
}

/// The sequence number and the event of a record.
pub(super) fn decode_record(bytes: &[u8]) -> Result<(u64, Event), StorageError> {
    let seq = record_seq(bytes)?;
    let event = postcard::from_bytes(&bytes[RECORD_HEAD..])
        .map_err(|e| unavailable(format!("corrupt event record: {e}")))?;
    Ok((seq, event))
}

/// Bytes of every partition's records; partitions the table does not know
/// yet (a database older than it) are counted once.
pub(super) fn load_partition_bytes(
    db: &Database,
    topics: &HashMap<String, u32>,
) -> Result<HashMap<(String, u32), u64>, StorageError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let table = txn.open_table(PARTITION_BYTES).map_err(unavailable)?;
    let events = txn.open_table(EVENTS).map_err(unavailable)?;
    let mut out = HashMap::new();
    for (topic, partitions) in topics {
        for p in 0..*partitions {
            let known = table.get((topic.as_str(), p)).map_err(unavailable)?;
            let bytes = match known {
                Some(v) => v.value(),
                None => {
                    let mut sum = 0u64;
                    for entry in events
                        .range((topic.as_str(), p, 0)..=(topic.as_str(), p, u64::MAX))
                        .map_err(unavailable)?
                    {
                        sum += entry.map_err(unavailable)?.1.value().len() as u64;
                    }
                    sum
                }
            };
            out.insert((topic.clone(), p), bytes);
        }
    }
    Ok(out)
}
