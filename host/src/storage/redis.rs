//! Plugin state in Redis, shared by every gateway instance, so a plugin's
//! state follows its partitions when they move between instances.
//!
//! Layout (all keys under one hash tag, so a Redis Cluster keeps them in one
//! slot and the commit script stays atomic):
//! - `{prefix}:kv:<plugin>`: hash, key → value;
//! - `{prefix}:keys:<plugin>`: sorted set of the keys (ordered prefix listing);
//! - `{prefix}:usage`: hash, plugin → bytes held;
//! - `{prefix}:positions`: hash, `group/topic/partition` → next offset;
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

use super::{Claim, ConsumerCommit, EventId, IngestIds, KvStore, Position, StorageError};

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
local i = 3
for w = 1, tonumber(ARGV[2]) do
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
local positions = tonumber(ARGV[i])
i = i + 1
for p = 1, positions do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  i = i + 2
end
return delta
";

/// The Redis KV store.
pub struct RedisKv {
    connection: ConnectionManager,
    prefix: String,
    apply: redis::Script,
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
        let mut connection = self.connection.clone();
        invocation
            .invoke_async::<i64>(&mut connection)
            .await
            .map(drop)
            .map_err(unavailable)
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
            .arg(commit.kv_writes.len());
        for (key, value) in &commit.kv_writes {
            match value {
                Some(v) => invocation.arg(key).arg("s").arg(v.as_slice()),
                None => invocation.arg(key).arg("d").arg(""),
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

/// Claim ids: `KEYS` are the ids' keys, `ARGV[1]` the claim's time to live
/// (ms). Per key: `0` when claimed now, else its value (`""` while another
/// claimant writes it, the position once written).
const CLAIM: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v then
    out[i] = v
  else
    redis.call('SET', key, '', 'PX', ARGV[1])
    out[i] = 0
  end
end
return out
";

/// Drop the claims among `KEYS` that are still unsettled.
const RELEASE: &str = r"
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == '' then redis.call('DEL', key) end
end
return 0
";

impl RedisKv {
    fn id_key(&self, id: &EventId) -> String {
        // The source's length keeps (`a:b`, `c`) and (`a`, `b:c`) apart.
        format!(
            "{}:ingest:{}:{}:{}",
            self.prefix,
            id.source.len(),
            id.source,
            id.id
        )
    }
}

/// A time to live in ms (Redis refuses 0).
fn millis(d: Duration) -> u64 {
    super::millis(d).max(1)
}

#[async_trait]
impl IngestIds for RedisKv {
    async fn claim(
        &self,
        ids: &[EventId],
        ttl: Duration,
        _window: Duration,
    ) -> Result<Vec<Claim>, StorageError> {
        // Settled ids expire with their window.
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut invocation = self.claim.prepare_invoke();
        for id in ids {
            invocation.key(self.id_key(id));
        }
        invocation.arg(millis(ttl));
        let mut connection = self.connection.clone();
        let answers: Vec<redis::Value> = invocation
            .invoke_async(&mut connection)
            .await
            .map_err(unavailable)?;
        Ok(answers
            .into_iter()
            .map(|answer| match answer {
                redis::Value::BulkString(bytes) if bytes.is_empty() => Claim::InFlight,
                redis::Value::BulkString(bytes) => {
                    parse_position(&bytes).map_or(Claim::InFlight, Claim::Written)
                }
                _ => Claim::Mine,
            })
            .collect())
    }

    async fn settle(
        &self,
        written: &[(EventId, Position)],
        window: Duration,
    ) -> Result<(), StorageError> {
        if written.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (id, position) in written {
            pipe.cmd("SET")
                .arg(self.id_key(id))
                .arg(format!(
                    "{}\n{}\n{}",
                    position.partition, position.offset, position.topic
                ))
                .arg("PX")
                .arg(millis(window))
                .ignore();
        }
        let mut connection = self.connection.clone();
        pipe.query_async::<()>(&mut connection)
            .await
            .map_err(unavailable)
    }

    async fn release(&self, ids: &[EventId]) -> Result<(), StorageError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut invocation = self.release.prepare_invoke();
        for id in ids {
            invocation.key(self.id_key(id));
        }
        self.run(&invocation).await
    }
}

/// `partition\noffset\ntopic`, as [`IngestIds::settle`] writes it.
fn parse_position(bytes: &[u8]) -> Option<Position> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut parts = text.splitn(3, '\n');
    let partition = parts.next()?.parse().ok()?;
    let offset = parts.next()?.parse().ok()?;
    Some(Position {
        topic: parts.next()?.to_owned(),
        partition,
        offset,
    })
}
