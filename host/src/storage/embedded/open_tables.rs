//! The tables a group keeps open from one request to the next: opening a
//! redb table costs a lookup in the table tree and a few allocations, and a
//! group of single-event requests would pay it for every event.

use redb::WriteTransaction;

use super::ingest_ids::{Buckets, Rotation};
use super::unavailable;
use crate::storage::StorageError;

/// A group's transaction and the tables it keeps open.
pub(super) struct OpenTables<'t> {
    /// The group's transaction.
    pub(super) txn: &'t WriteTransaction,
    /// The ingest-id buckets, for the window they were opened with.
    buckets: Option<(u64, Buckets<'t>)>,
}

impl<'t> OpenTables<'t> {
    pub(super) fn new(txn: &'t WriteTransaction) -> Self {
        Self { txn, buckets: None }
    }

    /// The ingest-id buckets of a window of `window_ms` at `now_ms` (the
    /// group's clock).
    pub(super) fn buckets(
        &mut self,
        rotation: &mut Rotation,
        window_ms: u64,
        now_ms: u64,
    ) -> Result<&mut Buckets<'t>, StorageError> {
        if self.buckets.as_ref().is_none_or(|(w, _)| *w != window_ms) {
            self.buckets = None;
            self.buckets = Some((
                window_ms,
                Buckets::open(self.txn, rotation, window_ms, now_ms)?,
            ));
        }
        self.buckets
            .as_mut()
            .map(|(_, b)| b)
            .ok_or_else(|| unavailable("the ingest-id buckets are not open"))
    }
}
