//! Plugin state in memory for the offline harness: the same reads and
//! writes as the gateway's stores, gone when the run ends.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::storage::{ConsumerCommit, KvStore, KvValue, StorageError, entry_size, millis_now};

/// A [`KvStore`] in a map: namespace → key → value, with each namespace's
/// usage kept as it changes (as the embedded store does), so the quota check
/// on every write does not scan the namespace. Expired values read as
/// absent and are dropped by [`KvStore::expire`].
#[derive(Debug, Default)]
pub struct MemoryKv {
    namespaces: Mutex<BTreeMap<String, Namespace>>,
}

#[derive(Debug, Default, Clone)]
struct Namespace {
    keys: BTreeMap<String, KvValue>,
    usage: u64,
}

impl Namespace {
    fn live(&self, now_ms: u64) -> impl Iterator<Item = (&String, &KvValue)> {
        self.keys.iter().filter(move |(_, v)| !v.expired(now_ms))
    }

    /// The value of `key`, unless absent or expired at `now_ms`.
    fn value(&self, key: &str, now_ms: u64) -> Option<Vec<u8>> {
        self.keys
            .get(key)
            .filter(|v| !v.expired(now_ms))
            .map(|v| v.bytes.clone())
    }
}

impl MemoryKv {
    /// Apply the writes of one handled event (`None` deletes).
    pub fn write<'a>(
        &self,
        namespace: &str,
        writes: impl IntoIterator<Item = (&'a String, &'a Option<KvValue>)>,
    ) {
        let mut all = self.lock();
        let ns = all.entry(namespace.to_owned()).or_default();
        for (key, value) in writes {
            let old = match value {
                Some(v) => {
                    ns.usage += entry_size(key, &v.bytes);
                    ns.keys.insert(key.clone(), v.clone())
                }
                None => ns.keys.remove(key),
            };
            if let Some(old) = old {
                ns.usage -= entry_size(key, &old.bytes);
            }
        }
    }

    /// Every live key and value of `namespace`, in key order.
    pub fn entries(&self, namespace: &str) -> BTreeMap<String, Vec<u8>> {
        self.lock()
            .get(namespace)
            .map(|ns| {
                ns.live(millis_now())
                    .map(|(k, v)| (k.clone(), v.bytes.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Namespace>> {
        self.namespaces
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl KvStore for MemoryKv {
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .lock()
            .get(namespace)
            .and_then(|ns| ns.value(key, millis_now())))
    }

    /// All `keys` under one lock and one clock reading, as the embedded
    /// and Redis stores answer them in one request.
    async fn get_many(
        &self,
        namespace: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let namespaces = self.lock();
        let Some(ns) = namespaces.get(namespace) else {
            return Ok(vec![None; keys.len()]);
        };
        let now = millis_now();
        Ok(keys.iter().map(|key| ns.value(key, now)).collect())
    }

    async fn list_keys(
        &self,
        namespace: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        Ok(self
            .lock()
            .get(namespace)
            .map(|ns| {
                let now = millis_now();
                ns.keys
                    .range(prefix.to_owned()..)
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .filter(|(_, v)| !v.expired(now))
                    .take(limit)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn usage(&self, namespace: &str) -> Result<u64, StorageError> {
        Ok(self.lock().get(namespace).map_or(0, |ns| ns.usage))
    }

    async fn apply(&self, commit: &ConsumerCommit) -> Result<(), StorageError> {
        self.write(
            &commit.kv_namespace,
            commit.kv_writes.iter().map(|(k, v)| (k, v)),
        );
        Ok(())
    }

    async fn expire(&self, now_ms: u64, budget: usize) -> Result<u64, StorageError> {
        let mut removed = 0;
        for ns in self.lock().values_mut() {
            let gone: Vec<String> = ns
                .keys
                .iter()
                .filter(|(_, v)| v.expired(now_ms))
                .map(|(k, _)| k.clone())
                .take(budget.saturating_sub(removed))
                .collect();
            for key in gone {
                if let Some(old) = ns.keys.remove(&key) {
                    ns.usage -= entry_size(&key, &old.bytes);
                    removed += 1;
                }
            }
        }
        Ok(removed as u64)
    }

    async fn position(
        &self,
        _group: &str,
        _topic: &str,
        _partition: u32,
    ) -> Result<Option<u64>, StorageError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_are_read_back_listed_and_counted_per_namespace() {
        let kv = MemoryKv::default();
        let (a, b, gone) = ("cart:a".to_owned(), "cart:b".to_owned(), "x".to_owned());
        let value = |v: &[u8]| Some(KvValue::lasting(v.to_vec()));
        kv.write(
            "p",
            [
                (&a, &value(b"1")),
                (&b, &value(b"22")),
                (&gone, &value(b"")),
            ],
        );
        kv.write("p", [(&gone, &None), (&b, &value(b"2"))]);
        kv.write("p", [(&b, &value(b"22"))]);
        assert_eq!(kv.get("p", "cart:a").await.unwrap(), Some(b"1".to_vec()));
        assert_eq!(kv.get("q", "cart:a").await.unwrap(), None);
        assert_eq!(kv.list_keys("p", "cart:", 1).await.unwrap(), ["cart:a"]);
        assert_eq!(
            kv.list_keys("p", "cart:", 10).await.unwrap(),
            ["cart:a", "cart:b"]
        );
        assert_eq!(kv.usage("p").await.unwrap(), 6 + 1 + 6 + 2);
        assert_eq!(
            kv.get_many("p", &["cart:b", "x", "cart:a"]).await.unwrap(),
            [Some(b"22".to_vec()), None, Some(b"1".to_vec())]
        );
        assert_eq!(
            kv.get_many("q", &["cart:a", "cart:b"]).await.unwrap(),
            [None, None]
        );
    }

    #[tokio::test]
    async fn an_expired_value_reads_as_absent_and_its_bytes_go_when_swept() {
        let kv = MemoryKv::default();
        let (old, new) = ("old".to_owned(), "new".to_owned());
        let now = millis_now();
        kv.write(
            "p",
            [
                (&old, &Some(KvValue::expiring(b"1".to_vec(), now - 1))),
                (&new, &Some(KvValue::expiring(b"2".to_vec(), now + 60_000))),
            ],
        );
        assert_eq!(kv.get("p", "old").await.unwrap(), None);
        assert_eq!(
            kv.get_many("p", &["old", "new"]).await.unwrap(),
            [None, Some(b"2".to_vec())]
        );
        assert_eq!(kv.list_keys("p", "", 10).await.unwrap(), ["new"]);
        assert_eq!(kv.usage("p").await.unwrap(), 8);
        assert_eq!(kv.expire(now, 10).await.unwrap(), 1);
        assert_eq!(kv.usage("p").await.unwrap(), 4);
        assert_eq!(kv.get("p", "new").await.unwrap(), Some(b"2".to_vec()));
    }
}
