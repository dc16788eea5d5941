//! The WebSocket gateway (`GET /v1/ws`): customers' live sessions. A session
//! authenticates as one customer, sends events (acknowledged once durable)
//! and receives the pushes plugins address to that customer, resuming
//! without loss after a reconnect. Protocol: `docs/websocket.md`.

pub mod asyncapi;
pub mod frames;
pub mod hub;
pub mod session;
pub mod tailer;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::watch;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthError, Principal};
use crate::config::WebSocketSettings;
use crate::web::AppState;
use crate::web::caller::{forbidden, unauthorized};
use crate::web::extract::{JsonBody, QueryParams};
use crate::web::problem::Problem;
use hub::Hub;

/// The WebSocket routes' state: the handlers' shared state (which it
/// dereferences to) and the sessions'.
#[derive(Clone)]
pub struct WsState {
    app: AppState,
    /// What sessions share.
    pub ws: Arc<WsContext>,
}

impl std::ops::Deref for WsState {
    type Target = AppState;

    fn deref(&self) -> &AppState {
        &self.app
    }
}

fn router() -> OpenApiRouter<WsState> {
    OpenApiRouter::new()
        .routes(routes!(upgrade))
        .routes(routes!(dev_token))
}

/// The WebSocket gateway's routes (`GET /v1/ws`, `POST /v1/dev/tokens`),
/// with their state, and their description, for [`crate::api::app`] to
/// merge.
pub fn routes(app: AppState, ws: Arc<WsContext>) -> (Router, utoipa::openapi::OpenApi) {
    let (router, doc) = router().split_for_parts();
    (router.with_state(WsState { app, ws }), doc)
}

/// The description of [`routes`] (the frames are in `docs/asyncapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    router().split_for_parts().1
}

/// What sessions share.
pub struct WsContext {
    /// Settings.
    pub settings: WebSocketSettings,
    /// Local sessions.
    pub hub: Arc<Hub>,
    /// Becomes `true` at shutdown.
    pub shutdown: watch::Receiver<bool>,
}

impl WsContext {
    /// The context for `settings`; `reply_waits` bounds each principal's
    /// requests waiting for a reply.
    pub fn new(
        settings: &WebSocketSettings,
        reply_waits: usize,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Self {
            hub: Arc::new(Hub::new(
                settings.max_sessions_per_customer,
                settings.send_queue,
                reply_waits,
            )),
            settings: settings.clone(),
            shutdown,
        }
    }

    /// Whether a browser at `origin` may open a session.
    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let allowed = &self.settings.allowed_origins;
        match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            None => true,
            Some(_) if allowed.is_empty() => true,
            Some(origin) => allowed
                .iter()
                .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin)),
        }
    }
}

/// The customer a session's token names (`?token=` or `Authorization: Bearer`).
async fn authenticate(
    state: &WsState,
    query: &WsQuery,
    headers: &HeaderMap,
) -> Result<String, AuthError> {
    let token = query
        .token
        .as_deref()
        .or_else(|| crate::auth::bearer(headers))
        .ok_or(AuthError::Missing)?;
    match state.auth.principal(token).await? {
        Principal::Customer(id) => Ok(id),
        other => Err(AuthError::Invalid(format!(
            "sessions are for customers; {} is not one",
            other.label()
        ))),
    }
}

/// Query of `GET /v1/ws`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsQuery {
    /// The customer token (or send `Authorization: Bearer`).
    pub token: Option<String>,
    /// The last resume token received, to replay what was missed.
    pub resume: Option<String>,
}

/// The headers of an opening handshake (RFC 6455 4.1), as the OpenAPI
/// document states them; the handshake itself is checked by axum and
/// [`valid_key`].
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // a description of the handshake's headers
struct Handshake {
    /// `Upgrade`.
    #[param(rename = "Connection", pattern = "^Upgrade$")]
    connection: String,
    /// `websocket`.
    #[param(rename = "Upgrade", pattern = "^websocket$")]
    upgrade: String,
    /// `13`.
    #[param(rename = "Sec-WebSocket-Version", pattern = "^13$")]
    version: String,
    /// A random 16-byte value, base64-encoded.
    #[param(rename = "Sec-WebSocket-Key", pattern = "^[A-Za-z0-9+/]{21}[AQgw]==$")]
    key: String,
}

/// Whether `key` is a `Sec-WebSocket-Key` as RFC 6455 4.2.1 requires: a
/// base64-encoded 16-byte value (a server must refuse anything else).
fn valid_key(key: &[u8]) -> bool {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(key)
        .is_ok_and(|k| k.len() == 16)
}

/// A session's read buffer: tungstenite allocates it up front and fills it
/// (128 KiB by default), which made an idle session cost ~136 KiB
/// (`streamplug-bench`, docs/BENCHMARKS.md). Event frames are a few hundred
/// bytes; a larger one makes the buffer grow to its size.
const READ_BUFFER_BYTES: usize = 2 * 1024;
/// Pushes are written once this much is buffered, or on flush.
const WRITE_BUFFER_BYTES: usize = 8 * 1024;

