//! Plugin state in Redis, shared by every gateway instance, so a plugin's
//! state follows its partitions when they move between instances.
//!
//! Layout (all keys under one hash tag, so a Redis Cluster keeps them in one
//! slot and the commit script stays atomic):
//! - `{prefix}:kv:<plugin>`: hash, key → value;
//! - `{prefix}:keys:<plugin>`: sorted set of the keys (ordered prefix listing);
//! - `{prefix}:usage`: hash, plugin → bytes held;
//! - `{prefix}:positions`: hash, `group/topic/partition` → next offset.
//!
//! A consumer batch's writes and its position are applied by one Lua script,
//! so state and position never diverge: after a rebalance or a crash the
//! next owner of a partition skips the events whose effects the state
//! already holds (see [`KvStore::position`]).

use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};

use super::{ConsumerCommit, KvStore, StorageError};

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

const APPLY: &str = r"
local delta = 0
local i = 4
for w = 1, tonumber(ARGV[3]) do
  local key, op, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  i = i + 3
  local old = redis.call('HGET', KEYS[1], key)
  if old then delta = delta - #key - #old end
  if op == 's' then
    redis.call('HSET', KEYS[1], key, value)
    redis.call('ZADD', KEYS[2], 0, key)
    delta = delta + #key + #value
  else
    redis.call('HDEL', KEYS[1], key)
    redis.call('ZREM', KEYS[2], key)
  end
end
if delta ~= 0 then redis.call('HINCRBY', KEYS[3], ARGV[1], delta) end
redis.call('HSET', KEYS[4], ARGV[2], ARGV[4 + 3 * tonumber(ARGV[3])])
return delta
";

/// The Redis KV store.
pub struct RedisKv {
    connection: ConnectionManager,
    prefix: String,
    apply: redis::Script,
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
        })
    }

    fn key(&self, what: &str, namespace: &str) -> String {
        if namespace.is_empty() {
            format!("{}:{what}", self.prefix)
        } else {
            format!("{}:{what}:{namespace}", self.prefix)
        }
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, StorageError> {
        let mut connection = self.connection.clone();
        cmd.query_async(&mut connection).await.map_err(unavailable)
    }
}

fn position_field(group: &str, topic: &str, partition: u32) -> String {
    format!("{group}/{topic}/{partition}")
}

#[async_trait]
impl KvStore for RedisKv {
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        self.query(redis::cmd("HGET").arg(self.key("kv", namespace)).arg(key))
            .await
    }

    async fn list_keys(
        &self,
        namespace: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        // Keys are valid UTF-8, so U+10FFFF sorts after every key with `prefix`.
        self.query(
            redis::cmd("ZRANGE")
                .arg(self.key("keys", namespace))
                .arg(format!("[{prefix}"))
                .arg(format!("[{prefix}\u{10FFFF}"))
                .arg("BYLEX")
                .arg("LIMIT")
                .arg(0)
                .arg(limit),
        )
        .await
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
            .arg(ns)
            .arg(position_field(
                &commit.group,
                &commit.topic,
                commit.partition,
            ))
            .arg(commit.kv_writes.len());
        for (key, value) in &commit.kv_writes {
            match value {
                Some(v) => invocation.arg(key).arg("s").arg(v.as_slice()),
                None => invocation.arg(key).arg("d").arg(""),
            };
        }
        invocation.arg(commit.next_offset);
        let mut connection = self.connection.clone();
        invocation
            .invoke_async::<i64>(&mut connection)
            .await
            .map(drop)
            .map_err(unavailable)
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
