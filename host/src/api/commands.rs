//! `POST /v1/commands`: send one command and wait for its processor's
//! decision. The command is validated and authorised like any event,
//! written durably to its topic, and handed to the one plugin that
//! processes it (its manifest's `commands`); the answer is that plugin's
//! outcome ([`crate::dispatch::command_outcome`]): `200` with the events it
//! produced, `409` or `422` with its reason for refusing, `500` when it
//! failed on the command, or `202` when it has not decided within the wait
//! (the outcome still reaches the sender's live sessions, channel
//! `commands`).

use std::net::SocketAddr;

use axum::Extension;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ingest::{MAX_REPLY_WAIT_MS, read_body};
use crate::dispatch::command_outcome::reply_key;
use crate::event::Event;
use crate::event::cloudevents::FieldError;
use crate::web::AppState;
use crate::web::admission::prepare;
use crate::web::caller::Caller;
use crate::web::extract::QueryParams;
use crate::web::ingest::append;
use crate::web::problem::Problem;

/// Content types `POST /v1/commands` accepts: one command, as the short
/// form or a structured CloudEvent.
const ACCEPTED_TYPES: &[&str] = &["application/json", "application/cloudevents+json"];

/// How long a command waits for its outcome unless told.
const DEFAULT_WAIT_MS: u64 = 5_000;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommandQuery {
    /// Wait up to this long for the processor's decision (default 5000, at
    /// most 30 000); `202` when it has not decided by then.
    #[param(maximum = 30000)]
    pub timeout_ms: Option<u64>,
}

/// The answer to a command that was accepted, or is still pending.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommandAnswer {
    /// The command's event id.
    pub command: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: String,
    /// `accepted`, or `pending` when the processor had not decided in time.
    pub status: &'static str,
    /// `true` when a copy of this command (same `source` and `id`) was
    /// written before: it is not processed again, and its outcome was
    /// pushed then.
    pub duplicate: bool,
    /// The events the processor published in accepting it (`id`, `type`,
    /// `topic`, `subject`, and `data` when it fits).
    pub events: Vec<Value>,
}

