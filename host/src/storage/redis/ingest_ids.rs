//! Ingested events' ids in Redis, shared by every instance: claimed while
//! they are produced, settled with their position for the window.

use std::time::Duration;

use async_trait::async_trait;

use super::{RedisKv, unavailable};
use crate::storage::{Claim, EventId, IngestIds, Position, StorageError};

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
    crate::storage::millis(d).max(1)
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
