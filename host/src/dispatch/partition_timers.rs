//! The pending timers of one (plugin, partition), held by the partition's
//! worker: loaded from the plugin's namespace when the worker starts (after
//! a restart, or on the instance a partition moved to), kept current from
//! the timer records each of its commits writes (only the partition's
//! owner writes them), and handed back when due. What it holds is what
//! `GET /v1/plugins` reports, through the plugin's
//! [`crate::runtime::timers::PluginTimers`].

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::runtime::timers::{self, PluginTimers, TimerRecord};
use crate::storage::{KvStore, KvWrite, StorageError};

/// Timer records read per request when loading.
const LOAD_PAGE: usize = 100_000;

/// One partition's pending timers.
#[derive(Debug)]
pub struct PartitionTimers {
    partition: u32,
    by_due: BTreeSet<(u64, String)>,
    records: HashMap<String, TimerRecord>,
    book: Arc<PluginTimers>,
}

impl PartitionTimers {
    /// The timers `plugin` has pending in `partition`, from `kv`.
    pub async fn load(
        kv: &dyn KvStore,
        plugin: &str,
        partition: u32,
        book: Arc<PluginTimers>,
    ) -> Result<Self, StorageError> {
        let mut timers = Self {
            partition,
            by_due: BTreeSet::new(),
            records: HashMap::new(),
            book,
        };
        let keys = kv
            .list_keys(plugin, &timers::partition_prefix(partition), LOAD_PAGE)
            .await?;
        for key in keys {
            let record = kv
                .get(plugin, &key)
                .await?
                .and_then(|bytes| TimerRecord::decode(&bytes));
            match record {
                Some(record) => timers.insert(key, record),
                None => tracing::warn!(plugin, partition, "an unreadable timer record is skipped"),
            }
        }
        timers.report();
        Ok(timers)
    }

    /// When the next timer is due, ms since the epoch.
    pub fn next_due_ms(&self) -> Option<u64> {
        self.by_due.first().map(|(due, _)| *due)
    }

    /// Up to `max` timers due at `now_ms`, earliest first, with their
    /// record keys.
    pub fn due(&self, now_ms: u64, max: usize) -> Vec<(String, TimerRecord)> {
        self.by_due
            .iter()
            .take_while(|(due, _)| *due <= now_ms)
            .take(max)
            .filter_map(|(_, key)| Some((key.clone(), self.records.get(key)?.clone())))
            .collect()
    }

    /// Take in the timer records of a commit that succeeded.
    pub fn apply(&mut self, writes: &[KvWrite]) {
        let mut changed = false;
        let prefix = timers::partition_prefix(self.partition);
        for (key, value) in writes {
            if !timers::is_record_key(key) || !key.starts_with(&prefix) {
                continue;
            }
            changed = true;
            self.remove(key);
            if let Some(record) = value.as_ref().and_then(|v| TimerRecord::decode(&v.bytes)) {
                self.insert(key.clone(), record);
            }
        }
        if changed {
            self.report();
        }
    }

    fn insert(&mut self, key: String, record: TimerRecord) {
        self.by_due.insert((record.due_ms, key.clone()));
        self.records.insert(key, record);
    }

    fn remove(&mut self, key: &str) {
        if let Some(old) = self.records.remove(key) {
            self.by_due.remove(&(old.due_ms, key.to_owned()));
        }
    }

    fn report(&self) {
        self.book.set(
            self.partition,
            self.records.len() as u64,
            self.next_due_ms(),
        );
    }
}

impl Drop for PartitionTimers {
    /// The worker stopped: its partition's timers are no longer held here.
    fn drop(&mut self) {
        self.book.set(self.partition, 0, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::KvValue;

    fn record(name: &str, due_ms: u64) -> TimerRecord {
        TimerRecord {
            name: name.into(),
            key: Some("alice".into()),
            due_ms,
            payload: vec![],
            subject: None,
            topic: "t".into(),
            partition: 2,
            offset: 0,
            cause: "e".into(),
            traceparent: None,
        }
    }

    fn set(r: &TimerRecord) -> KvWrite {
        (r.record_key(), Some(KvValue::lasting(r.encode())))
    }

    #[test]
    fn commits_add_replace_and_remove_timers_and_the_book_follows() {
        let book = Arc::new(PluginTimers::default());
        let mut t = PartitionTimers {
            partition: 2,
            by_due: BTreeSet::new(),
            records: HashMap::new(),
            book: book.clone(),
        };
        let (a, b) = (record("a", 30), record("b", 10));
        t.apply(&[set(&a), set(&b), ("plugin-key".into(), None)]);
        assert_eq!((book.pending(), book.next_due_ms()), (2, Some(10)));
        let due: Vec<String> = t.due(20, 10).into_iter().map(|(_, r)| r.name).collect();
        assert_eq!(due, ["b"]);
        // `b` rescheduled later, `a` fired (deleted).
        t.apply(&[set(&record("b", 50)), (a.record_key(), None)]);
        assert_eq!(t.next_due_ms(), Some(50));
        assert!(t.due(40, 10).is_empty());
        assert_eq!(book.pending(), 1);
        drop(t);
        assert_eq!(book.pending(), 0);
    }
}
