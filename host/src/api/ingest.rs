//! `POST /v1/events`: one event or a batch, validated against the vocabulary,
//! routed by type, appended durably, then acknowledged with `202`.

use axum::extract::rejection::{BytesRejection, QueryRejection};
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AppState;
use super::admission::{Form, prepare};
use super::caller::{Caller, forbidden};
use super::problem::Problem;
use crate::auth::{Principal, Scope};
use crate::event::Event;
use crate::storage::StorageError;

/// Content types `POST /v1/events` accepts.
const ACCEPTED_TYPES: &[&str] = &[
    "application/json",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
];

/// Counter of events accepted at ingest by topic.
pub const INGESTED: &str = "streamplug_ingest_events_total";
/// Counter of retried copies recognised at ingest (answered, not written).
pub const DUPLICATES: &str = "streamplug_ingest_duplicates_total";

/// Where one accepted event was written.
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
pub struct IngestReceipt {
    /// Number of events accepted (written now or, for duplicates, before).
    pub accepted: usize,
    /// Each event's position, in request order.
    pub events: Vec<Accepted>,
}

/// `POST /v1/events` options.
#[derive(Debug, Default, Deserialize)]
pub struct IngestQuery {
    /// Wait up to this long for the first push the (single) event causes,
    /// and answer with it: `200` with `reply`, or `202` with `reply: null`
    /// when none came in time. At most 30 000.
    pub reply_timeout_ms: Option<u64>,
}

/// Longest `reply_timeout_ms`.
const MAX_REPLY_WAIT_MS: u64 = 30_000;

/// The handler.
pub async fn post_events(
    State(state): State<AppState>,
    Caller(principal): Caller,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    query: Result<Query<IngestQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Err(problem) = state.ingest_limits.check(&principal, peer) {
        return problem.into_response();
    }
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return Problem::bad_request(rejection.body_text()).into_response(),
    };
    let events = match parse_request(&state, &principal, &headers, body) {
        Ok(events) => events,
        Err(problem) => return problem.into_response(),
    };
    let Some(wait) = query.reply_timeout_ms else {
        return match append(&state, events).await {
            Ok(receipt) => (StatusCode::ACCEPTED, axum::Json(receipt)).into_response(),
            Err(problem) => problem.into_response(),
        };
    };
    if wait > MAX_REPLY_WAIT_MS {
        return Problem::bad_request(format!(
            "reply_timeout_ms must be at most {MAX_REPLY_WAIT_MS}"
        ))
        .into_response();
    }
    let [event] = events.as_slice() else {
        return Problem::bad_request("reply_timeout_ms needs exactly one event").into_response();
    };
    // A customer waits for replies to its own events (the chat widget);
    // anyone else needs the scope.
    if principal.customer().is_none() && !principal.has(&Scope::Reply) {
        return forbidden(format!(
            "reply_timeout_ms needs the `reply` scope, which {} does not hold",
            principal.label()
        ))
        .into_response();
    }
    // Registered before the append, so the reply cannot come first; the
    // wait is dropped, and forgotten, when the client goes away.
    let reply = match state.ws.hub.replies.expect(&event.id, &principal.label()) {
        Ok(wait) => wait,
        Err(e) => return e.problem().into_response(),
    };
    let receipt = match append(&state, events).await {
        Ok(receipt) => receipt,
        Err(problem) => return problem.into_response(),
    };
    match tokio::time::timeout(std::time::Duration::from_millis(wait), reply).await {
        Ok(Ok(push)) => (
            StatusCode::OK,
            axum::Json(Replied {
                receipt,
                reply: Some(push),
            }),
        )
            .into_response(),
        _ => (
            StatusCode::ACCEPTED,
            axum::Json(Replied {
                receipt,
                reply: None,
            }),
        )
            .into_response(),
    }
}

/// The answer to a request that waited for a reply.
#[derive(Debug, Serialize)]
struct Replied {
    #[serde(flatten)]
    receipt: IngestReceipt,
    /// The push frame the event caused, if it came in time.
    reply: Option<Value>,
}

fn parse_request(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Vec<Event>, Problem> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if !ACCEPTED_TYPES.contains(&media.as_str()) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            format!(
                "Content-Type `{content_type}` is not accepted; send one of {}",
                ACCEPTED_TYPES.join(", ")
            ),
        ));
    }
    let body = body.map_err(|rejection| {
        if is_timeout(&rejection) {
            Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "Request timeout",
                format!(
                    "the body did not arrive within {} ms (server.body_read_timeout_ms)",
                    state.limits.body_read_timeout.as_millis()
                ),
            )
        } else if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::too_large(format!(
                "the body is larger than {} bytes (server.max_body_bytes)",
                state.limits.max_body_bytes
            ))
        } else {
            Problem::bad_request(rejection.body_text())
        }
    })?;
    let json: Value = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request(format!("the body is not JSON: {e}")))?;
    // Sent as structured CloudEvents, every object must be one.
    let form = if media.starts_with("application/cloudevents") {
        Form::Structured
    } else {
        Form::Any
    };
    let trace = super::trace::from_headers(headers);
    prepare(state, json, form, principal, &trace)
}

/// Whether reading the body failed because it took too long.
fn is_timeout(rejection: &BytesRejection) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(error) = source {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = error.source();
    }
    false
}

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
async fn append(state: &AppState, events: Vec<Event>) -> Result<IngestReceipt, Problem> {
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
    let pending = state
        .log
        .queue_append_once(events, state.limits.idempotency_window)
        .await
        .map_err(append_problem)?;
    Ok(Box::pin(async move {
        let appended = pending.await.map_err(append_problem)?;
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
