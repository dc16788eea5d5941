//! Plugin KV state in the embedded store. Values set with a time to live
//! carry their expiry in a second table, and a third orders them by it for
//! the sweep; an expired value reads as absent at once and leaves its
//! namespace's quota when swept.

use std::sync::PoisonError;

use async_trait::async_trait;
use redb::{ReadOnlyTable, ReadableDatabase, ReadableTable, WriteTransaction};

use super::ops::WriteOp;
use super::tables::{KV, KV_EXPIRING, KV_EXPIRY, OFFSETS};
use super::writer::{Pending, Writer};
use super::{EmbeddedStore, unavailable};
use crate::storage::entry_size;
use crate::storage::{ConsumerCommit, KvStore, KvWrite, StorageError, millis_now};

/// Whether `key` of `namespace` has an expiry at or before `now_ms`.
fn expired(
    expiry: &ReadOnlyTable<(&str, &str), u64>,
    namespace: &str,
    key: &str,
    now_ms: u64,
) -> Result<bool, StorageError> {
    Ok(expiry
        .get((namespace, key))
        .map_err(unavailable)?
        .is_some_and(|at| at.value() <= now_ms))
}

impl Writer {
    /// Apply `writes` to `namespace` in `txn`, in order.
    pub(super) fn write_kv(
        &self,
        txn: &WriteTransaction,
        namespace: &str,
        writes: &[KvWrite],
        pending: &mut Pending,
    ) -> Result<(), StorageError> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut kv = txn.open_table(KV).map_err(unavailable)?;
        let mut expiry = txn.open_table(KV_EXPIRY).map_err(unavailable)?;
        let mut expiring = txn.open_table(KV_EXPIRING).map_err(unavailable)?;
        let mut delta = 0i64;
        for (key, value) in writes {
            let at = (namespace, key.as_str());
            let old = match value {
                Some(v) => kv.insert(at, v.bytes.as_slice()).map_err(unavailable)?,
                None => kv.remove(at).map_err(unavailable)?,
            };
            if let Some(old) = old {
                delta -= entry_size(key, old.value()) as i64;
            }
            let old_expiry = expiry.remove(at).map_err(unavailable)?.map(|t| t.value());
            if let Some(when) = old_expiry {
                expiring
                    .remove((when, namespace, key.as_str()))
                    .map_err(unavailable)?;
            }
            if let Some(v) = value {
                delta += entry_size(key, &v.bytes) as i64;
                if let Some(when) = v.expires_at_ms {
                    expiry.insert(at, when).map_err(unavailable)?;
                    expiring
                        .insert((when, namespace, key.as_str()), ())
                        .map_err(unavailable)?;
                }
            }
        }
        *pending.kv_delta.entry(namespace.to_owned()).or_default() += delta;
        Ok(())
    }

    /// Remove, in `txn`, at most `budget` values expired by `now_ms`.
    pub(super) fn expire_kv(
        &self,
        txn: &WriteTransaction,
        now_ms: u64,
        budget: usize,
        pending: &mut Pending,
    ) -> Result<u64, StorageError> {
        let mut kv = txn.open_table(KV).map_err(unavailable)?;
        let mut expiry = txn.open_table(KV_EXPIRY).map_err(unavailable)?;
        let mut expiring = txn.open_table(KV_EXPIRING).map_err(unavailable)?;
        let mut due = Vec::new();
        for entry in expiring
            .range(..(now_ms.saturating_add(1), "", ""))
            .map_err(unavailable)?
            .take(budget)
        {
            let (k, _) = entry.map_err(unavailable)?;
            let (when, ns, key) = k.value();
            due.push((when, ns.to_owned(), key.to_owned()));
        }
        for (when, ns, key) in &due {
            expiring
                .remove((*when, ns.as_str(), key.as_str()))
                .map_err(unavailable)?;
            expiry
                .remove((ns.as_str(), key.as_str()))
                .map_err(unavailable)?;
            if let Some(old) = kv
                .remove((ns.as_str(), key.as_str()))
                .map_err(unavailable)?
            {
                *pending.kv_delta.entry(ns.clone()).or_default() -=
                    entry_size(key, old.value()) as i64;
            }
        }
        Ok(due.len() as u64)
    }
}

impl EmbeddedStore {
    /// The committed values of `keys` in `namespace`, in their order, read
    /// in one transaction; an expired value reads as absent.
    fn read_kv(
        &self,
        namespace: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let txn = self.db.get()?.begin_read().map_err(unavailable)?;
        let table = txn.open_table(KV).map_err(unavailable)?;
        let mut expiry = None;
        let now = millis_now();
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(value) = table.get((namespace, *key)).map_err(unavailable)? else {
                values.push(None);
                continue;
            };
            let expiry = match &mut expiry {
                Some(expiry) => expiry,
                None => expiry.insert(txn.open_table(KV_EXPIRY).map_err(unavailable)?),
            };
            let live = !expired(expiry, namespace, key, now)?;
            values.push(live.then(|| value.value().to_vec()));
        }
        Ok(values)
    }
}

#[async_trait]
impl KvStore for EmbeddedStore {
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let mut values = self.read_kv(namespace, &[key])?;
        Ok(values.pop().flatten())
    }

    /// One read transaction for all `keys` (a product view asks for a dozen
    /// tables at once): the tables are opened once, and the values come
    /// from one snapshot.
    async fn get_many(
        &self,
        namespace: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        self.read_kv(namespace, keys)
    }

    async fn list_keys(
        &self,
        namespace: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        let txn = self.db.get()?.begin_read().map_err(unavailable)?;
        let table = txn.open_table(KV).map_err(unavailable)?;
        let expiry = txn.open_table(KV_EXPIRY).map_err(unavailable)?;
        let now = millis_now();
        let mut keys = Vec::new();
        for entry in table.range((namespace, prefix)..).map_err(unavailable)? {
            let (k, _) = entry.map_err(unavailable)?;
            let (ns, key) = k.value();
            if ns != namespace || !key.starts_with(prefix) || keys.len() >= limit {
                break;
            }
            if !expired(&expiry, ns, key, now)? {
                keys.push(key.to_owned());
            }
        }
        Ok(keys)
    }

    async fn usage(&self, namespace: &str) -> Result<u64, StorageError> {
        Ok(self
            .kv_usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(namespace)
            .copied()
            .unwrap_or(0))
    }

    async fn apply(&self, commit: &ConsumerCommit) -> Result<(), StorageError> {
        let commit = ConsumerCommit {
            publish: Vec::new(),
            ..commit.clone()
        };
        self.submit(|reply| WriteOp::Commit { commit, reply })
            .await
            .map(drop)
    }

    async fn expire(&self, now_ms: u64, budget: usize) -> Result<u64, StorageError> {
        self.submit(|reply| WriteOp::ExpireKv {
            now_ms,
            budget,
            reply,
        })
        .await
    }

    async fn position(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<u64>, StorageError> {
        let txn = self.db.get()?.begin_read().map_err(unavailable)?;
        let table = txn.open_table(OFFSETS).map_err(unavailable)?;
        let value = table.get((group, topic, partition)).map_err(unavailable)?;
        Ok(value.map(|v| v.value()))
    }
}
