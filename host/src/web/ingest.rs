//! The ingest pipeline the HTTP route (`POST /v1/events`) and WebSocket
//! sessions share: validate, authorise and route the events (see
//! [`prepare`]), place them in the log, and answer with their receipt once
//! they are durable.

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::AppState;
use super::admission::{Form, prepare};
use super::problem::Problem;
use crate::auth::Principal;
use crate::event::Event;
use crate::storage::StorageError;

/// Counter of events accepted at ingest by topic.
pub const INGESTED: &str = "streamplug_ingest_events_total";
/// Counter of retried copies recognised at ingest (answered, not written).
pub const DUPLICATES: &str = "streamplug_ingest_duplicates_total";

/// Where one accepted event was written.
#[derive(Debug, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct Accepted {
    /// Event id (assigned when the request had none).
    pub id: String,
    /// Topic it was routed to.
    pub topic: String,
    /// Partition.
    pub partition: u32,
    /// Offset in the partition.
    pub offset: u64,
    /// `true` when a copy with the same `source` and `id` was already
    /// written within the idempotency window: this one was not written
    /// again, and the position is the first copy's.
    pub duplicate: bool,
}

/// The `202` body.
#[derive(Debug, Serialize, utoipa::ToSchema, schemars::JsonSchema)]
pub struct IngestReceipt {
    /// Number of events accepted (written now or, for duplicates, before).
    pub accepted: usize,
    /// Each event's position, in request order.
    pub events: Vec<Accepted>,
}

/// `POST /v1/events` options.
/// Validate, authorise, route and durably append the events in `json`;
/// see [`prepare`].
pub async fn ingest_value(
    state: &AppState,
    json: Value,
    principal: &Principal,
    trace: &[(String, String)],
) -> Result<IngestReceipt, Problem> {
    append(state, prepare(state, json, Form::Any, principal, trace)?).await
}

/// [`ingest_value`] in two steps: this returns once the events hold their
/// place in the log (after those of earlier calls), and the future resolves
/// to the receipt once they are durable. A WebSocket session pipelines its
/// frames this way.
pub async fn queue_value(
    state: &AppState,
    json: Value,
    principal: &Principal,
    trace: &[(String, String)],
) -> Result<PendingReceipt, Problem> {
    queue(state, prepare(state, json, Form::Any, principal, trace)?).await
}

/// A receipt to come, once the events are durable.
pub type PendingReceipt =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<IngestReceipt, Problem>> + Send>>;

/// Append validated events durably; their positions once written.
pub async fn append(state: &AppState, events: Vec<Event>) -> Result<IngestReceipt, Problem> {
    queue(state, events).await?.await
}

/// Place validated events in the log's order; the receipt once durable.
async fn queue(state: &AppState, events: Vec<Event>) -> Result<PendingReceipt, Problem> {
    if let Some(trouble) = state.storage_health.trouble() {
        return Err(Problem::storage(
            &trouble,
            "; nothing of this request was written, send it again later",
        ));
    }
    // Only the ids are needed after the append; the events move into it.
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let started = std::time::Instant::now();
    let pending = state
        .log
        .queue_append_once(events, state.limits.idempotency_window)
        .await
        .map_err(append_problem)?;
    Ok(Box::pin(async move {
        let appended = pending.await.map_err(append_problem)?;
        crate::stages::since(crate::stages::Stage::Append, started);
        Ok(receipt(ids, appended))
    }))
}

/// What a failed append tells the client.
fn append_problem(e: StorageError) -> Problem {
    match e {
        StorageError::UnknownTopic(t) => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unknown-topic",
            "Routing error",
            format!("the route leads to topic `{t}`, which does not exist"),
        ),
        e @ StorageError::InProgress { .. } => Problem::in_progress(format!(
            "{e}; nothing of this request was written, send it again"
        )),
        other => Problem::unavailable(format!("the events were not written: {other}")),
    }
}

/// The receipt of the events `ids`, written (or found written) at `appended`.
fn receipt(ids: Vec<String>, appended: Vec<crate::storage::Appended>) -> IngestReceipt {
    let accepted: Vec<Accepted> = ids
        .into_iter()
        .zip(appended)
        .map(|(id, a)| Accepted {
            id,
            topic: a.position.topic,
            partition: a.position.partition,
            offset: a.position.offset,
            duplicate: a.duplicate,
        })
        .collect();
    for a in &accepted {
        if a.duplicate {
            metrics::counter!(DUPLICATES, "topic" => a.topic.clone()).increment(1);
        } else {
            metrics::counter!(INGESTED, "topic" => a.topic.clone()).increment(1);
        }
    }
    IngestReceipt {
        accepted: accepted.len(),
        events: accepted,
    }
}
