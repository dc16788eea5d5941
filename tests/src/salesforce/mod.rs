//! A local Salesforce for tests: axum on a free loopback port speaking the
//! REST shapes the plugins use (OAuth 2.0 client credentials, upsert by
//! external id, create and read records, composite with `@{ref.field}`
//! references and `allOrNone`), with `Sforce-Limit-Info` on every answer and
//! injectable faults (expired sessions, request limits, 429, 500, slowness).
//! It records what it received so tests can assert on it.

mod faults;
mod org;

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context as _, Result};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Value, json};

use crate::local_server::LocalServer;

pub use faults::Fault;
use faults::{admit, lost_answer};
pub use org::Record;
use org::{Org, resolve_references};

/// The client id the double accepts.
pub const CLIENT_ID: &str = "3MVG9streamplugTestClient";
/// The client secret the double accepts.
pub const CLIENT_SECRET: &str = "8A4BE6streamplugTestSecret";

/// A request the double received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// JSON body (`Null` when none).
    pub body: Value,
    /// Status answered.
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    org: Org,
    tokens: HashSet<String>,
    issued: u64,
    faults: VecDeque<Fault>,
    received: Vec<Received>,
    api_calls: u64,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake Salesforce.
pub struct Salesforce {
    /// `http://127.0.0.1:PORT` (the instance URL).
    pub url: String,
    shared: Shared,
    _server: LocalServer,
}

impl Salesforce {
    /// Start on a free loopback port.
    pub async fn start() -> Result<Self> {
        let shared = Shared::default();
        let app = axum::Router::new()
            .route("/services/oauth2/token", post(token))
            .route("/services/data/{version}/composite", post(composite))
            .route("/services/data/{version}/{*rest}", any(rest))
            .with_state(shared.clone());
        let server = LocalServer::start(app).await?;
        Ok(Self {
            url: server.url.clone(),
            shared,
            _server: server,
        })
    }

    /// The `[credentials.NAME]` table that lets the host log in here.
    pub fn credential_toml(&self, name: &str) -> String {
        format!(
            "[credentials.{name}]\nkind = \"oauth2_client_credentials\"\ntoken_url = \"{}/services/oauth2/token\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret = \"{CLIENT_SECRET}\"\n",
            self.url
        )
    }

    /// Records of `object`, with their ids.
    pub fn records(&self, object: &str) -> Vec<Record> {
        lock(&self.shared)
            .org
            .of(object)
            .into_iter()
            .cloned()
            .collect()
    }

    /// Create an `object` record with `fields` directly, as an admin
    /// would have; its id.
    pub fn seed(&self, object: &str, fields: Value) -> Result<String> {
        let fields = fields.as_object().cloned().unwrap_or_default();
        lock(&self.shared)
            .org
            .seed(object, fields)
            .with_context(|| format!("seeding a {object}"))
    }

    /// Change fields of record `id` as a person in the org would (an agent
    /// closing a case).
    pub fn update(&self, id: &str, fields: Value) -> Result<()> {
        let fields = fields.as_object().cloned().unwrap_or_default();
        if lock(&self.shared).org.update(id, fields) {
            Ok(())
        } else {
            anyhow::bail!("no record {id}")
        }
    }

    /// Every data request received, in order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared).received.clone()
    }

    /// Tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        lock(&self.shared).issued
    }

    /// Invalidate every session: the next data request gets 401.
    pub fn expire_sessions(&self) {
        lock(&self.shared).tokens.clear();
    }

    /// The next `count` data requests get `fault`.
    pub fn fail_next(&self, count: usize, fault: Fault) {
        let mut inner = lock(&self.shared);
        for _ in 0..count {
            inner.faults.push_back(fault);
        }
    }
}

async fn token(State(shared): State<Shared>, body: String) -> Response {
    let form: BTreeMap<String, String> = url_decode(&body);
    let field = |k: &str| form.get(k).map(String::as_str);
    if field("grant_type") != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "unsupported_grant_type", "error_description": "grant type not supported"})),
        )
            .into_response();
    }
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_client", "error_description": "invalid client credentials"})),
        )
            .into_response();
    }
    let mut inner = lock(&shared);
    inner.issued += 1;
    let token = format!(
        "00DS7000000oxzo!AR8AQ{:04}streamplugTestToken",
        inner.issued
    );
    inner.tokens.insert(token.clone());
    axum::Json(json!({
        "access_token": token,
        "signature": "nUFHwtfIGLKDTHcLWmDBG8frv0t+HQGl/iCZFIQUarE=",
        "token_format": "opaque",
        "instance_url": "https://instance_name.my.salesforce.com",
        "id": "https://login.salesforce.com/id/00Dd000000XXXXXXX/005d000000XXXXX",
        "token_type": "Bearer",
        "issued_at": "1699999999999"
    }))
    .into_response()
}

