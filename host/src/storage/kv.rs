//! Plugin state: the [`KvStore`] trait and what a write carries.

use async_trait::async_trait;

use super::{ConsumerCommit, StorageError};

/// What a KV entry counts against its plugin's quota, on every backend:
/// its key's and its value's bytes.
pub fn entry_size(key: &str, value: &[u8]) -> u64 {
    (key.len() + value.len()) as u64
}

/// A value to store, and when it expires.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KvValue {
    /// The bytes (serialised as bytes: see [`crate::event::Event::data`]).
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
    /// When it stops being readable (ms since the epoch); `None`: never.
    pub expires_at_ms: Option<u64>,
}

impl KvValue {
    /// `bytes`, kept until overwritten or deleted.
    pub fn lasting(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            expires_at_ms: None,
        }
    }

    /// `bytes`, gone at `expires_at_ms`.
    pub fn expiring(bytes: Vec<u8>, expires_at_ms: u64) -> Self {
        Self {
            bytes,
            expires_at_ms: Some(expires_at_ms),
        }
    }

    /// Whether it has expired at `now_ms`.
    pub fn expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_some_and(|at| at <= now_ms)
    }
}

/// A KV write: a value to set, or `None` to delete.
pub type KvWrite = (String, Option<KvValue>);

/// Per-plugin key-value state. Writes go through [`super::EventLog::commit`], which
/// applies them with [`KvStore::apply`] unless the log holds the state itself.
#[async_trait]
pub trait KvStore: Send + Sync + 'static {
    /// The committed value of `key` in `namespace` (none once its time to
    /// live ran out, swept or not).
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError>;

    /// The committed values of `keys` in `namespace`, in their order, each
    /// as [`KvStore::get`] reads it. A store that can answer them in one
    /// request overrides this one-by-one default.
    async fn get_many(
        &self,
        namespace: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.get(namespace, key).await?);
        }
        Ok(values)
    }

    /// Committed keys of `namespace` starting with `prefix`, in order
    /// (expired ones left out).
    async fn list_keys(
        &self,
        namespace: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, StorageError>;

    /// Committed bytes (keys and values) held by `namespace`.
    async fn usage(&self, namespace: &str) -> Result<u64, StorageError>;

    /// Apply a batch's KV writes and record its positions
    /// (`group`/`topic`/`partition` → next offset) as one atomic step.
    /// `commit.publish` is ignored.
    async fn apply(&self, commit: &ConsumerCommit) -> Result<(), StorageError>;

    /// The position recorded by [`KvStore::apply`], if any: the state holds
    /// the effects of exactly the events before it.
    async fn position(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<u64>, StorageError>;

    /// Remove the entries whose time to live ran out by `now_ms`, at most
    /// `budget` of them, freeing their bytes from their namespace's quota;
    /// how many were removed.
    async fn expire(&self, now_ms: u64, budget: usize) -> Result<u64, StorageError>;
}

/// Counter of expired KV values removed.
pub const EXPIRED: &str = "streamplug_kv_expired_total";

/// Values one sweep step removes at most.
const SWEEP_STEP: usize = 10_000;

/// Remove expired values from `kv` every `every` until `shutdown`.
pub async fn sweep_expired(
    kv: std::sync::Arc<dyn KvStore>,
    every: std::time::Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        loop {
            match kv.expire(super::millis_now(), SWEEP_STEP).await {
                Ok(removed) => {
                    metrics::counter!(EXPIRED).increment(removed);
                    if removed > 0 {
                        tracing::debug!(removed, "expired KV values removed");
                    }
                    if removed < SWEEP_STEP as u64 {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "KV expiry sweep failed; trying again later");
                    break;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}
