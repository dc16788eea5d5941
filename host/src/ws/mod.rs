//! The WebSocket gateway (`GET /v1/ws`): customers' live sessions. A session
//! authenticates as one customer, sends events (acknowledged once durable)
//! and receives the pushes plugins address to that customer, resuming
//! without loss after a reconnect. Protocol: `docs/websocket.md`.

pub mod auth;
pub mod frames;
pub mod hub;
mod rate;
pub mod replies;
pub mod session;
pub mod tailer;

use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::watch;

use crate::api::AppState;
use crate::api::problem::Problem;
use crate::config::WebSocketSettings;
use auth::{AuthError, TokenKeys};
use hub::Hub;

/// What sessions share.
pub struct WsContext {
    /// Settings.
    pub settings: WebSocketSettings,
    /// Token keys, when a secret is configured.
    pub keys: Option<TokenKeys>,
    /// Local sessions.
    pub hub: Arc<Hub>,
    /// Becomes `true` at shutdown.
    pub shutdown: watch::Receiver<bool>,
}

impl WsContext {
    /// The context for `settings`.
    pub fn new(settings: &WebSocketSettings, shutdown: watch::Receiver<bool>) -> Self {
        Self {
            keys: settings.jwt_secret.as_deref().map(TokenKeys::new),
            hub: Arc::new(Hub::new(
                settings.max_sessions_per_customer,
                settings.send_queue,
            )),
            settings: settings.clone(),
            shutdown,
        }
    }

    fn authenticate(&self, query: &WsQuery, headers: &HeaderMap) -> Result<String, AuthError> {
        let keys = self.keys.as_ref().ok_or(AuthError::Disabled)?;
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let token = query
            .token
            .as_deref()
            .or(bearer)
            .ok_or(AuthError::Missing)?;
        keys.verify(token)
    }
}

/// Query of `GET /v1/ws`.
#[derive(Debug, Deserialize)]
pub struct WsQuery {
    /// The customer token (or send `Authorization: Bearer`).
    pub token: Option<String>,
    /// The last resume token received, to replay what was missed.
    pub resume: Option<String>,
}

/// A session's read buffer: tungstenite allocates it up front and fills it
/// (128 KiB by default), which made an idle session cost ~136 KiB
/// (`streamplug-bench`, docs/BENCHMARKS.md). Event frames are a few hundred
/// bytes; a larger one makes the buffer grow to its size.
const READ_BUFFER_BYTES: usize = 2 * 1024;
/// Pushes are written once this much is buffered, or on flush.
const WRITE_BUFFER_BYTES: usize = 8 * 1024;

/// `GET /v1/ws`.
pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Query(query): Query<WsQuery>,
    headers: HeaderMap,
) -> Response {
    let ctx = state.ws.clone();
    let hard_limit = ctx.settings.max_message_bytes.saturating_mul(4);
    let auth = ctx.authenticate(&query, &headers);
    ws.max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| async move {
            match auth {
                Ok(customer) => session::run(socket, state, customer, query.resume).await,
                Err(e) => {
                    session::refuse(socket, session::close::UNAUTHORIZED, e.to_string()).await
                }
            }
        })
}

/// Body of `POST /v1/dev/tokens`.
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    /// Customer id the token is for.
    pub customer: String,
    /// Lifetime, seconds (default one hour).
    pub ttl_secs: Option<u64>,
}

/// `POST /v1/dev/tokens`: mint a customer token (only with `websocket.dev_tokens`).
pub async fn dev_token(
    State(state): State<AppState>,
    body: Result<axum::Json<TokenRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let ctx = &state.ws;
    let Some(keys) = ctx.keys.as_ref().filter(|_| ctx.settings.dev_tokens) else {
        return Problem::not_found("dev tokens are disabled (websocket.dev_tokens)")
            .into_response();
    };
    let axum::Json(req) = match body {
        Ok(b) => b,
        Err(e) => return Problem::bad_request(e.body_text()).into_response(),
    };
    if req.customer.is_empty() {
        return Problem::bad_request("customer must not be empty").into_response();
    }
    let ttl = req.ttl_secs.unwrap_or(3600);
    match keys.sign(&req.customer, ttl) {
        Ok(token) => (
            StatusCode::CREATED,
            axum::Json(
                serde_json::json!({"token": token, "customer": req.customer, "expires_in": ttl}),
            ),
        )
            .into_response(),
        Err(e) => Problem::bad_request(e.to_string()).into_response(),
    }
}
