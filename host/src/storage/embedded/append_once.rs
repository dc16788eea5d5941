//! The writer's idempotent append: ingested events looked up by their
//! (`source`, `id`) in the id buckets and recorded there, in the same
//! transaction as the append.

use std::collections::HashMap;

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
        // The new events (indices into `events`), and where each new
        // (source, id) is among them.
        let mut fresh: Vec<usize> = Vec::new();
        let mut first: HashMap<(&str, &str), usize> = HashMap::new();
        let buckets = tables.buckets(&mut self.rotation, window_ms, now_ms)?;
        for (i, event) in events.iter().enumerate() {
            let key = (event.source.as_str(), event.id.as_str());
            seen.push(match first.get(&key) {
                Some(&n) => Seen::Repeats(n),
                None => match buckets.find(&event.source, &event.id)? {
                    Some(position) => Seen::Before(position),
                    None => {
                        fresh.push(i);
                        if events.len() > 1 {
                            first.insert(key, fresh.len() - 1);
                        }
                        Seen::New(fresh.len() - 1)
                    }
                },
            });
        }
        let positions = self.append(fresh.iter().map(|&i| &events[i]), pending)?;
        let buckets = tables.buckets(&mut self.rotation, window_ms, now_ms)?;
        for (&i, position) in fresh.iter().zip(&positions) {
            buckets.record(&events[i].source, &events[i].id, position)?;
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

#[cfg(test)]
mod tests {
    use crate::storage::embedded::EmbeddedStore;
    use crate::storage::embedded::tests::event;
    use crate::storage::{EventLog, TopicSpec};

    #[tokio::test]
    async fn a_batch_over_topics_and_partitions_repeating_an_id_writes_each_event_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        store
            .create_topics(&[TopicSpec::new("t", 4), TopicSpec::new("u", 1)])
            .await
            .unwrap();
        let day = std::time::Duration::from_secs(86_400);
        let a = event("t", "a", "x");
        let b = event("t", "b", "x");
        let c = event("u", "a", "x");
        let before = store.append_once(vec![b.clone()], day).await.unwrap();
        let batch = vec![a.clone(), b, c, a.clone(), event("t", "a", "y")];
        let got = store.append_once(batch, day).await.unwrap();
        let dup: Vec<bool> = got.iter().map(|g| g.duplicate).collect();
        assert_eq!(dup, [false, true, false, true, false]);
        assert_eq!(got[1].position, before[0].position, "written before");
        assert_eq!(got[3].position, got[0].position, "repeats the first a");
        assert_eq!(got[2].position.topic, "u");
        let p = got[0].position.partition;
        assert_eq!(got[4].position.partition, p, "same key, same partition");
        assert_eq!(got[4].position.offset, got[0].position.offset + 1);
        let read = store.read("t", p, 0, 10).await.unwrap();
        let ids: Vec<_> = read.iter().map(|e| e.event.ty.as_str()).collect();
        assert_eq!(ids, ["x", "y"], "a once, then the other event");
        let seqs: Vec<_> = read.iter().map(|e| e.seq).collect();
        assert!(seqs[0] < seqs[1]);
    }
}
