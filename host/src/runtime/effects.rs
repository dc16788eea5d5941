//! Effects a plugin stages while handling events: publishes and KV writes.
//! They become real only when the dispatcher commits the batch they belong
//! to, atomically with the consumer offset.

use std::collections::BTreeMap;

use super::committed_reads::CommittedReads;
use super::outbound::HttpCall;
use crate::event::Event;
use crate::storage::KvValue;

/// Effects of one or more handled events.
#[derive(Debug, Default)]
pub struct Staged {
    /// Events to publish, in order.
    pub publishes: Vec<Event>,
    /// KV writes: the last write of each key (`None` deletes).
    pub kv: BTreeMap<String, Option<KvValue>>,
    /// Change in KV bytes these writes make.
    pub kv_bytes_delta: i64,
    /// Outbound requests made (a record; they were sent, or captured in
    /// shadow mode, and are not applied at commit).
    pub http: Vec<HttpCall>,
    /// Journal steps recorded while handling the current event, by step
    /// (already durable in a live call; the only copy in a shadow or
    /// offline one). Not applied at commit.
    pub journal: BTreeMap<String, Vec<u8>>,
    /// The processor's refusal of the command being handled, if it refused
    /// it. Not applied at commit: the dispatcher answers the command with it.
    pub refusal: Option<Refusal>,
    /// Whether a request of an accepted event went out: the batch then
    /// commits at once, so that a crash repeats no more calls than before.
    pub called_out: bool,
}

/// A command processor's refusal (`command.refuse`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Conflict with state (409) or an unacceptable command (422).
    pub kind: RefusalKind,
    /// Why, for the sender.
    pub reason: String,
}

/// The two ways to refuse a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The command conflicts with the state it acts on.
    Conflict,
    /// The command is not acceptable as sent.
    Invalid,
}

impl RefusalKind {
    /// As the command outcome names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conflict => "conflict",
            Self::Invalid => "invalid",
        }
    }
}

impl Staged {
    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.publishes.is_empty() && self.kv.is_empty()
    }

    /// Whether the batch's offsets must be committed now: there is
    /// something to apply with them, or a request went out.
    pub fn commits_now(&self) -> bool {
        !self.is_empty() || self.called_out
    }

    fn absorb(&mut self, other: Staged) {
        self.called_out |= other.called_out || other.http.iter().any(|call| call.sent);
        self.publishes.extend(other.publishes);
        self.kv.extend(other.kv);
        self.kv_bytes_delta += other.kv_bytes_delta;
    }

    /// A copy of the KV writes only: what a shadow call starts from.
    pub fn kv_view(&self) -> Self {
        Self {
            kv: self.kv.clone(),
            ..Self::default()
        }
    }
}

/// What the event being handled is, for provenance of published events.
#[derive(Debug, Default, Clone)]
pub struct Trigger {
    /// Id of the event being handled.
    pub id: String,
    /// Its source (with the id, what identifies it).
    pub source: String,
    /// Its `traceparent`, carried to what the plugin publishes.
    pub traceparent: Option<String>,
    /// Its type.
    pub ty: String,
    /// Its key, subject and topic: what a timer it schedules fires for.
    pub key: Option<String>,
    /// Its subject (the customer).
    pub subject: Option<String>,
    /// Its topic.
    pub topic: String,
    /// Its partition (the same index in every topic the plugin reads).
    pub partition: u32,
    /// Its offset.
    pub offset: u64,
}

impl Trigger {
    /// The trigger of handling `event`.
    pub fn of(event: &crate::event::Event) -> Self {
        Self {
            id: event.id.clone(),
            source: event.source.clone(),
            traceparent: event.header("traceparent").map(str::to_owned),
            ty: event.ty.clone(),
            key: event.key.clone(),
            subject: event.subject.clone(),
            topic: event.topic.clone(),
            partition: 0,
            offset: 0,
        }
    }

    /// The trigger of handling `stored`, with its place in the log.
    pub fn of_stored(stored: &crate::event::StoredEvent) -> Self {
        Self {
            partition: stored.partition,
            offset: stored.offset,
            ..Self::of(&stored.event)
        }
    }

    /// The id of the `n`th event `plugin` emits (publish or push) while
    /// handling this trigger: the same on every attempt, so an emission
    /// produced again after a crash is recognised as the same event (a UUID
    /// v8 from a digest of the plugin, the trigger and `n`). A fresh id
    /// when there is no trigger.
    pub fn emitted_id(&self, plugin: &str, n: usize) -> String {
        if self.id.is_empty() {
            return crate::event::Event::new_id();
        }
        uuid_v8(&self.digest(plugin, &[], &(n as u64).to_le_bytes()))
    }

