//! The writer's failure state: the error of the last failed write, the
//! backoff before the store is reopened, and the health it reports
//! (`/readyz`, ingest `503`). `recovery.rs` does the reopening.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::storage::{StorageError, StorageHealth};

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The writer's failure state.
pub(super) struct Recovery {
    health: Arc<StorageHealth>,
    /// Since a write failed: the error, and when the next reopen may be tried.
    failed: Option<(StorageError, Instant)>,
    backoff: Duration,
}

impl Recovery {
    pub(super) fn new(health: Arc<StorageHealth>) -> Self {
        Self {
            health,
            failed: None,
            backoff: FIRST_BACKOFF,
        }
    }
}

impl Recovery {
    /// Whether a write failed and the store has not written since.
    pub(super) fn is_failed(&self) -> bool {
        self.failed.is_some()
    }

    /// The failure, while its backoff has not passed (no reopen yet).
    pub(super) fn waiting(&self) -> Option<&StorageError> {
        self.failed
            .as_ref()
            .filter(|(_, next_try)| Instant::now() < *next_try)
            .map(|(error, _)| error)
    }

    /// A write failed with `error`: report it, and back off (1 s, doubling
    /// to 30 s while it keeps failing) before the next reopen.
    pub(super) fn failed(&mut self, error: &StorageError) {
        let backoff = if self.failed.is_some() {
            (self.backoff * 2).min(MAX_BACKOFF)
        } else {
            FIRST_BACKOFF
        };
        self.backoff = backoff;
        self.failed = Some((error.clone(), Instant::now() + backoff));
        self.health.write_failed(&error.to_string());
    }

    /// A write committed: a failure (ours, or the sync thread's it
    /// reported) is over.
    pub(super) fn wrote(&mut self) {
        if self.failed.take().is_some() || self.health.is_write_failed() {
            self.backoff = FIRST_BACKOFF;
            self.health.write_recovered();
        }
    }
}