fn url_decode(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// Percent-decode (and `+` as space).
fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(&String::from_utf8_lossy(hex), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn respond(
    shared: &Shared,
    method: &str,
    path: &str,
    body: Value,
    (status, answer): (u16, Value),
) -> Response {
    let mut inner = lock(shared);
    inner.received.push(Received {
        method: method.to_owned(),
        path: path.to_owned(),
        body,
        status,
    });
    let usage = format!("api-usage={}/5000", inner.api_calls);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::NO_CONTENT {
        return (status, [("sforce-limit-info", usage)]).into_response();
    }
    (status, [("sforce-limit-info", usage)], axum::Json(answer)).into_response()
}

fn parse_body(body: &str) -> Result<Value, (u16, Value)> {
    if body.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(body).map_err(|e| {
        (400, json!([{"message": format!("JSON parse error: {e}"), "errorCode": "JSON_PARSER_ERROR"}]))
    })
}

async fn rest(
    State(shared): State<Shared>,
    Path((_version, rest)): Path<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = format!("/{rest}");
    let answer = match admit(&shared, &headers).await {
        Err(answer) => answer,
        Ok(lost) => match parse_body(&body) {
            Err(answer) => answer,
            Ok(json) => {
                let answer = lock(&shared).org.apply(method.as_str(), &path, &json);
                if lost { lost_answer() } else { answer }
            }
        },
    };
    respond(
        &shared,
        method.as_str(),
        &path,
        parse_body(&body).unwrap_or(Value::Null),
        answer,
    )
}

async fn composite(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let path = "/composite";
    let request = parse_body(&body).unwrap_or(Value::Null);
    let answer = match admit(&shared, &headers).await {
        Err(answer) => answer,
        Ok(lost) => {
            let answer = run_composite(&mut lock(&shared).org, &request);
            if lost { lost_answer() } else { answer }
        }
    };
    respond(&shared, "POST", path, request, answer)
}

/// Run a composite request: subrequests in order, references resolved,
/// everything rolled back on a failure when `allOrNone`. Always 200.
fn run_composite(org: &mut Org, request: &Value) -> (u16, Value) {
    let Some(subrequests) = request["compositeRequest"].as_array() else {
        return (
            400,
            json!([{"message": "compositeRequest is required", "errorCode": "JSON_PARSER_ERROR"}]),
        );
    };
    if subrequests.len() > 25 {
        return (
            400,
            json!([{"message": "Limit exceeded: at most 25 subrequests", "errorCode": "LIMIT_EXCEEDED"}]),
        );
    }
    if subrequests.iter().any(|s| {
        s.get("httpHeaders")
            .is_some_and(|h| h.get("Authorization").is_some())
    }) {
        return (
            400,
            json!([{"message": "Subrequests may not set Authorization", "errorCode": "INVALID_HEADER"}]),
        );
    }
    let all_or_none = request["allOrNone"].as_bool().unwrap_or(false);
    let before = org.clone();
    let mut results: BTreeMap<String, Value> = BTreeMap::new();
    let mut responses = Vec::new();
    let mut failed = false;
    for sub in subrequests {
        let reference = sub["referenceId"].as_str().unwrap_or_default().to_owned();
        if failed && all_or_none {
            responses.push(json!({"body": [{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}], "httpHeaders": {}, "httpStatusCode": 400, "referenceId": reference}));
            continue;
        }
        let url = resolve_references(sub["url"].as_str().unwrap_or_default(), &results);
        let body: Value =
            serde_json::from_str(&resolve_references(&sub["body"].to_string(), &results))
                .unwrap_or(Value::Null);
        let path = url
            .splitn(5, '/')
            .nth(4)
            .map_or(String::new(), |p| format!("/{p}"));
        let (status, answer) = org.apply(sub["method"].as_str().unwrap_or("GET"), &path, &body);
        if status >= 400 {
            failed = true;
        } else {
            results.insert(reference.clone(), answer.clone());
        }
        responses.push(json!({"body": answer, "httpHeaders": {}, "httpStatusCode": status, "referenceId": reference}));
    }
    if failed && all_or_none {
        *org = before;
        for r in &mut responses {
            if r["httpStatusCode"].as_u64().is_some_and(|s| s < 400) {
                r["httpStatusCode"] = json!(400);
                r["body"] = json!([{"errorCode": "PROCESSING_HALTED", "message": "The transaction was rolled back since another operation in the same transaction failed."}]);
            }
        }
    }
    (200, json!({"compositeResponse": responses}))
}
