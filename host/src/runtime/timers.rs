//! Durable timers (`streamplug:plugin/timer`): a plugin schedules a timer
//! for the key of the event it handles, and when it is due the plugin's
//! handler gets a `streamplug.timer` event for that key from the worker
//! that owns the key's partition, in line with the key's other events.
//!
//! A timer is a record in the plugin's own KV namespace under a key the
//! plugin cannot write or list ([`KEY_PREFIX`], then the partition, then a
//! digest of the timer's key and name; it starts with the last code point,
//! U+10FFFF, which no plugin key may start with, so timer records sort after
//! every key of the plugin's and never take a place in its listings), so scheduling and cancelling are
//! staged and commit atomically with the event that did them, on every
//! backend, and the fired timer's record is deleted in the same commit as
//! the effects of handling it: a timer fires exactly once with its effects,
//! across restarts, hot swaps and (on Kafka) partitions moving between
//! instances, whose new owner loads the partition's timers from the store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::event::{Event, StoredEvent};

/// The type of a fired timer's event.
pub const TYPE: &str = "streamplug.timer";
/// The extension attribute naming the fired timer.
pub const NAME_HEADER: &str = "timername";
/// What no plugin's KV key starts with: the last code point, so the
/// gateway's records in a plugin's namespace sort after every key of its.
pub const RESERVED: char = '\u{10FFFF}';
/// Where every timer record's KV key starts (with [`RESERVED`]).
pub const KEY_PREFIX: &str = "\u{10FFFF}timer/";
/// Longest timer name, bytes.
pub const MAX_NAME: usize = 256;
/// Largest payload, bytes.
pub const MAX_PAYLOAD: u32 = 64 * 1024;

/// One pending timer, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerRecord {
    /// Its name, unique per key.
    pub name: String,
    /// The key it fires for (that of the event that scheduled it).
    pub key: Option<String>,
    /// When it is due, ms since the epoch.
    pub due_ms: u64,
    /// What the plugin gets back as the event's data.
    #[serde(with = "base64_bytes")]
    pub payload: Vec<u8>,
    /// The scheduling event's subject (the customer).
    pub subject: Option<String>,
    /// The scheduling event's topic, partition and offset.
    pub topic: String,
    /// Partition (the same index in every topic the plugin reads).
    pub partition: u32,
    /// Offset of the scheduling event.
    pub offset: u64,
    /// Id of the scheduling event.
    pub cause: String,
    /// Its `traceparent`, carried on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// Where the timers of `partition` are kept.
pub fn partition_prefix(partition: u32) -> String {
    format!("{KEY_PREFIX}{partition:010}/")
}

/// The KV key of timer `name` for `key` in `partition`.
pub fn record_key(partition: u32, key: Option<&str>, name: &str) -> String {
    let key_part = key.map_or_else(|| "-".to_owned(), |k| format!("k{k}"));
    let digest = crate::hash::sha256_of_parts([key_part.as_str(), name], &[]);
    format!(
        "{}{}",
        partition_prefix(partition),
        &hex::encode(digest)[..32]
    )
}

/// Whether `key` names a timer record (and so is not the plugin's).
pub fn is_record_key(key: &str) -> bool {
    key.starts_with(KEY_PREFIX)
}

impl TimerRecord {
    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A stored record, or `None` if the bytes are not one.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        serde_json::from_slice(bytes).ok()
    }

    /// Its KV key.
    pub fn record_key(&self) -> String {
        record_key(self.partition, self.key.as_deref(), &self.name)
    }

    /// The event `plugin`'s handler gets when it is due: the same id every
    /// time this timer fires (a retry, or again after a crash before its
    /// commit), so what the plugin emits handling it is recognised too.
    pub fn event(&self, plugin: &str) -> StoredEvent {
        let digest = crate::hash::sha256_of_parts(
            [plugin, self.record_key().as_str(), self.cause.as_str()],
            &self.due_ms.to_le_bytes(),
        );
        let mut headers = vec![
            (NAME_HEADER.to_owned(), self.name.clone()),
            ("causationid".to_owned(), self.cause.clone()),
        ];
        if let Some(tp) = &self.traceparent {
            headers.push(("traceparent".to_owned(), tp.clone()));
        }
        StoredEvent {
            partition: self.partition,
            offset: self.offset,
            seq: 0,
            event: Event {
                id: crate::runtime::effects::uuid_v8(&digest),
                source: format!("/streamplug/timers/{plugin}"),
                ty: TYPE.to_owned(),
                subject: self.subject.clone(),
                time: Some(crate::clock::rfc3339_of_millis(self.due_ms)),
                topic: self.topic.clone(),
                key: self.key.clone(),
                content_type: None,
                data: self.payload.clone(),
                headers,
            },
        }
    }
}

