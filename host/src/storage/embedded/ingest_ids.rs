//! The embedded log's memory of ingested events: (`source`, `id`) → where
//! the first copy was written, kept for the idempotency window. Entries live
//! in one table per window-long time bucket; a lookup reads the current and
//! the previous bucket, and older buckets are dropped whole, so forgetting
//! costs one table deletion per window rather than one per event.

use redb::{
    Database, ReadableDatabase, ReadableTable, Table, TableDefinition, TableError, TableHandle,
    WriteTransaction,
};

use super::unavailable;
use crate::storage::{Position, StorageError};

/// Prefix of the bucket tables' names.
const PREFIX: &str = "ingest-ids-";

/// (source, id) → (topic, partition, offset, written at, ms since the epoch).
type IdTable<'t> = Table<'t, (&'static str, &'static str), (&'static str, u32, u64, u64)>;

/// The buckets a write transaction looks ids up in and records them to.
pub(super) struct Buckets<'t> {
    current: IdTable<'t>,
    previous: IdTable<'t>,
    window_ms: u64,
    now_ms: u64,
}

fn name(window_ms: u64, bucket: u64) -> String {
    format!("{PREFIX}{window_ms}-{bucket}")
}

fn definition(
    name: &str,
) -> TableDefinition<'_, (&'static str, &'static str), (&'static str, u32, u64, u64)> {
    TableDefinition::new(name)
}

/// The position of an entry still within the window.
fn live(entry: (&str, u32, u64, u64), window_ms: u64, now_ms: u64) -> Option<Position> {
    let (topic, partition, offset, at) = entry;
    (at.saturating_add(window_ms) > now_ms).then(|| Position {
        topic: topic.to_owned(),
        partition,
        offset,
    })
}

/// Where the committed copy of (`source`, `id`) written within the window
/// is, read outside the writer.
pub(super) fn find_committed(
    db: &Database,
    window_ms: u64,
    now_ms: u64,
    source: &str,
    id: &str,
) -> Result<Option<Position>, StorageError> {
    let txn = db.begin_read().map_err(unavailable)?;
    let bucket = now_ms / window_ms;
    for b in [bucket, bucket.wrapping_sub(1)] {
        let n = name(window_ms, b);
        let table = match txn.open_table(definition(&n)) {
            Ok(table) => table,
            Err(TableError::TableDoesNotExist(_)) => continue,
            Err(e) => return Err(unavailable(e)),
        };
        if let Some(entry) = table.get((source, id)).map_err(unavailable)?
            && let Some(position) = live(entry.value(), window_ms, now_ms)
        {
            return Ok(Some(position));
        }
    }
    Ok(None)
}

/// Which bucket `txn` last cleaned up to, so old buckets are dropped once
/// per rotation.
#[derive(Default)]
pub(super) struct Rotation {
    cleaned: Option<(u64, u64)>,
}

impl<'t> Buckets<'t> {
    /// Open the buckets of `now_ms` for a window of `window_ms` (> 0),
    /// dropping any older bucket first when the bucket changed.
    pub(super) fn open(
        txn: &'t WriteTransaction,
        rotation: &mut Rotation,
        window_ms: u64,
        now_ms: u64,
    ) -> Result<Self, StorageError> {
        let bucket = now_ms / window_ms;
        let previous = bucket.wrapping_sub(1);
        if rotation.cleaned != Some((window_ms, bucket)) {
            let keep = [name(window_ms, bucket), name(window_ms, previous)];
            let stale: Vec<_> = txn
                .list_tables()
                .map_err(unavailable)?
                .filter(|t| t.name().starts_with(PREFIX) && !keep.iter().any(|k| k == t.name()))
                .collect();
            for table in stale {
                txn.delete_table(table).map_err(unavailable)?;
            }
            rotation.cleaned = Some((window_ms, bucket));
        }
        let open = |n: String| -> Result<IdTable<'t>, StorageError> {
            txn.open_table(definition(&n)).map_err(unavailable)
        };
        Ok(Self {
            current: open(name(window_ms, bucket))?,
            previous: open(name(window_ms, previous))?,
            window_ms,
            now_ms,
        })
    }

    /// Where the copy of (`source`, `id`) written within the window is.
    pub(super) fn find(&self, source: &str, id: &str) -> Result<Option<Position>, StorageError> {
        for table in [&self.current, &self.previous] {
            if let Some(entry) = table.get((source, id)).map_err(unavailable)?
                && let Some(position) = live(entry.value(), self.window_ms, self.now_ms)
            {
                return Ok(Some(position));
            }
        }
        Ok(None)
    }

    /// Remember that (`source`, `id`) was written at `position` now.
    pub(super) fn record(
        &mut self,
        source: &str,
        id: &str,
        position: &Position,
    ) -> Result<(), StorageError> {
        self.current
            .insert(
                (source, id),
                (
                    position.topic.as_str(),
                    position.partition,
                    position.offset,
                    self.now_ms,
                ),
            )
            .map_err(unavailable)?;
        Ok(())
    }
}