/// Open a customer's live session (WebSocket, RFC 6455).
///
/// The frames in and out and the close codes are in docs/asyncapi.json.
#[utoipa::path(
    get,
    path = "/v1/ws",
    tag = "sessions",
    params(WsQuery, Handshake),
    responses(
        (status = 101, description = "A session: the frames are described in docs/asyncapi.json; a refused token still upgrades, then closes with 4401 and the reason"),
        (status = 400, description = "Not a WebSocket upgrade request (its headers), or a bad query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "This Origin may not open sessions", body = Problem, content_type = "application/problem+json"),
        (status = 426, description = "Not a WebSocket upgrade", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upgrade(
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    State(state): State<WsState>,
    query: Result<QueryParams<WsQuery>, Problem>,
    headers: HeaderMap,
) -> Response {
    // Not an upgrade, or a query that does not parse: a problem body, as
    // every error answer is.
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            return Problem::new(
                rejection.status(),
                "not-a-websocket-upgrade",
                "Not a WebSocket upgrade",
                rejection.body_text(),
            )
            .into_response();
        }
    };
    if !headers
        .get(header::SEC_WEBSOCKET_KEY)
        .is_some_and(|k| valid_key(k.as_bytes()))
    {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "not-a-websocket-upgrade",
            "Not a WebSocket upgrade",
            "Sec-WebSocket-Key must be a base64-encoded 16-byte value (RFC 6455 4.2.1)",
        )
        .into_response();
    }
    let QueryParams(query) = match query {
        Ok(query) => query,
        Err(problem) => return problem.into_response(),
    };
    let ctx = state.ws.clone();
    if !ctx.origin_allowed(&headers) {
        return forbidden("this Origin may not open sessions (websocket.allowed_origins)")
            .into_response();
    }
    let hard_limit = ctx.settings.max_message_bytes.saturating_mul(4);
    // A refused token still gets the upgrade, then a close frame with 4401
    // and the reason: a browser cannot read a refused handshake's status.
    let auth = authenticate(&state, &query, &headers)
        .await
        // Counted like an HTTP refusal.
        .inspect_err(|e| drop(unauthorized(e)));
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    /// Customer id the token is for.
    #[schema(min_length = 1, max_length = 200)]
    pub customer: String,
    /// Lifetime, seconds (default one hour, at most
    /// `auth.dev_token_max_ttl_secs`: a day unless configured otherwise).
    #[schema(minimum = 1, maximum = 86400)]
    // DEFAULT_DEV_TOKEN_MAX_TTL_SECS (a test holds them equal)
    pub ttl_secs: Option<u64>,
}

/// What `POST /v1/dev/tokens` answers.
#[derive(Debug, serde::Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedToken {
    /// The JWT, for `?token=` or `Authorization: Bearer`.
    pub token: String,
    /// The customer it names.
    pub customer: String,
    /// Its lifetime, seconds.
    pub expires_in: u64,
}

/// Mint a customer token (development only).
///
/// Served only with `auth.dev_tokens`, which is refused at start unless the
/// listener is on loopback.
#[utoipa::path(
    post,
    path = "/v1/dev/tokens",
    tag = "sessions",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "A customer token", body = IssuedToken),
        (status = 400, description = "A bad request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Dev tokens are off (`auth.dev_tokens`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not sent as application/json", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn dev_token(
    State(state): State<WsState>,
    body: Result<JsonBody<TokenRequest>, Problem>,
) -> Response {
    let Some(max_ttl) = state.dev_token_max_ttl else {
        return Problem::not_found("dev tokens are disabled (auth.dev_tokens)").into_response();
    };
    let JsonBody(req) = match body {
        Ok(b) => b,
        Err(problem) => return problem.into_response(),
    };
    if req.customer.is_empty() || req.customer.chars().count() > crate::event::MAX_SUBJECT_CHARS {
        return Problem::bad_request(format!(
            "customer must be 1 to {} characters",
            crate::event::MAX_SUBJECT_CHARS
        ))
        .into_response();
    }
    let ttl = req.ttl_secs.unwrap_or(3600);
    if ttl == 0 || ttl > max_ttl {
        return Problem::bad_request(format!(
            "ttl_secs must be 1 to {max_ttl} (auth.dev_token_max_ttl_secs)"
        ))
        .into_response();
    }
    match state.auth.tokens.sign(&req.customer, ttl) {
        Ok(token) => (
            StatusCode::CREATED,
            axum::Json(IssuedToken {
                token,
                customer: req.customer,
                expires_in: ttl,
            }),
        )
            .into_response(),
        Err(e) => Problem::bad_request(e.to_string()).into_response(),
    }
}
