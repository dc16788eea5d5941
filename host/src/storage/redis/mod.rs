//! Plugin state in Redis, shared by every gateway instance, so a plugin's
//! state follows its partitions when they move between instances.
//!
//! Layout (all keys under one hash tag, so a Redis Cluster keeps them in one
//! slot and the commit script stays atomic):
//! - `{prefix}:kv:<plugin>`: hash, key → value;
//! - `{prefix}:keys:<plugin>`: sorted set of the keys (ordered prefix listing);
//! - `{prefix}:usage`: hash, plugin → bytes held;
//! - `{prefix}:positions`: hash, `group/topic/partition` → next offset;
//! - `{prefix}:expiry`: sorted set of `<plugin>\n<key>` scored by when the
//!   value expires (ms since the epoch), for values set with a time to live;
//!   an expired value reads as absent, and the sweep removes it;
//! - `{prefix}:ingest:<source length>:<source>:<id>`: an ingested event's
//!   claim (empty) or position, for the idempotency window.
//!
//! A consumer batch's writes and its position are applied by one Lua script,
//! so state and position never diverge: after a rebalance or a crash the
//! next owner of a partition skips the events whose effects the state
//! already holds (see [`KvStore::position`]).

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};

mod ingest_ids;
mod scripts;

use super::{ConsumerCommit, KvStore, StorageError, millis_now};
use scripts::{APPLY, CLAIM, EXPIRE, GET_LIVE, GET_MANY_LIVE, LIST_LIVE, RELEASE};

/// Connection settings of the Redis KV store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port[/db]` (`rediss://` for TLS).
    pub url: String,
    /// Prefix of every key, so several gateway clusters can share a Redis.
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
}

fn default_prefix() -> String {
    "streamplug".into()
}

/// How long one Redis request may take.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The Redis KV store.
pub struct RedisKv {
    connection: ConnectionManager,
    prefix: String,
    apply: redis::Script,
    get_live: redis::Script,
    get_many_live: redis::Script,
    list_live: redis::Script,
    expire: redis::Script,
    claim: redis::Script,
    release: redis::Script,
}

fn unavailable(e: impl std::fmt::Display) -> StorageError {
    StorageError::Unavailable(format!("redis: {e}"))
}

impl RedisKv {
    /// Connect (and check the server answers).
    pub async fn connect(settings: &RedisSettings) -> Result<Self, StorageError> {
        let client = redis::Client::open(settings.url.as_str()).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT)
            .set_number_of_retries(3);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(unavailable)?;
        Ok(Self {
            connection,
            prefix: format!("{{{}}}", settings.key_prefix),
            apply: redis::Script::new(APPLY),
            get_live: redis::Script::new(GET_LIVE),
            get_many_live: redis::Script::new(GET_MANY_LIVE),
            list_live: redis::Script::new(LIST_LIVE),
            expire: redis::Script::new(EXPIRE),
            claim: redis::Script::new(CLAIM),
            release: redis::Script::new(RELEASE),
        })
    }

    fn key(&self, what: &str, namespace: &str) -> String {
        if namespace.is_empty() {
            format!("{}:{what}", self.prefix)
        } else {
            format!("{}:{what}:{namespace}", self.prefix)
        }
    }

    /// Run a prepared script whose answer is not needed.
    async fn run(&self, invocation: &redis::ScriptInvocation<'_>) -> Result<(), StorageError> {
        self.answer::<i64>(invocation).await.map(drop)
    }

    /// Run a prepared script.
    async fn answer<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, StorageError> {
        let mut connection = self.connection.clone();
        invocation
            .invoke_async::<T>(&mut connection)
            .await
            .map_err(unavailable)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StorageError> {
        let mut connection = self.connection.clone();
        cmd.query_async(&mut connection).await.map_err(unavailable)
    }
}

/// The member of a plugin's key in the expiry index.
fn expiry_member(namespace: &str, key: &str) -> String {
    format!("{namespace}\n{key}")
}

fn position_field(group: &str, topic: &str, partition: u32) -> String {
    format!("{group}/{topic}/{partition}")
}

#[async_trait]
impl KvStore for RedisKv {
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let mut invocation = self.get_live.prepare_invoke();
        invocation
            .key(self.key("kv", namespace))
            .key(self.key("expiry", ""))
            .arg(key)
            .arg(expiry_member(namespace, key))
            .arg(millis_now());
        self.answer(&invocation).await
    }

    async fn get_many(
        &self,
        namespace: &str,
        keys: &[&str],
    ) -> Result<Vec<Option<Vec<u8>>>, StorageError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = self.get_many_live.prepare_invoke();
        invocation
            .key(self.key("kv", namespace))
            .key(self.key("expiry", ""))
            .arg(millis_now());
        for key in keys {
            invocation.arg(*key).arg(expiry_member(namespace, key));
        }
        self.answer(&invocation).await
    }

    async fn list_keys(
        &self,
        namespace: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        // Keys are valid UTF-8, so U+10FFFF sorts after every key with `prefix`.
        let mut invocation = self.list_live.prepare_invoke();
        invocation
            .key(self.key("keys", namespace))
            .key(self.key("expiry", ""))
            .arg(format!("[{prefix}"))
            .arg(format!("[{prefix}\u{10FFFF}"))
            .arg(limit)
            .arg(namespace)
            .arg(millis_now());
        self.answer(&invocation).await
    }

    async fn usage(&self, namespace: &str) -> Result<u64, StorageError> {
        let used: Option<i64> = self
            .query(redis::cmd("HGET").arg(self.key("usage", "")).arg(namespace))
            .await?;
        Ok(used.map_or(0, |u| u64::try_from(u).unwrap_or(0)))
    }

    async fn apply(&self, commit: &ConsumerCommit) -> Result<(), StorageError> {
        let ns = commit.kv_namespace.as_str();
        let mut invocation = self.apply.prepare_invoke();
        invocation
            .key(self.key("kv", ns))
            .key(self.key("keys", ns))
            .key(self.key("usage", ""))
            .key(self.key("positions", ""))
            .key(self.key("expiry", ""))
            .arg(ns)
            .arg(commit.kv_writes.len());
        for (key, value) in &commit.kv_writes {
            match value {
                Some(v) => {
                    let expires = v.expires_at_ms.map(|at| at.to_string());
                    invocation
                        .arg(key)
                        .arg("s")
                        .arg(v.bytes.as_slice())
                        .arg(expires.unwrap_or_default())
                }
                None => invocation.arg(key).arg("d").arg("").arg(""),
            };
        }
        invocation.arg(commit.offsets.len());
        for at in &commit.offsets {
            invocation
                .arg(position_field(&commit.group, &at.topic, at.partition))
                .arg(at.next);
        }
        self.run(&invocation).await
    }

    async fn expire(&self, now_ms: u64, budget: usize) -> Result<u64, StorageError> {
        let mut invocation = self.expire.prepare_invoke();
        invocation
            .key(self.key("expiry", ""))
            .key(self.key("usage", ""))
            .arg(now_ms)
            .arg(budget)
            .arg(&self.prefix);
        self.answer(&invocation).await
    }

    async fn position(
        &self,
        group: &str,
        topic: &str,
        partition: u32,
    ) -> Result<Option<u64>, StorageError> {
        self.query(
            redis::cmd("HGET")
                .arg(self.key("positions", ""))
                .arg(position_field(group, topic, partition)),
        )
        .await
    }
}
