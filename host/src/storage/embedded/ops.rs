//! The requests the log writer takes, and what it owes each one once its
//! transaction commits.

use tokio::sync::oneshot;

use crate::event::Event;
use crate::storage::{Appended, ConsumerCommit, EventId, Position, StorageError, TopicSpec};

type Reply<T> = oneshot::Sender<Result<T, StorageError>>;

/// What a pruning step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Records deleted.
    pub deleted: u64,
    /// Whether it stopped at its budget with more to delete.
    pub more: bool,
}

/// One write request.
pub(super) enum WriteOp {
    CreateTopics {
        topics: Vec<(String, u32)>,
        reply: Reply<()>,
    },
    Append {
        events: Vec<Event>,
        reply: Reply<Vec<Position>>,
    },
    AppendOnce {
        events: Vec<Event>,
        window_ms: u64,
        reply: Reply<Vec<Appended>>,
    },
    Commit {
        commit: ConsumerCommit,
        reply: Reply<Vec<Position>>,
    },
    /// Delete what the retention policies no longer keep (at most `budget`
    /// records).
    Prune {
        policies: Vec<TopicSpec>,
        now_ms: u64,
        budget: usize,
        reply: Reply<Pruned>,
    },
    /// Remove these records of a partition, if still there (compaction).
    Remove {
        topic: String,
        partition: u32,
        offsets: Vec<u64>,
        reply: Reply<u64>,
    },
    /// Remove the KV values expired by `now_ms`, at most `budget`.
    ExpireKv {
        now_ms: u64,
        budget: usize,
        reply: Reply<u64>,
    },
    /// Commit nothing: whether the store can write (after a failure).
    Probe { reply: Reply<()> },
    /// Remember where ingested events were written (a Kafka log's ids).
    RecordIds {
        entries: Vec<(EventId, Position)>,
        window_ms: u64,
        reply: Reply<()>,
    },
}

/// A request applied to the open transaction, waiting for its commit.
pub(super) enum Applied {
    Unit(Reply<()>),
    Positions(Reply<Vec<Position>>, Vec<Position>),
    Appended(Reply<Vec<Appended>>, Vec<Appended>),
    Pruned(Reply<Pruned>, Pruned),
    Count(Reply<u64>, u64),
}

impl WriteOp {
    /// Retention, compaction or KV expiry: a group of its own, committed durably.
    pub(super) fn is_upkeep(&self) -> bool {
        matches!(
            self,
            WriteOp::Prune { .. } | WriteOp::Remove { .. } | WriteOp::ExpireKv { .. }
        )
    }
}

pub(super) fn fail(op: WriteOp, err: &StorageError) {
    match op {
        WriteOp::CreateTopics { reply, .. }
        | WriteOp::RecordIds { reply, .. }
        | WriteOp::Probe { reply } => drop(reply.send(Err(err.clone()))),
        WriteOp::AppendOnce { reply, .. } => drop(reply.send(Err(err.clone()))),
        WriteOp::Prune { reply, .. } => drop(reply.send(Err(err.clone()))),
        WriteOp::Remove { reply, .. } | WriteOp::ExpireKv { reply, .. } => {
            drop(reply.send(Err(err.clone())))
        }
        WriteOp::Append { reply, .. } | WriteOp::Commit { reply, .. } => {
            drop(reply.send(Err(err.clone())))
        }
    }
}

impl Applied {
    /// Answer the request: with its result if its group committed
    /// (`failed` is `None`), else with the group's error.
    pub(super) fn answer(self, failed: Option<&StorageError>) {
        fn send<T>(reply: Reply<T>, value: T, failed: Option<&StorageError>) {
            drop(reply.send(failed.map_or(Ok(value), |e| Err(e.clone()))));
        }
        match self {
            Applied::Unit(reply) => send(reply, (), failed),
            Applied::Positions(reply, positions) => send(reply, positions, failed),
            Applied::Appended(reply, appended) => send(reply, appended, failed),
            Applied::Pruned(reply, pruned) => send(reply, pruned, failed),
            Applied::Count(reply, n) => send(reply, n, failed),
        }
    }
}