    /// SHA-256 of `plugin`, this trigger's source and id and `parts` (each
    /// length-prefixed), then `tail`: what names something `plugin` does
    /// while handling this trigger, the same on every attempt.
    pub fn digest(&self, plugin: &str, parts: &[&str], tail: &[u8]) -> [u8; 32] {
        let trigger = [plugin, self.source.as_str(), self.id.as_str()];
        crate::hash::sha256_of_parts(trigger.into_iter().chain(parts.iter().copied()), tail)
    }

    /// Headers that tie an event the plugin emits to the one it handles:
    /// `causationid`, and the `traceparent` carried through.
    pub fn provenance(&self) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        if !self.id.is_empty() {
            headers.push(("causationid".to_owned(), self.id.clone()));
        }
        if let Some(tp) = &self.traceparent {
            headers.push(("traceparent".to_owned(), tp.clone()));
        }
        headers
    }
}

/// A UUID (version 8: custom, RFC 9562) made of the first 16 bytes of `digest`.
pub fn uuid_v8(digest: &[u8; 32]) -> String {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The effects of a batch: those of events already handled (`accepted`)
/// and those of the event being handled now (`current`).
#[derive(Debug, Default)]
pub struct Effects {
    /// Effects of events of this batch whose handler returned `ok`.
    pub accepted: Staged,
    /// Effects of the event being handled.
    pub current: Staged,
    /// The event being handled.
    pub trigger: Trigger,
    /// A query is running: every write fails (it has no effects).
    pub read_only: bool,
    /// Committed values this batch has read (the store is asked once a key).
    pub committed: CommittedReads,
}

/// What a write during a query is told.
pub const READ_ONLY: &str = "a query is read-only: it cannot write, publish, push or schedule";

impl Effects {
    /// The staged value of `key`: `Some(None)` if staged as deleted, `None`
    /// if no write is staged (read the store).
    pub fn kv_lookup(&self, key: &str) -> Option<Option<&[u8]>> {
        self.current
            .kv
            .get(key)
            .or_else(|| self.accepted.kv.get(key))
            .map(|staged| staged.as_ref().map(|v| v.bytes.as_slice()))
    }

    /// The current event was handled: keep its effects.
    pub fn accept_current(&mut self) {
        let current = std::mem::take(&mut self.current);
        self.accepted.absorb(current);
    }

    /// The current event failed: drop its effects.
    pub fn discard_current(&mut self) {
        self.current = Staged::default();
    }

    /// Staged KV byte change of the batch so far, the current event included.
    pub fn kv_bytes_delta(&self) -> i64 {
        self.accepted.kv_bytes_delta + self.current.kv_bytes_delta
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emitted_ids_are_stable_per_plugin_trigger_and_index() {
        let event = crate::event::Event {
            id: "e1".into(),
            source: "/s".into(),
            ty: "t".into(),
            subject: None,
            time: None,
            topic: "x".into(),
            key: None,
            content_type: None,
            data: vec![],
            headers: vec![],
        };
        let t = Trigger::of(&event);
        assert_eq!(t.emitted_id("p", 0), t.emitted_id("p", 0));
        assert_ne!(t.emitted_id("p", 0), t.emitted_id("p", 1));
        assert_ne!(t.emitted_id("p", 0), t.emitted_id("q", 0));
        assert_ne!(
            Trigger::default().emitted_id("p", 0),
            Trigger::default().emitted_id("p", 0)
        );
    }

    #[test]
    fn current_writes_shadow_accepted_ones_and_are_dropped_on_failure() {
        let mut fx = Effects::default();
        fx.current
            .kv
            .insert("a".into(), Some(KvValue::lasting(b"1".to_vec())));
        fx.accept_current();
        fx.current.kv.insert("a".into(), None);
        assert_eq!(fx.kv_lookup("a"), Some(None));
        fx.discard_current();
        assert_eq!(fx.kv_lookup("a"), Some(Some(&b"1"[..])));
        assert_eq!(fx.kv_lookup("b"), None);
    }

    #[test]
    fn a_batch_commits_now_when_it_staged_a_write_or_a_request_went_out() {
        let call = |sent| HttpCall {
            method: "GET".into(),
            url: "http://127.0.0.1:9/".into(),
            status: None,
            sent,
            denied: !sent,
            body: None,
            response: None,
        };
        let mut fx = Effects::default();
        fx.current.http.push(call(false));
        fx.accept_current();
        assert!(
            !fx.accepted.commits_now(),
            "a denied request did not go out"
        );

        fx.current.http.push(call(true));
        fx.discard_current();
        assert!(
            !fx.accepted.commits_now(),
            "a failed attempt's requests are dropped"
        );

        fx.current.http.push(call(true));
        fx.accept_current();
        assert!(fx.accepted.commits_now());

        let mut fx = Effects::default();
        fx.current.kv.insert("a".into(), None);
        fx.accept_current();
        assert!(fx.accepted.commits_now());
    }
}
