//! A local Stripe for tests: axum on a free loopback port speaking the
//! PaymentIntents API as its reference describes it: `Authorization:
//! Bearer sk_test_...`, `application/x-www-form-urlencoded` bodies with
//! bracketed names (`metadata[order]`), JSON answers and error bodies,
//! `Idempotency-Key` (a repeat answers the first response with
//! `Idempotent-Replayed: true`; the same key with other parameters is a
//! 400 `idempotency_error`), the test payment methods (`pm_card_visa`,
//! declines with their `decline_code`, `pm_card_threeDSecure2Required`),
//! and webhook events signed with `Stripe-Signature: t=...,v1=...` posted
//! to a configured endpoint. Faults (429, 500) and held answers are
//! injectable; every request is recorded.

mod errors;
mod ledger;
mod three_d_secure;
mod webhooks;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Result;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::watch;

use errors::error;
pub use ledger::Intent;
use ledger::{Answer, Ledger};
use webhooks::deliver_due;

use crate::local_server::LocalServer;

/// The secret key the double accepts.
pub const SECRET_KEY: &str = "sk_test_51StreamplugDouble0000000000000000";

/// A fault the next requests get.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// 429 `rate_limit`.
    RateLimited,
    /// 500 `api_error`.
    ServerError,
}

/// One request the double received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `POST /v1/payment_intents`, ...
    pub route: String,
    /// The form parameters.
    pub params: BTreeMap<String, String>,
    /// Its `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// The status answered.
    pub status: u16,
    /// Whether it was a replay of an earlier answer.
    pub replayed: bool,
}

struct Stored {
    route: String,
    params: BTreeMap<String, String>,
    answer: Answer,
}

#[derive(Default)]
struct Inner {
    ledger: Ledger,
    idempotent: BTreeMap<String, Stored>,
    received: Vec<Received>,
    faults: VecDeque<Fault>,
    webhook: Option<(String, String)>,
    webhooks_sent: usize,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    /// While true, answers wait (the work is done and recorded first).
    hold: watch::Sender<bool>,
    http: reqwest::Client,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake Stripe.
pub struct Stripe {
    /// `http://127.0.0.1:PORT` (the API base, in place of `https://api.stripe.com`).
    pub url: String,
    shared: Shared,
    _server: LocalServer,
}

impl Stripe {
    /// Start on a free loopback port.
    pub async fn start() -> Result<Self> {
        let shared = Shared {
            inner: Arc::default(),
            hold: watch::Sender::new(false),
            http: reqwest::Client::new(),
        };
        let app = axum::Router::new()
            .route("/v1/payment_intents", post(create))
            .route("/v1/payment_intents/{id}", get(read))
            .route("/v1/payment_intents/{id}/{action}", post(act))
            .route("/v1/refunds", post(refund))
            .route(
                "/3ds/{id}",
                get(three_d_secure::page).post(three_d_secure::answer),
            )
            .with_state(shared.clone());
        let server = LocalServer::start(app).await?;
        shared.lock().ledger.base_url = Some(server.url.clone());
        Ok(Self {
            url: server.url.clone(),
            shared,
            _server: server,
        })
    }

    /// The gateway's `[credentials.NAME]` for this double.
    pub fn credential_toml(&self, name: &str) -> String {
        format!(
            "[credentials.{name}]\nkind = \"header\"\nname = \"Authorization\"\nvalue = \"Bearer {SECRET_KEY}\"\n"
        )
    }

    /// Post signed webhook events to `url`, signed with `secret`.
    pub fn send_webhooks_to(&self, url: &str, secret: &str) {
        self.shared.lock().webhook = Some((url.to_owned(), secret.to_owned()));
    }

    /// Every PaymentIntent made so far.
    pub fn intents(&self) -> Vec<Intent> {
        self.shared
            .lock()
            .ledger
            .intents
            .values()
            .cloned()
            .collect()
    }

    /// The refunds made so far.
    pub fn refunds(&self) -> Vec<Value> {
        self.shared.lock().ledger.refunds.clone()
    }

    /// Every request received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    /// Webhook events delivered (answered 2xx) so far.
    pub fn webhooks_sent(&self) -> usize {
        self.shared.lock().webhooks_sent
    }

    /// The next `count` requests fail with `fault`.
    pub fn fail_next(&self, count: usize, fault: Fault) {
        self.shared
            .lock()
            .faults
            .extend(std::iter::repeat_n(fault, count));
    }

    /// From now on, requests are carried out and recorded but not answered
    /// until [`Stripe::release`] (a provider slow to answer; the client may
    /// give up or die meanwhile).
    pub fn hold_answers(&self) {
        self.shared.hold.send_replace(true);
    }

    /// Answer the held requests, and the next ones at once.
    pub fn release(&self) {
        self.shared.hold.send_replace(false);
    }

