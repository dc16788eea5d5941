//! `POST /v1/webhooks/{name}`: a configured webhook endpoint
//! (`[webhooks.endpoints.<name>]`). The request is verified as its sender
//! signs it (`config::webhooks`), then written as one `webhook.received`
//! event (the body as JSON, or base64 when it is not JSON, and the query
//! parameters but a URL token), keyed by the endpoint, for a plugin to map
//! to domain events. `200` only once the
//! event is durable, so the sender retries what the gateway could not
//! take; a repeated delivery of the same body is answered, not written
//! again (its event id is derived from the endpoint and the body).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use streamplug_wire::webhook_signature::ProofSource;

use crate::event::{Event, JSON_CONTENT_TYPE};
use crate::web::AppState;
use crate::web::extract::QueryParams;
use crate::web::problem::Problem;

/// The event type a verified webhook becomes.
pub const WEBHOOK_RECEIVED: &str = "webhook.received";

/// A configured webhook.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{name}",
    tag = "ingest",
    params(
        ("name" = String, Path, description = "The endpoint, as configured in `[webhooks.endpoints.<name>]`"),
        ("token" = Option<String>, Query, description = "The endpoint's secret, for `verify = \"url-token\"` endpoints only"),
    ),
    request_body(content = Vec<u8>, description = "The sender's payload, as it signed it", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "Verified and written as a `webhook.received` event, durable", body = crate::web::ingest::IngestReceipt),
        (status = 400, description = "The query string is malformed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The signature, timestamp or credentials are missing, wrong or outside the tolerance", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint is configured", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A copy of this delivery is being written now; send it again", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log does not take writes now", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn receive(
    State(state): State<AppState>,
    Path(name): Path<String>,
    query: Result<QueryParams<BTreeMap<String, String>>, Problem>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(endpoint) = state.webhooks.get(&name) else {
        return Problem::not_found(format!("no webhook endpoint `{name}` is configured"))
            .into_response();
    };
    let mut query = match query {
        Ok(QueryParams(q)) => q,
        Err(problem) => return problem.into_response(),
    };
    let source = endpoint.verification.proof_source(&endpoint.header);
    let proof = match source {
        ProofSource::Header(header) => headers.get(header).and_then(|v| v.to_str().ok()),
        ProofSource::Query(param) => query.get(param).map(String::as_str),
    };
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    if let Err(e) = endpoint.verification.verify(proof, &body, now) {
        metrics::counter!("streamplug_webhooks_refused_total", "reason" => refusal(&e))
            .increment(1);
        tracing::debug!(webhook = %name, error = %e, "webhook refused");
        return Problem::unauthorized(format!("webhook `{name}`: {e}")).into_response();
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // A URL token is the secret: it is not written with the event.
    if let ProofSource::Query(param) = source {
        query.remove(param);
    }
    let event = match received(&state, &name, content_type, &query, &body) {
        Ok(event) => event,
        Err(problem) => return problem.into_response(),
    };
    match crate::web::ingest::append(&state, vec![event]).await {
        Ok(receipt) => (StatusCode::OK, axum::Json(receipt)).into_response(),
        Err(problem) => problem.into_response(),
    }
}

/// The bounded label of a refusal.
fn refusal(e: &streamplug_wire::webhook_signature::SignatureError) -> &'static str {
    use streamplug_wire::webhook_signature::SignatureError as E;
    match e {
        E::Missing(_) => "missing",
        E::Malformed(_) => "malformed",
        E::Mismatch => "mismatch",
        E::OutsideTolerance(_) => "outside_tolerance",
    }
}

/// The `webhook.received` event of a verified request to endpoint `name`.
fn received(
    state: &AppState,
    name: &str,
    content_type: Option<String>,
    query: &BTreeMap<String, String>,
    body: &[u8],
) -> Result<Event, Problem> {
    let mut data = json!({
        "webhook": name,
        "received_at": Event::now(),
        "content_type": content_type,
    });
    if !query.is_empty() {
        data["query"] = json!(query);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(json) => data["body"] = json,
        Err(_) => {
            data["body_base64"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
        }
    }
    // The deployment may have replaced the type: what is written must fit it.
    let version = state
        .vocabulary
        .validate(WEBHOOK_RECEIVED, None, None, Some(&data), "")
        .map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "webhook-type",
                "The webhook.received type does not take this webhook",
                format!("{}: {}", e.pointer, e.message),
            )
        })?;
    let key = match version.partition_key(&data, "") {
        Some(key) => Some(key.map_err(|e| Problem::bad_request(e.message))?),
        None => Some(name.to_owned()),
    };
    let topic = state.router.topic_for(WEBHOOK_RECEIVED).ok_or_else(|| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unknown-topic",
            "Routing error",
            "no topic for `webhook.received`: give its type file a `topic` or add a route",
        )
    })?;
    // The same body to the same endpoint is the same delivery (a retry).
    let digest = crate::hash::sha256_of_parts([name], body);
    Ok(Event {
        id: format!("wh-{}", hex::encode(&digest[..16])),
        source: format!("/webhooks/{name}"),
        ty: WEBHOOK_RECEIVED.into(),
        subject: None,
        time: Some(Event::now()),
        topic: topic.to_owned(),
        key,
        content_type: Some(JSON_CONTENT_TYPE.into()),
        data: serde_json::to_vec(&data).unwrap_or_default(),
        headers: Vec::new(),
    })
}
