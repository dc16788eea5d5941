//! The redb tables of the embedded store and their encodings.

use std::collections::HashMap;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::unavailable;
use crate::event::Event;
use crate::storage::StorageError;

/// Topic name → partition count.
pub(super) const TOPICS: TableDefinition<&str, u32> = TableDefinition::new("topics");
/// (topic, partition, offset) → postcard-encoded [`Event`].
pub(super) const EVENTS: TableDefinition<(&str, u32, u64), &[u8]> = TableDefinition::new("events");
/// (consumer group, topic, partition) → next offset to consume.
pub(super) const OFFSETS: TableDefinition<(&str, &str, u32), u64> = TableDefinition::new("offsets");
/// (plugin namespace, key) → value.
pub(super) const KV: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("kv");

/// Next offset of every partition: (topic, partition) → offset.
pub(super) type NextOffsets = HashMap<(String, u32), u64>;

pub(super) fn create_all(db: &Database) -> Result<(), StorageError> {
    let txn = db.begin_write().map_err(unavailable)?;
    txn.open_table(TOPICS).map_err(unavailable)?;
    txn.open_table(EVENTS).map_err(unavailable)?;
    txn.open_table(OFFSETS).map_err(unavailable)?;
    txn.open_table(KV).map_err(unavailable)?;
    txn.commit().map_err(unavailable)
}

/// Topics and the next offset of each of their partitions.
pub(super) fn load_topics(
    db: &Database,
) -> Result<(HashMap<String, u32>, NextOffsets), StorageError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let topics_table = txn.open_table(TOPICS).map_err(unavailable)?;
    let events = txn.open_table(EVENTS).map_err(unavailable)?;
    let mut topics = HashMap::new();
    let mut next = HashMap::new();
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
            next.insert((name.clone(), p), last.map_or(0, |(k, _)| k.value().2 + 1));
        }
        topics.insert(name, partitions);
    }
    Ok((topics, next))
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

pub(super) fn encode_event(event: &Event) -> Result<Vec<u8>, StorageError> {
    postcard::to_stdvec(event).map_err(unavailable)
}

pub(super) fn decode_event(bytes: &[u8]) -> Result<Event, StorageError> {
    postcard::from_bytes(bytes).map_err(|e| unavailable(format!("corrupt event record: {e}")))
}
