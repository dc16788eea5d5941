//! The frames the gateway sends on a session (JSON text messages tagged by
//! `kind`; resume tokens are `streamplug_wire::resume_token`). Documented in
//! `docs/websocket.md`.

use axum::extract::ws::Utf8Bytes;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::event::StoredEvent;
use crate::runtime::host::push::CHANNEL_HEADER;
use crate::web::ingest::IngestReceipt;
use crate::web::problem::Problem;
pub use streamplug_wire::resume_token::ResumeToken;

/// Sent once the session is open.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Welcome<'a> {
    /// Always `welcome`.
    pub kind: &'static str,
    /// Session id.
    pub session: u64,
    /// The authenticated customer.
    pub customer: &'a str,
    /// Token to resume from if this session drops before any push arrives.
    pub resume: String,
}

/// Answer to an event frame once its events are on disk.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Ack<'a> {
    /// Always `ack`.
    pub kind: &'static str,
    /// Where each event went, as `POST /v1/events` answers.
    #[serde(flatten)]
    pub receipt: &'a IngestReceipt,
}

/// Answer to a frame that could not be handled; the session stays open.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorFrame<'a> {
    /// Always `error`.
    pub kind: &'static str,
    /// The problem, as HTTP would answer it.
    #[serde(flatten)]
    pub problem: &'a Problem,
}

/// Pushes were skipped because they are older than the retention window.
#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryLost {
    /// Always `history_lost`.
    pub kind: &'static str,
    /// How many pushes for this customer could not be replayed (at most
    /// this many, when the log's retention deleted them).
    pub lost: u64,
    /// Explanation.
    pub detail: String,
}

/// A push, serialized once and shared by every session it goes to.
#[derive(Debug, Clone)]
pub struct PushFrame {
    /// Its position in the push log.
    pub partition: u32,
    /// Its offset.
    pub offset: u64,
    /// The JSON text of the frame.
    pub text: Utf8Bytes,
}

/// A push a plugin addressed to the session's customer.
#[derive(Serialize, JsonSchema)]
pub(crate) struct PushBody<'a> {
    /// Always `push`.
    kind: &'static str,
    /// Its offset in the push log.
    seq: u64,
    /// The token to resume after it.
    resume: String,
    /// The push's id.
    id: &'a str,
    /// The channel the plugin pushed on.
    channel: &'a str,
    /// The push's type.
    #[serde(rename = "type")]
    ty: &'a str,
    /// When it was pushed (RFC 3339).
    time: Option<&'a str>,
    /// The event whose handling caused this push.
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
    /// What the plugin pushed (`null` if that was not JSON).
    // Its JSON as pushed: checked, not parsed into a tree and written again.
    #[schemars(with = "Value")]
    data: Option<&'a RawValue>,
}

impl PushFrame {
    /// The frame of a push stored in the push log.
    pub fn from_stored(stored: &StoredEvent) -> Self {
        let e = &stored.event;
        let body = PushBody {
            kind: "push",
            seq: stored.offset,
            resume: ResumeToken {
                partition: stored.partition,
                offset: stored.offset + 1,
            }
            .to_string(),
            id: &e.id,
            channel: e.header(CHANNEL_HEADER).unwrap_or("default"),
            ty: &e.ty,
            time: e.time.as_deref(),
            cause: e.header("causationid"),
            data: serde_json::from_slice(&e.data).ok(),
        };
        Self {
            partition: stored.partition,
            offset: stored.offset,
            text: Utf8Bytes::from(serde_json::to_string(&body).unwrap_or_default()),
        }
    }
}

/// JSON text of a frame.
pub fn text<T: Serialize>(frame: &T) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(frame).unwrap_or_default())
}

/// Longest close reason, bytes: a close frame's payload is at most 125
/// bytes, two of them the code (RFC 6455 section 5.5); a client fails the
/// connection with 1002 on a longer one.
pub const MAX_CLOSE_REASON_BYTES: usize = 123;

/// A close frame whose reason is cut to [`MAX_CLOSE_REASON_BYTES`] on a
/// character boundary.
pub fn close_frame(code: u16, reason: &str) -> axum::extract::ws::CloseFrame {
    let mut end = reason.len().min(MAX_CLOSE_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    axum::extract::ws::CloseFrame {
        code,
        reason: Utf8Bytes::from(&reason[..end]),
    }
}

#[cfg(test)]
mod close_tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_control_frame_on_a_character_boundary() {
        let long = "é".repeat(100);
        let frame = close_frame(4401, &long);
        assert!(frame.reason.len() <= MAX_CLOSE_REASON_BYTES);
        assert_eq!(frame.reason.len(), 122);
        assert_eq!(close_frame(1000, "bye").reason.as_str(), "bye");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, StoredEvent};

    fn push(data: &[u8]) -> Value {
        let stored = StoredEvent {
            partition: 2,
            offset: 7,
            seq: 0,
            event: Event {
                id: "p-1".into(),
                source: "plugin/recommend".into(),
                ty: "recommendation".into(),
                subject: Some("c-1".into()),
                time: None,
                topic: "customer-pushes".into(),
                key: Some("c-1".into()),
                content_type: Some("application/json".into()),
                data: data.to_vec(),
                headers: vec![(CHANNEL_HEADER.into(), "recs".into())],
            },
        };
        let frame = PushFrame::from_stored(&stored);
        assert_eq!((frame.partition, frame.offset), (2, 7));
        serde_json::from_str(frame.text.as_str()).unwrap()
    }

    #[test]
    fn a_push_carries_its_json_data_as_pushed_and_null_for_what_is_not_json() {
        let frame = push(br#" {"products": [{"id": "p\u0031", "score": 1.5e0}]} "#);
        assert_eq!(frame["kind"], "push");
        assert_eq!(frame["seq"], 7);
        assert_eq!(frame["channel"], "recs");
        assert_eq!(frame["type"], "recommendation");
        assert_eq!(
            frame["data"],
            serde_json::json!({"products": [{"id": "p1", "score": 1.5}]})
        );
        assert_eq!(push(b"not json")["data"], Value::Null);
        assert_eq!(push(b"")["data"], Value::Null);
        assert_eq!(push(b"{\"a\":1} trailing")["data"], Value::Null);
    }
}
