//! The embedded store as the memory of ingested ids for a Kafka log on one
//! machine (`kv.backend = "embedded"`): claims live in memory (one instance
//! holds them all), settled ids in the database's id buckets.

use std::collections::HashMap;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::EmbeddedStore;
use super::ingest_ids::find_committed;
use super::ops::WriteOp;
use super::writer::now_ms;
use crate::storage::{Claim, EventId, IngestIds, Position, StorageError};

/// Claims being written: id → when the claim lapses.
pub(super) type Claims = HashMap<EventId, Instant>;

fn window_ms(window: Duration) -> u64 {
    crate::storage::millis(window).max(1)
}

#[async_trait]
impl IngestIds for EmbeddedStore {
    async fn claim(
        &self,
        ids: &[EventId],
        ttl: Duration,
        window: Duration,
    ) -> Result<Vec<Claim>, StorageError> {
        let window = window_ms(window);
        let mut out = Vec::with_capacity(ids.len());
        let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        claims.retain(|_, lapses| *lapses > now);
        for id in ids {
            if claims.contains_key(id) {
                out.push(Claim::InFlight);
            } else if let Some(position) =
                find_committed(&*self.db.get()?, window, now_ms(), &id.source, &id.id)?
            {
                out.push(Claim::Written(position));
            } else {
                claims.insert(id.clone(), now + ttl);
                out.push(Claim::Mine);
            }
        }
        Ok(out)
    }

    async fn settle(
        &self,
        written: &[(EventId, Position)],
        window: Duration,
    ) -> Result<(), StorageError> {
        let window_ms = window_ms(window);
        let entries = written.to_vec();
        let result = self
            .submit(|reply| WriteOp::RecordIds {
                entries,
                window_ms,
                reply,
            })
            .await;
        let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
        for (id, _) in written {
            claims.remove(id);
        }
        result
    }

    async fn release(&self, ids: &[EventId]) -> Result<(), StorageError> {
        let mut claims = self.claims.lock().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            claims.remove(id);
        }
        Ok(())
    }
}