/// Send a command; answered with its processor's decision.
///
/// One command (a type whose definition says `"kind": "command"`, see
/// `GET /v1/schemas`), as the short form or a structured CloudEvent. It is
/// written durably, then its one processor plugin accepts it (the events
/// it produced are the answer) or refuses it with a reason.
#[utoipa::path(
    post,
    path = "/v1/commands",
    tag = "ingest",
    params(CommandQuery),
    request_body(
        description = "One command",
        content(
            (crate::web::ingest_body::IncomingCommand = "application/json"),
            (crate::web::ingest_body::StructuredIncomingCommand = "application/cloudevents+json"),
        )
    ),
    responses(
        (status = 200, description = "Accepted by its processor, with the events it produced", body = CommandAnswer),
        (status = 202, description = "Written, but its processor has not decided within `timeout_ms` (or the command is a retried copy); the outcome is pushed to the customer's sessions on channel `commands`", body = CommandAnswer),
        (status = 400, description = "Not one command (a batch, or not JSON), or an invalid field", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 403, description = "The credential may not send this command type", body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "The body did not arrive in time", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Refused by its processor: it conflicts with the state it acts on (the reason is the detail); or a copy is being written now", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a JSON content type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a command of the vocabulary, breaks its type's rules (listed with JSON pointers), or refused by its processor as invalid (the reason is the detail)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the key's or the address's rate, or too many waits (see `Retry-After`)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Its processor failed on it for good (it was dead-lettered)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No plugin processes this command now, or the log does not take writes (nothing was written)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn post_command(
    State(state): State<AppState>,
    Caller(principal): Caller,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    query: Result<QueryParams<CommandQuery>, Problem>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let peer = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    if let Err(problem) = state.ingest_limits.check(&principal, peer) {
        return problem.into_response();
    }
    match answer(&state, &principal, query, &headers, body).await {
        Ok(response) | Err(response) => response,
    }
}

async fn answer(
    state: &AppState,
    principal: &crate::auth::Principal,
    query: Result<QueryParams<CommandQuery>, Problem>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Response> {
    let refuse = |problem: Problem| problem.into_response();
    let QueryParams(query) = query.map_err(refuse)?;
    let wait = query.timeout_ms.unwrap_or(DEFAULT_WAIT_MS);
    if wait > MAX_REPLY_WAIT_MS {
        return Err(refuse(Problem::bad_request(format!(
            "timeout_ms must be at most {MAX_REPLY_WAIT_MS}"
        ))));
    }
    let (json, form) = read_body(state, headers, body, ACCEPTED_TYPES).map_err(refuse)?;
    if json.is_array() {
        return Err(refuse(Problem::bad_request(
            "a command is one JSON object; send events in batches to POST /v1/events",
        )));
    }
    let trace = super::trace::from_headers(headers);
    let mut events = prepare(state, json, form, principal, &trace).map_err(refuse)?;
    let command: Event = events
        .pop()
        .ok_or_else(|| refuse(Problem::bad_request("the body holds no command")))?;
    if !state.vocabulary.is_command(&command.ty) {
        let error = FieldError::new(
            "/type",
            format!(
                "`{}` is not a command type (`GET /v1/schemas` lists each type's `kind`); send events to POST /v1/events",
                command.ty
            ),
        );
        return Err(refuse(Problem::invalid_events(vec![error], 1)));
    }
    if !has_processor(state, &command.ty) {
        return Err(refuse(Problem::unavailable(format!(
            "no plugin processes `{}` now (a plugin's manifest lists it in `commands`); nothing was written",
            command.ty
        ))));
    }
    // Registered before the append, so the outcome cannot come first.
    let outcome = state
        .replies
        .expect(&reply_key(&command.id), &principal.label())
        .map_err(|e| refuse(e.problem()))?;
    let (id, ty) = (command.id.clone(), command.ty.clone());
    let receipt = append(state, vec![command]).await.map_err(refuse)?;
    let duplicate = receipt.events.first().is_some_and(|a| a.duplicate);
    let pending = CommandAnswer {
        command: id,
        ty,
        status: "pending",
        duplicate,
        events: Vec::new(),
    };
    // A retried copy is not decided again: its outcome was pushed then.
    let push = if duplicate {
        None
    } else {
        let wait = std::time::Duration::from_millis(wait);
        tokio::time::timeout(wait, outcome)
            .await
            .ok()
            .and_then(Result::ok)
    };
    Ok(match push {
        Some(push) => decided(pending, &push["data"]),
        None => (StatusCode::ACCEPTED, axum::Json(pending)).into_response(),
    })
}

/// Whether a deployed plugin processes command type `ty` now.
fn has_processor(state: &AppState, ty: &str) -> bool {
    state
        .registry
        .snapshot()
        .plugins
        .values()
        .any(|d| d.live.manifest.processes(ty))
}

/// The answer the outcome `data` of a `command.outcome` push gives.
fn decided(mut answer: CommandAnswer, outcome: &Value) -> Response {
    let reason = outcome["reason"].as_str().unwrap_or_default().to_owned();
    match outcome["status"].as_str() {
        Some("accepted") => {
            answer.status = "accepted";
            answer.events = outcome["events"].as_array().cloned().unwrap_or_default();
            (StatusCode::OK, axum::Json(answer)).into_response()
        }
        Some("refused") if outcome["refusal"] == "conflict" => Problem::new(
            StatusCode::CONFLICT,
            "command-refused",
            "Command refused",
            reason,
        )
        .into_response(),
        Some("refused") => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "command-refused",
            "Command refused",
            reason,
        )
        .into_response(),
        _ => Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "command-failed",
            "Command failed",
            format!("the processor failed on the command: {reason}"),
        )
        .into_response(),
    }
}
