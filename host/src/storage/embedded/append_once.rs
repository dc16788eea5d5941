//! The writer's idempotent append: ingested events looked up by their
//! (`source`, `id`) in the id buckets and recorded there, in the same
//! transaction as the append.

use super::open_tables::OpenTables;
use super::writer::{Pending, Writer};
use crate::event::Event;
use crate::storage::{Appended, Position, StorageError};

/// Where each event of an [`WriteOp::AppendOnce`] stands before the append.
enum Seen {
    /// Written within the window, here.
    Before(Position),
    /// A copy of the `n`th new event of the same op.
    Repeats(usize),
    /// New: the `n`th event to append.
    New(usize),
}

impl Writer {
    /// Append the events not written within the window (nor earlier in
    /// `events`) and remember their ids; every event's position comes back.
    pub(super) fn append_once(
        &mut self,
        tables: &mut OpenTables<'_>,
        events: &[Event],
        window_ms: u64,
        pending: &mut Pending,
    ) -> Result<Vec<Appended>, StorageError> {
        let now_ms = self.clock_ms;
        let mut seen = Vec::with_capacity(events.len());
        let mut fresh: Vec<Event> = Vec::new();
        let buckets = tables.buckets(&mut self.rotation, window_ms, now_ms)?;
        for event in events {
            let earlier = fresh
                .iter()
                .position(|e| e.source == event.source && e.id == event.id);
            seen.push(match earlier {
                Some(n) => Seen::Repeats(n),
                None => match buckets.find(&event.source, &event.id)? {
                    Some(position) => Seen::Before(position),
                    None => {
                        fresh.push(event.clone());
                        Seen::New(fresh.len() - 1)
                    }
                },
            });
        }
        let positions = self.append(&fresh, pending)?;
        let buckets = tables.buckets(&mut self.rotation, window_ms, now_ms)?;
        for (event, position) in fresh.iter().zip(&positions) {
            buckets.record(&event.source, &event.id, position)?;
        }
        Ok(seen
            .into_iter()
            .map(|s| match s {
                Seen::Before(position) => Appended {
                    position,
                    duplicate: true,
                },
                Seen::Repeats(n) => Appended {
                    position: positions[n].clone(),
                    duplicate: true,
                },
                Seen::New(n) => Appended {
                    position: positions[n].clone(),
                    duplicate: false,
                },
            })
            .collect())
    }
}
