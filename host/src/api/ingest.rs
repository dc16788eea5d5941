//! `POST /v1/events`: one event or a batch, validated against the vocabulary,
//! routed by type, appended durably, then acknowledged with `202`.

use axum::extract::rejection::BytesRejection;
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::{Principal, Scope};
use crate::event::Event;
use crate::web::AppState;
use crate::web::admission::{Form, prepare};
use crate::web::caller::{Caller, forbidden};
use crate::web::extract::QueryParams;
use crate::web::ingest::{IngestReceipt, append};
use crate::web::problem::Problem;

/// Content types `POST /v1/events` accepts.
const ACCEPTED_TYPES: &[&str] = &[
    "application/json",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
];

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// Wait up to this long for the first push the event (or any event of
    /// the batch) causes, and answer with it: `200` with `reply`, or `202`
    /// with `reply: null` when none came in time. At most 30 000.
    #[param(maximum = 30000)]
    pub reply_timeout_ms: Option<u64>,
}

/// Longest `reply_timeout_ms`.
pub(super) const MAX_REPLY_WAIT_MS: u64 = 30_000;

/// Send events: one CloudEvent, the short form, or a batch.
///
/// Each is validated, routed to its topic and acknowledged once durable;
/// with `reply_timeout_ms` the answer waits for the push it caused.
#[utoipa::path(
    post,
    path = "/v1/events",
    tag = "ingest",
    params(IngestQuery),
    request_body(
        description = "One CloudEvent (structured JSON, or the short form) or a batch",
        content(
            (crate::web::ingest_body::IngestBody = "application/json"),
            (crate::web::ingest_body::StructuredIncomingEvent = "application/cloudevents+json"),
            (crate::web::ingest_body::StructuredEventBatch = "application/cloudevents-batch+json"),
        )
    ),
    responses(
        (status = 202, description = "Every event is durable (a retried copy is answered with `duplicate: true`, not written again)", body = IngestReceipt),
        (status = 200, description = "With `reply_timeout_ms`: durable, and the push it caused came in time", body = Replied),
        (status = 400, description = "Not an event or a batch, or an invalid field (listed with JSON pointers)", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 403, description = "The credential may not send this event type (or wait for replies)", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive in time", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A copy of this event (same `source` and `id`) is being written now; send it again", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body or the batch is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JSON content type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An event breaks its type's rules (listed with JSON pointers)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the key's or the address's rate (see `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log does not take writes now (nothing was written; see `Retry-After`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post_events(
    State(state): State<AppState>,
    Caller(principal): Caller,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    query: Result<QueryParams<IngestQuery>, Problem>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Err(problem) = state.ingest_limits.check(&principal, peer) {
        return problem.into_response();
    }
    let query = match query {
        Ok(QueryParams(query)) => query,
        Err(problem) => return problem.into_response(),
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
    // waits are dropped, and forgotten, when the client goes away. With a
    // batch, the first push any of its events causes is the reply.
    let waits: Result<Vec<_>, _> = events
        .iter()
        .map(|event| state.replies.expect(&event.id, &principal.label()))
        .collect();
    let reply = match waits {
        Ok(waits) => futures::future::select_ok(waits),
        Err(e) => return e.problem().into_response(),
    };
    let receipt = match append(&state, events).await {
        Ok(receipt) => receipt,
        Err(problem) => return problem.into_response(),
    };
    match tokio::time::timeout(std::time::Duration::from_millis(wait), reply).await {
        Ok(Ok((push, _))) => (
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

/// The answer to a request that waited for a reply: the receipt, and the
/// push the event caused (`null` when none came in time).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Replied {
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
    let (json, form) = read_body(state, headers, body, ACCEPTED_TYPES)?;
    let trace = super::trace::from_headers(headers);
    prepare(state, json, form, principal, &trace)
}

/// The JSON body of an ingest request sent as one of `accepted` (media
/// types), and the form its content type says the events take.
pub(super) fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    accepted: &[&str],
) -> Result<(Value, Form), Problem> {
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
    if !accepted.contains(&media.as_str()) {
        return Err(Problem::unsupported_media_type(format!(
            "Content-Type `{content_type}` is not accepted; send one of {}",
            accepted.join(", ")
        )));
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
    // Sent as structured CloudEvents (CloudEvents HTTP binding: one
    // event, or a batch as its own media type), every object must be one.
    let form = if media.starts_with("application/cloudevents-batch") {
        Form::StructuredBatch
    } else if media.starts_with("application/cloudevents") {
        Form::Structured
    } else {
        Form::Any
    };
    Ok((json, form))
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