/// The pending timers of one plugin on this instance (the partitions its
/// workers own here), by partition: their count and the next one due.
#[derive(Debug, Default)]
pub struct PluginTimers {
    partitions: Mutex<BTreeMap<u32, (u64, Option<u64>)>>,
}

impl PluginTimers {
    /// Record what partition `partition`'s worker holds now.
    pub fn set(&self, partition: u32, pending: u64, next_due_ms: Option<u64>) {
        let mut partitions = self
            .partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if pending == 0 {
            partitions.remove(&partition);
        } else {
            partitions.insert(partition, (pending, next_due_ms));
        }
    }

    /// Pending timers in all partitions held here.
    pub fn pending(&self) -> u64 {
        self.partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|(n, _)| n)
            .sum()
    }

    /// When the next of them is due, ms since the epoch.
    pub fn next_due_ms(&self) -> Option<u64> {
        self.partitions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter_map(|(_, due)| *due)
            .min()
    }
}

/// Every plugin's [`PluginTimers`], shared by its versions (a timer
/// outlives the version that scheduled it).
#[derive(Debug, Default)]
pub struct TimerBooks {
    plugins: Mutex<HashMap<String, Arc<PluginTimers>>>,
}

impl TimerBooks {
    /// `plugin`'s timers.
    pub fn of(&self, plugin: &str) -> Arc<PluginTimers> {
        self.plugins
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(plugin.to_owned())
            .or_default()
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, key: Option<&str>) -> TimerRecord {
        TimerRecord {
            name: name.into(),
            key: key.map(str::to_owned),
            due_ms: 1_796_032_800_000,
            payload: b"{\"order\":\"o-1\"}".to_vec(),
            subject: Some("alice".into()),
            topic: "order-events".into(),
            partition: 3,
            offset: 17,
            cause: "e-1".into(),
            traceparent: None,
        }
    }

    #[test]
    fn a_record_round_trips_and_is_keyed_by_partition_key_and_name() {
        let r = record("expire", Some("alice"));
        assert_eq!(TimerRecord::decode(&r.encode()), Some(r.clone()));
        let key = r.record_key();
        assert!(key.starts_with("\u{10FFFF}timer/0000000003/"), "{key:?}");
        assert!(is_record_key(&key));
        assert!(KEY_PREFIX.starts_with(RESERVED));
        assert_ne!(key, record("expire", Some("bob")).record_key());
        assert_ne!(key, record("remind", Some("alice")).record_key());
        assert_ne!(
            record("expire", None).record_key(),
            record("expire", Some("")).record_key()
        );
    }

    #[test]
    fn a_fired_timer_is_the_same_event_every_time() {
        let r = record("expire", Some("alice"));
        let (a, b) = (r.event("orders"), r.event("orders"));
        assert_eq!(a.event.id, b.event.id);
        assert_ne!(a.event.id, r.event("other").event.id);
        assert_eq!(a.event.ty, TYPE);
        assert_eq!(a.event.header(NAME_HEADER), Some("expire"));
        assert_eq!(a.event.time.as_deref(), Some("2026-11-30T10:00:00.000Z"));
        assert_eq!(a.event.key.as_deref(), Some("alice"));
        assert_eq!(a.event.data, r.payload);
    }

    #[test]
    fn pending_timers_add_up_over_partitions() {
        let t = PluginTimers::default();
        t.set(0, 2, Some(50));
        t.set(1, 1, Some(20));
        assert_eq!((t.pending(), t.next_due_ms()), (3, Some(20)));
        t.set(1, 0, None);
        assert_eq!((t.pending(), t.next_due_ms()), (2, Some(50)));
    }
}
