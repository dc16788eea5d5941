//! The requests the log writer takes, and what it owes each one once its
//! transaction commits.

use tokio::sync::oneshot;

use super::retention::Pruned;
use crate::event::Event;
use crate::storage::{Appended, ConsumerCommit, EventId, Position, StorageError, TopicSpec};

type Reply<T> = oneshot::Sender<Result<T, StorageError>>;

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
    /// Answer the request: its group committed.
    pub(super) fn succeed(self) {
        match self {
            Applied::Unit(reply) => drop(reply.send(Ok(()))),
            Applied::Positions(reply, positions) => drop(reply.send(Ok(positions))),
            Applied::Appended(reply, appended) => drop(reply.send(Ok(appended))),
            Applied::Pruned(reply, pruned) => drop(reply.send(Ok(pruned))),
            Applied::Count(reply, n) => drop(reply.send(Ok(n))),
        }
    }

    pub(super) fn fail(self, err: &StorageError) {
        match self {
            Applied::Unit(reply) => drop(reply.send(Err(err.clone()))),
            Applied::Positions(reply, _) => drop(reply.send(Err(err.clone()))),
            Applied::Appended(reply, _) => drop(reply.send(Err(err.clone()))),
            Applied::Pruned(reply, _) => drop(reply.send(Err(err.clone()))),
            Applied::Count(reply, _) => drop(reply.send(Err(err.clone()))),
        }
    }
}
