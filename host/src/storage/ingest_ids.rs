//! Idempotent ingest on a log that cannot check ids itself (Kafka): each
//! event's (`source`, `id`) is claimed in a store every gateway instance
//! shares before it is produced, and settled with its position once the
//! broker acknowledged it, so a retried copy, on any instance, finds where
//! the first one went.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;

use super::{Appended, Position, StorageError};
use crate::event::Event;

/// An ingested event's identity: CloudEvents `source` and `id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct EventId {
    /// `source`.
    pub source: String,
    /// `id`.
    pub id: String,
}

impl EventId {
    /// The identity of `event`.
    pub fn of(event: &Event) -> Self {
        Self {
            source: event.source.clone(),
            id: event.id.clone(),
        }
    }
}

/// The answer to a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Nobody wrote it within the window: the claimant writes it.
    Mine,
    /// Already written, here.
    Written(Position),
    /// Another request holds the claim and is writing it now.
    InFlight,
}

/// Where ingested events' identities are remembered.
#[async_trait]
pub trait IngestIds: Send + Sync + 'static {
    /// Claim each id for `ttl` (how long a write may take; a claimant that
    /// dies lets it lapse), or learn it was written within `window` or is
    /// being written.
    async fn claim(
        &self,
        ids: &[EventId],
        ttl: Duration,
        window: Duration,
    ) -> Result<Vec<Claim>, StorageError>;

    /// Record where the claimed ids were written, for `window`.
    async fn settle(
        &self,
        written: &[(EventId, Position)],
        window: Duration,
    ) -> Result<(), StorageError>;

    /// Give up claims whose write failed (ids already settled stay).
    async fn release(&self, ids: &[EventId]) -> Result<(), StorageError>;
}

/// `d` in whole milliseconds (saturating).
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// How long a claim holds while its events are produced.
pub(crate) const CLAIM_TTL: Duration = Duration::from_secs(60);

/// [`super::EventLog::append_once`] for a log that appends with `append`
/// and remembers ids in `ids`: every event for which `once` holds is
/// written at most once per (`source`, `id`) within `window`; the others
/// are always written.
pub(crate) async fn append_once<F, Fut>(
    ids: &dyn IngestIds,
    events: Vec<Event>,
    window: Duration,
    once: impl Fn(&Event) -> bool,
    append: F,
) -> Result<Vec<Appended>, StorageError>
where
    F: FnOnce(Vec<Event>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<Position>, StorageError>>,
{
    let keys: Vec<Option<EventId>> = events
        .iter()
        .map(|e| once(e).then(|| EventId::of(e)))
        .collect();
    let mut unique: Vec<EventId> = Vec::with_capacity(keys.len());
    for key in keys.iter().flatten() {
        if !unique.contains(key) {
            unique.push(key.clone());
        }
    }
    let claims = if unique.is_empty() {
        Vec::new()
    } else {
        ids.claim(&unique, CLAIM_TTL, window).await?
    };
    let mine: Vec<EventId> = unique
        .iter()
        .zip(&claims)
        .filter(|(_, c)| **c == Claim::Mine)
        .map(|(k, _)| k.clone())
        .collect();
    if let Some((key, _)) = unique
        .iter()
        .zip(&claims)
        .find(|(_, c)| **c == Claim::InFlight)
    {
        ids.release(&mine).await?;
        return Err(StorageError::InProgress {
            event_source: key.source.clone(),
            id: key.id.clone(),
        });
    }
    // Written: every event without a key, and the first copy of each
    // claimed id; the rest point at where theirs is.
    let mut fresh = Vec::with_capacity(events.len());
    let mut fresh_keys: Vec<Option<EventId>> = Vec::with_capacity(events.len());
    for (key, event) in keys.iter().zip(events) {
        let write = match key {
            None => true,
            Some(k) => mine.contains(k) && !fresh_keys.iter().flatten().any(|t| t == k),
        };
        if write {
            fresh_keys.push(key.clone());
            fresh.push(event);
        }
    }
    let positions = match append(fresh).await {
        Ok(p) => p,
        Err(e) => {
            if let Err(release) = ids.release(&mine).await {
                tracing::warn!(error = %release, "ingest claims not released; they lapse");
            }
            return Err(e);
        }
    };
    let written: Vec<(Option<EventId>, Position)> = fresh_keys.into_iter().zip(positions).collect();
    let settled: Vec<(EventId, Position)> = written
        .iter()
        .filter_map(|(k, p)| Some((k.clone()?, p.clone())))
        .collect();
    if !settled.is_empty()
        && let Err(e) = ids.settle(&settled, window).await
    {
        // The events are durable; only the memory of their ids failed. The
        // claims lapse, and a retry after that writes a second copy.
        tracing::warn!(error = %e, "written ids not recorded; a retry may write them again");
    }
    // Where each keyed id is, and whether this call wrote it (its first
    // copy is the one written, later copies are duplicates).
    let mut at: HashMap<EventId, (Position, bool)> = settled
        .into_iter()
        .map(|(key, position)| (key, (position, true)))
        .collect();
    for (key, claim) in unique.into_iter().zip(claims) {
        if let Claim::Written(position) = claim {
            at.insert(key, (position, false));
        }
    }
    let mut unkeyed = written
        .into_iter()
        .filter(|(k, _)| k.is_none())
        .map(|(_, p)| p);
    keys.into_iter()
        .map(|key| match key {
            None => unkeyed
                .next()
                .map(|position| Appended {
                    position,
                    duplicate: false,
                })
                .ok_or_else(|| StorageError::Unavailable("an event was not written".into())),
            Some(key) => {
                let (position, fresh) = at.get_mut(&key).ok_or_else(|| {
                    StorageError::Unavailable(format!("no position for event `{}`", key.id))
                })?;
                Ok(Appended {
                    position: position.clone(),
                    duplicate: !std::mem::replace(fresh, false),
                })
            }
        })
        .collect()
}