    /// The shopper completes (or fails) the 3-D Secure challenge of a
    /// `requires_action` intent, as Stripe.js would report it.
    pub async fn authenticate(&self, intent: &str, succeeded: bool) -> Result<Value> {
        let (status, body) = {
            let mut inner = self.shared.lock();
            inner.ledger.authenticate(intent, succeeded)
        };
        deliver_due(&self.shared).await;
        anyhow::ensure!(status == 200, "authenticate {intent}: {status} {body}");
        Ok(body)
    }
}

/// An answer as the HTTP response.
fn respond((status, body): Answer) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

/// Parse a form body; Stripe takes nothing else.
fn form(headers: &HeaderMap, body: &str) -> Result<BTreeMap<String, String>, Answer> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !body.is_empty() && !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(error(
            400,
            "invalid_request_error",
            None,
            None,
            "Invalid request: the body must be application/x-www-form-urlencoded.",
        ));
    }
    Ok(form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

fn authorised(headers: &HeaderMap) -> Result<(), Answer> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if auth == Some(&format!("Bearer {SECRET_KEY}")) {
        return Ok(());
    }
    Err(error(
        401,
        "invalid_request_error",
        None,
        None,
        "Invalid API Key provided: an sk_test_ key is required.",
    ))
}

/// Run one POST: authentication, faults, idempotency, then `work`.
async fn handle(
    shared: Shared,
    route: String,
    headers: HeaderMap,
    body: String,
    work: impl FnOnce(&mut Ledger, &BTreeMap<String, String>) -> Answer,
) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let parsed = form(&headers, &body);
    let params = parsed.clone().unwrap_or_default();
    let (answer, replayed) = {
        let mut inner = shared.lock();
        let (answer, replayed) =
            match decide(&mut inner, &route, &headers, parsed, key.as_deref(), work) {
                Ok(answer) => (answer, false),
                Err(refused) => refused,
            };
        inner.received.push(Received {
            route,
            params,
            idempotency_key: key.clone(),
            status: answer.0,
            replayed,
        });
        (answer, replayed)
    };
    deliver_due(&shared).await;
    let mut hold = shared.hold.subscribe();
    let _ = hold.wait_for(|held| !held).await;
    let mut response = respond(answer);
    if replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            header::HeaderValue::from_static("true"),
        );
    }
    if let Some(key) = key
        && let Ok(value) = header::HeaderValue::from_str(&key)
    {
        response.headers_mut().insert("idempotency-key", value);
    }
    response
}

/// The answer of a request; `Err` for one not carried out (refused, or a
/// replay: the flag).
fn decide(
    inner: &mut Inner,
    route: &str,
    headers: &HeaderMap,
    parsed: Result<BTreeMap<String, String>, Answer>,
    key: Option<&str>,
    work: impl FnOnce(&mut Ledger, &BTreeMap<String, String>) -> Answer,
) -> Result<Answer, (Answer, bool)> {
    authorised(headers).map_err(|a| (a, false))?;
    if let Some(fault) = inner.faults.pop_front() {
        return Err(match fault {
            Fault::RateLimited => (
                error(
                    429,
                    "invalid_request_error",
                    Some("rate_limit"),
                    None,
                    "Too many requests hit the API too quickly.",
                ),
                false,
            ),
            Fault::ServerError => (
                error(
                    500,
                    "api_error",
                    None,
                    None,
                    "Something went wrong on Stripe's end.",
                ),
                false,
            ),
        });
    }
    let params = parsed.map_err(|a| (a, false))?;
    if let Some(key) = key {
        if key.is_empty() || key.len() > 255 {
            return Err((
                error(
                    400,
                    "invalid_request_error",
                    None,
                    Some("Idempotency-Key"),
                    "Idempotency keys are 1 to 255 characters.",
                ),
                false,
            ));
        }
        if let Some(stored) = inner.idempotent.get(key) {
            if stored.route != route || stored.params != params {
                return Err((
                    error(
                        400,
                        "idempotency_error",
                        None,
                        None,
                        &format!(
                            "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                        ),
                    ),
                    false,
                ));
            }
            return Err((stored.answer.clone(), true));
        }
    }
    let answer = work(&mut inner.ledger, &params);
    // Stripe keeps the answer of a request that began executing, a card
    // error included; not one refused by validation (4xx before any work),
    // which a corrected retry may send again under the same key.
    let executed = answer.0 < 400 || answer.0 == 402;
    if let Some(key) = key.filter(|_| executed) {
        inner.idempotent.insert(
            key.to_owned(),
            Stored {
                route: route.to_owned(),
                params,
                answer: answer.clone(),
            },
        );
    }
    Ok(answer)
}

async fn create(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    handle(
        shared,
        "POST /v1/payment_intents".into(),
        headers,
        body,
        |l, p| l.create(p),
    )
    .await
}

async fn read(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let answer = match authorised(&headers) {
        Ok(()) => shared.lock().ledger.get(&id),
        Err(answer) => answer,
    };
    respond(answer)
}

/// `POST /v1/payment_intents/{id}/capture` and `.../cancel`.
async fn act(
    State(shared): State<Shared>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let route = format!("POST /v1/payment_intents/{id}/{action}");
    match action.as_str() {
        "capture" => handle(shared, route, headers, body, move |l, p| l.capture(&id, p)).await,
        "cancel" => handle(shared, route, headers, body, move |l, p| l.cancel(&id, p)).await,
        _ => respond(error(
            404,
            "invalid_request_error",
            None,
            None,
            &format!("Unrecognized request URL (POST: /v1/payment_intents/{id}/{action})."),
        )),
    }
}

async fn refund(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    handle(shared, "POST /v1/refunds".into(), headers, body, |l, p| {
        l.refund(p)
    })
    .await
}
