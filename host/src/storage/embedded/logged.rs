//! What the write-ahead log keeps of each request: the request itself,
//! without its reply. Applying a group is deterministic given the state
//! before it and the writer's clock for the group (which the frame keeps),
//! so applying the logged requests again after a crash gives back the same
//! offsets, sequence numbers, duplicates and KV state that were
//! acknowledged. Upkeep (retention, compaction, KV expiry) is not logged: a
//! group that does any commits durably at once (a checkpoint).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use super::ops::WriteOp;
use super::unavailable;
use crate::event::Event;
use crate::storage::{ConsumerCommit, EventId, Position, StorageError};

/// A logged request. Borrowed when written, owned when read back.
#[derive(Serialize, Deserialize)]
enum Logged<'a> {
    CreateTopics(Cow<'a, [(String, u32)]>),
    Append(Cow<'a, [Event]>),
    AppendOnce {
        window_ms: u64,
        events: Cow<'a, [Event]>,
    },
    Commit(Cow<'a, ConsumerCommit>),
    RecordIds {
        window_ms: u64,
        entries: Cow<'a, [(EventId, Position)]>,
    },
}

/// How a request is kept.
pub(super) enum Kept {
    /// In the log (appended to the frame).
    Logged,
    /// Not at all: it changes nothing (a probe).
    Nothing,
    /// By a durable commit of its group: upkeep.
    Checkpoint,
}

/// Append `op`'s logged form to `frame`.
pub(super) fn log(op: &WriteOp, frame: &mut Vec<u8>) -> Result<Kept, StorageError> {
    let logged = match op {
        WriteOp::CreateTopics { topics, .. } => Logged::CreateTopics(Cow::Borrowed(topics)),
        WriteOp::Append { events, .. } => Logged::Append(Cow::Borrowed(events)),
        WriteOp::AppendOnce {
            events, window_ms, ..
        } => Logged::AppendOnce {
            window_ms: *window_ms,
            events: Cow::Borrowed(events),
        },
        WriteOp::Commit { commit, .. } => Logged::Commit(Cow::Borrowed(commit)),
        WriteOp::RecordIds {
            entries, window_ms, ..
        } => Logged::RecordIds {
            window_ms: *window_ms,
            entries: Cow::Borrowed(entries),
        },
        WriteOp::Probe { .. } => return Ok(Kept::Nothing),
        WriteOp::Prune { .. } | WriteOp::Remove { .. } | WriteOp::ExpireKv { .. } => {
            return Ok(Kept::Checkpoint);
        }
    };
    postcard::to_io(&logged, frame).map_err(unavailable)?;
    Ok(Kept::Logged)
}

/// The requests logged in a frame's `payload`, to apply again (nobody
/// waits for their answers).
pub(super) fn read(payload: &[u8]) -> Result<Vec<WriteOp>, StorageError> {
    let mut rest = payload;
    let mut ops = Vec::new();
    while !rest.is_empty() {
        let (logged, after): (Logged<'static>, _) = postcard::take_from_bytes(rest)
            .map_err(|e| unavailable(format!("write-ahead log: undecodable request: {e}")))?;
        rest = after;
        ops.push(replayed(logged));
    }
    Ok(ops)
}

fn replayed(logged: Logged<'static>) -> WriteOp {
    fn reply<T>() -> oneshot::Sender<T> {
        oneshot::channel().0
    }
    match logged {
        Logged::CreateTopics(topics) => WriteOp::CreateTopics {
            topics: topics.into_owned(),
            reply: reply(),
        },
        Logged::Append(events) => WriteOp::Append {
            events: events.into_owned(),
            reply: reply(),
        },
        Logged::AppendOnce { window_ms, events } => WriteOp::AppendOnce {
            events: events.into_owned(),
            window_ms,
            reply: reply(),
        },
        Logged::Commit(commit) => WriteOp::Commit {
            commit: commit.into_owned(),
            reply: reply(),
        },
        Logged::RecordIds { window_ms, entries } => WriteOp::RecordIds {
            entries: entries.into_owned(),
            window_ms,
            reply: reply(),
        },
    }
}
