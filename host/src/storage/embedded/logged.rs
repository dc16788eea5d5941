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

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use crate::event::Event;
    use crate::storage::KvValue;

    /// [`Event`] as it was derived before its data was serialised as bytes
    /// (a sequence of `u8`): what logs and segments written then hold.
    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct EventBefore {
        id: String,
        source: String,
        ty: String,
        subject: Option<String>,
        time: Option<String>,
        topic: String,
        key: Option<String>,
        content_type: Option<String>,
        data: Vec<u8>,
        headers: Vec<(String, String)>,
    }

    /// [`KvValue`] as it was derived before.
    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct KvValueBefore {
        bytes: Vec<u8>,
        expires_at_ms: Option<u64>,
    }

    #[test]
    fn data_and_values_serialised_as_bytes_keep_the_bytes_of_a_sequence() {
        let mut event = crate::storage::embedded::tests::event("t", "k", "x");
        // Past 127 bytes, so the length takes two bytes.
        event.data = "é".repeat(200).into_bytes();
        let before = EventBefore {
            id: event.id.clone(),
            source: event.source.clone(),
            ty: event.ty.clone(),
            subject: event.subject.clone(),
            time: event.time.clone(),
            topic: event.topic.clone(),
            key: event.key.clone(),
            content_type: event.content_type.clone(),
            data: event.data.clone(),
            headers: event.headers.clone(),
        };
        let bytes = postcard::to_stdvec(&event).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&before).unwrap());
        assert_eq!(postcard::from_bytes::<Event>(&bytes).unwrap(), event);
        assert_eq!(postcard::from_bytes::<EventBefore>(&bytes).unwrap(), before);

        let value = KvValue::expiring(vec![0, 255, 7], 99);
        let value_before = KvValueBefore {
            bytes: vec![0, 255, 7],
            expires_at_ms: Some(99),
        };
        let bytes = postcard::to_stdvec(&value).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&value_before).unwrap());
        assert_eq!(postcard::from_bytes::<KvValue>(&bytes).unwrap(), value);

        // JSON is unchanged too: the data stays an array of numbers.
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["data"], serde_json::to_value(&before.data).unwrap());
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }
}
