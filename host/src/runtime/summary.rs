//! What one call did, in a form two versions can be compared on (shadow
//! mode) and a plugin author can read and write expectations against (the
//! offline harness): its outcome, what it published and pushed, the KV
//! writes it staged and the requests it made. Ids and timestamps the host
//! assigns are left out; data is JSON when it parses as JSON.

use std::collections::BTreeMap;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::event::Event;
use crate::runtime::effects::Staged;
use crate::runtime::host::push::CHANNEL_HEADER;
use crate::runtime::outbound::HttpCall;
use crate::runtime::plugin::Outcome;

/// An event published or pushed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Message {
    /// Topic (publishes) or channel (pushes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Channel (pushes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Event type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Key (the customer, for pushes).
    pub key: Option<String>,
    /// Data.
    pub data: Value,
}

/// The effects of one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EffectSummary {
    /// `ok`, `retry`, `reject` or `trap`.
    #[schema(value_type = String)]
    pub outcome: Cow<'static, str>,
    /// Why, when not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Events published.
    pub publishes: Vec<Message>,
    /// Messages pushed to customers.
    pub pushes: Vec<Message>,
    /// KV writes (`null` deletes).
    pub kv: BTreeMap<String, Value>,
    /// Outbound requests.
    pub http: Vec<HttpCall>,
}

/// The first byte of a value the SDKs store packed (`kv::set_packed`:
/// `0xC1`, then MessagePack; see `sdk/src/packed.rs`).
const PACKED_TAG: u8 = 0xC1;

/// A plugin's KV value as people read it: a packed value decoded to JSON,
/// else as [`json_or_text`].
pub fn kv_value(bytes: &[u8]) -> Value {
    match bytes.split_first() {
        Some((&PACKED_TAG, packed)) => rmp_serde::from_slice(packed)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
        _ => json_or_text(bytes),
    }
}

/// `bytes` as JSON when they parse as JSON, else as (lossy) text.
pub fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn message(event: &Event, push: bool) -> Message {
    Message {
        topic: (!push).then(|| event.topic.clone()),
        channel: push
            .then(|| event.header(CHANNEL_HEADER).map(str::to_owned))
            .flatten(),
        ty: event.ty.clone(),
        key: event.key.clone(),
        data: json_or_text(&event.data),
    }
}

impl EffectSummary {
    /// The summary of a call that ended with `outcome` and staged `staged`
    /// (`push_topic` tells pushes from publishes).
    pub fn of(outcome: &Outcome, staged: &Staged, push_topic: &str) -> Self {
        let (outcome, reason) = match outcome {
            Outcome::Ok => ("ok", None),
            Outcome::Retry(r) => ("retry", Some(r)),
            Outcome::Reject(r) => ("reject", Some(r)),
            Outcome::Trap(r) => ("trap", Some(r)),
        };
        // Only an `ok` call's staged effects happen; its requests went out
        // (or were recorded) either way.
        let applied = outcome == "ok";
        let (pushes, publishes): (Vec<&Event>, Vec<&Event>) = staged
            .publishes
            .iter()
            .filter(|_| applied)
            .partition(|e| e.topic == push_topic);
        Self {
            outcome: Cow::Borrowed(outcome),
            reason: reason.map(|r| r.lines().next().unwrap_or_default().to_owned()),
            publishes: publishes.into_iter().map(|e| message(e, false)).collect(),
            pushes: pushes.into_iter().map(|e| message(e, true)).collect(),
            kv: staged
                .kv
                .iter()
                .filter(|_| applied)
                .map(|(k, v)| {
                    let bytes = v.as_ref().map(|v| v.bytes.as_slice());
                    (k.clone(), bytes.map_or(Value::Null, kv_value))
                })
                .collect(),
            http: staged.http.clone(),
        }
    }

    /// Whether `other` did the same: same outcome, publishes, pushes, KV
    /// writes, and requests to the same URLs with the same methods (reasons,
    /// statuses and bodies aside).
    pub fn same_as(&self, other: &Self) -> bool {
        let requests = |s: &Self| -> Vec<(String, String)> {
            s.http
                .iter()
                .map(|c| (c.method.clone(), c.url.clone()))
                .collect()
        };
        self.outcome == other.outcome
            && self.publishes == other.publishes
            && self.pushes == other.pushes
            && self.kv == other.kv
            && requests(self) == requests(other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kv_values_read_as_json_packed_or_not() {
        let packed = [
            PACKED_TAG, 0x81, 0xa6, b'o', b'r', b'd', b'e', b'r', b's', 0x02,
        ];
        assert_eq!(kv_value(&packed), serde_json::json!({"orders": 2}));
        assert_eq!(
            kv_value(br#"{"orders":2}"#),
            serde_json::json!({"orders": 2})
        );
        assert_eq!(kv_value(b"plain"), Value::String("plain".into()));
        // Cut short: shown as the bytes it holds rather than dropped.
        assert!(kv_value(&packed[..5]).is_string());
    }

    fn event(topic: &str, data: &str) -> Event {
        Event {
            id: Event::new_id(),
            source: "plugin:p".into(),
            ty: "t".into(),
            subject: None,
            time: Some(Event::now()),
            topic: topic.into(),
            key: Some("c1".into()),
            content_type: None,
            data: data.as_bytes().to_vec(),
            headers: vec![(CHANNEL_HEADER.into(), "recs".into())],
        }
    }

    #[test]
    fn ids_and_times_do_not_count_data_and_requests_do() {
        let staged = |d: &str| Staged {
            publishes: vec![event("out", d), event("pushes", "{}")],
            ..Staged::default()
        };
        let a = EffectSummary::of(&Outcome::Ok, &staged(r#"{"n": 1}"#), "pushes");
        let b = EffectSummary::of(&Outcome::Ok, &staged(r#"{"n":1}"#), "pushes");
        assert!(a.same_as(&b));
        assert_eq!(a.pushes[0].channel.as_deref(), Some("recs"));
        assert_eq!(a.publishes[0].topic.as_deref(), Some("out"));
        let c = EffectSummary::of(&Outcome::Ok, &staged(r#"{"n":2}"#), "pushes");
        assert!(!a.same_as(&c));
        let mut d = b.clone();
        d.http.push(HttpCall {
            method: "GET".into(),
            url: "https://crm/x".into(),
            status: None,
            sent: false,
            denied: false,
            body: None,
            response: None,
        });
        assert!(!a.same_as(&d));
        let retry = EffectSummary::of(
            &Outcome::Retry("later".into()),
            &staged(r#"{"n":1}"#),
            "pushes",
        );
        assert!(!a.same_as(&retry));
        assert!(
            retry.publishes.is_empty() && retry.pushes.is_empty(),
            "nothing staged by a failed call happens"
        );
    }
}
