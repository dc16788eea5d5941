//! The answer to a command: when its processor has decided (accepted it,
//! refused it, or failed on it for good), the dispatcher stages a
//! `command.outcome` push on channel `commands`, in the same commit as the
//! processor's effects. It reaches the sender's live sessions like any push
//! and answers a `POST /v1/commands` waiting for it (the push log's tailer
//! offers it under [`reply_key`]), whichever instance ran the processor.

use serde_json::{Value, json};

use crate::event::{Event, JSON_CONTENT_TYPE, StoredEvent};
use crate::runtime::effects::{Effects, Refusal, uuid_v8};
use crate::runtime::host::push::{CHANNEL_HEADER, MAX_PUSH_DATA};
use crate::runtime::plugin::PluginVersion;

/// The push message type of an outcome.
pub const OUTCOME_TYPE: &str = "command.outcome";
/// The channel outcomes are pushed on.
pub const CHANNEL: &str = "commands";

/// What the waits for a command's outcome are registered under (the push
/// that answers command `id`; other pushes it causes are replies to it).
pub fn reply_key(id: &str) -> String {
    format!("command:{id}")
}

/// The processor returned `ok`: answer the command with what it staged.
/// A refusal drops the event's publishes and pushes (its KV writes stay);
/// an acceptance lists the events it published. Does nothing unless the
/// event is a command `version` processes.
pub fn settle(version: &PluginVersion, stored: &StoredEvent, effects: &mut Effects) {
    if !version.manifest.processes(&stored.event.ty) {
        return;
    }
    let outcome = match effects.current.refusal.take() {
        Some(Refusal { kind, reason }) => {
            effects.current.publishes.clear();
            json!({"status": "refused", "refusal": kind.as_str(), "reason": reason})
        }
        None => {
            let push_topic = &version.context.push_topic;
            let events: Vec<&Event> = effects
                .current
                .publishes
                .iter()
                .filter(|e| &e.topic != push_topic)
                .collect();
            json!({"status": "accepted", "events": listed(&events)})
        }
    };
    let push = outcome_push(version, stored, effects, outcome);
    effects.current.publishes.push(push);
}

/// The command failed for good (it is being dead-lettered): answer it
/// with the reason, in `effects`' accepted part.
pub fn failed(version: &PluginVersion, stored: &StoredEvent, effects: &mut Effects, reason: &str) {
    if !version.manifest.processes(&stored.event.ty) {
        return;
    }
    let reason: String = reason.chars().take(1024).collect();
    let outcome = json!({"status": "failed", "reason": reason});
    let push = outcome_push(version, stored, effects, outcome);
    effects.accepted.publishes.push(push);
}

/// The events an acceptance lists: id, type, topic, subject and data, the
/// data left out when the whole would not fit in a push.
fn listed(events: &[&Event]) -> Value {
    let full: Vec<Value> = events.iter().map(|e| describe(e, true)).collect();
    let size: usize = full.iter().map(|v| v.to_string().len()).sum();
    if size < MAX_PUSH_DATA / 2 {
        Value::Array(full)
    } else {
        Value::Array(events.iter().map(|e| describe(e, false)).collect())
    }
}

fn describe(event: &Event, with_data: bool) -> Value {
    let mut v = json!({"id": event.id, "type": event.ty, "topic": event.topic});
    if let Some(subject) = &event.subject {
        v["subject"] = json!(subject);
    }
    if with_data
        && event.is_json()
        && let Ok(data) = serde_json::from_slice::<Value>(&event.data)
    {
        v["data"] = data;
    }
    v
}

/// The outcome push of command `stored` (the trigger of `effects`): to its
/// customer (when it names one), caused by it, with an id that is the same
/// on every attempt.
fn outcome_push(
    version: &PluginVersion,
    stored: &StoredEvent,
    effects: &Effects,
    mut outcome: Value,
) -> Event {
    let command = &stored.event;
    let plugin = &version.manifest.name;
    outcome["command"] = json!(command.id);
    outcome["type"] = json!(command.ty);
    let trigger = &effects.trigger;
    let mut headers = vec![(CHANNEL_HEADER.to_owned(), CHANNEL.to_owned())];
    headers.extend(trigger.provenance());
    Event {
        id: uuid_v8(&trigger.digest(plugin, &[OUTCOME_TYPE], &[])),
        source: format!("plugin:{plugin}"),
        ty: OUTCOME_TYPE.to_owned(),
        subject: command.subject.clone(),
        time: Some(Event::now()),
        topic: version.context.push_topic.clone(),
        key: command
            .subject
            .clone()
            .or_else(|| command.key.clone())
            .or_else(|| Some(command.id.clone())),
        content_type: Some(JSON_CONTENT_TYPE.into()),
        data: outcome.to_string().into_bytes(),
        headers,
    }
}
