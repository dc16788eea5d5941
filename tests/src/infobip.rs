//! A local Infobip for tests: axum on a free loopback port speaking the SMS
//! (`POST /sms/3/messages`) and email (`POST /email/3/send`, multipart)
//! shapes, `Authorization: App <key>`, Infobip's error bodies, injectable
//! 429/500 faults and hangs (per channel or any), and delivery reports posted to the request's webhook URL
//! like the real service does. It records what it received.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Result;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use crate::local_server::LocalServer;

/// The API key the double accepts.
pub const API_KEY: &str = "003026bbc133714df1834b8638bb496e-8f4b3d9a";

/// A fault the next requests get.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// 429 Too Many Requests.
    TooManyRequests,
    /// 500.
    ServerError,
    /// No answer at all (the request hangs until the client gives up).
    Hang,
}

/// One message the double accepted.
#[derive(Debug, Clone)]
pub struct Sent {
    /// `sms` or `email`.
    pub channel: &'static str,
    /// Infobip's message id.
    pub message_id: String,
    /// Phone number or email address.
    pub to: String,
    /// Text (SMS) or subject + text (email).
    pub text: String,
    /// Where the delivery report goes, if asked for.
    pub report_url: Option<String>,
    /// Opaque data echoed in the report.
    pub callback_data: Option<String>,
}

#[derive(Default)]
struct Inner {
    sent: Vec<Sent>,
    /// Faults for the next requests, each for one channel or any.
    faults: VecDeque<(Option<&'static str>, Fault)>,
    /// Requests received per channel (answered or not).
    received: std::collections::BTreeMap<&'static str, usize>,
    counter: u64,
    reports_delivered: usize,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake Infobip.
pub struct Infobip {
    /// `http://127.0.0.1:PORT` (the account's base URL).
    pub url: String,
    shared: Shared,
    _server: LocalServer,
}

impl Infobip {
    /// Start on a free loopback port.
    pub async fn start() -> Result<Self> {
        let shared = Shared::default();
        let app = axum::Router::new()
            .route("/sms/3/messages", post(sms))
            .route("/email/3/send", post(email))
            .with_state(shared.clone());
        let server = LocalServer::start(app).await?;
        Ok(Self {
            url: server.url.clone(),
            shared,
            _server: server,
        })
    }

    /// The `[credentials.NAME]` table that authenticates here.
    pub fn credential_toml(&self, name: &str) -> String {
        format!(
            "[credentials.{name}]\nkind = \"header\"\nname = \"Authorization\"\nvalue = \"App {API_KEY}\"\n"
        )
    }

    /// Messages accepted so far.
    pub fn sent(&self) -> Vec<Sent> {
        lock(&self.shared).sent.clone()
    }

    /// Delivery reports posted (and answered 2xx) so far.
    pub fn reports_delivered(&self) -> usize {
        lock(&self.shared).reports_delivered
    }

    /// The next `count` requests get `fault`.
    pub fn fail_next(&self, count: usize, fault: Fault) {
        let mut inner = lock(&self.shared);
        for _ in 0..count {
            inner.faults.push_back((None, fault));
        }
    }

    /// The next `count` requests on `channel` (`sms` or `email`) get `fault`.
    pub fn fail_next_on(&self, channel: &'static str, count: usize, fault: Fault) {
        let mut inner = lock(&self.shared);
        for _ in 0..count {
            inner.faults.push_back((Some(channel), fault));
        }
    }

    /// Forget the faults not taken yet.
    pub fn clear_faults(&self) {
        lock(&self.shared).faults.clear();
    }

    /// Requests received on `channel` so far, answered or not.
    pub fn received(&self, channel: &str) -> usize {
        lock(&self.shared)
            .received
            .get(channel)
            .copied()
            .unwrap_or(0)
    }
}

fn service_error(status: StatusCode, id: &str, text: &str) -> Response {
    (
        status,
        axum::Json(json!({"requestError": {"serviceException": {"messageId": id, "text": text}}})),
    )
        .into_response()
}

/// Authenticate and take a pending fault for `channel`: the refusal to
/// send, if any (a hang never answers).
async fn refusal(shared: &Shared, headers: &HeaderMap, channel: &'static str) -> Option<Response> {
    *lock(shared).received.entry(channel).or_default() += 1;
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    if authorization != Some(&format!("App {API_KEY}")) {
        return Some(service_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Invalid login details",
        ));
    }
    let fault = {
        let mut inner = lock(shared);
        let at = inner
            .faults
            .iter()
            .position(|(on, _)| on.is_none_or(|c| c == channel));
        at.and_then(|i| inner.faults.remove(i)).map(|(_, f)| f)
    };
    if let Some(Fault::Hang) = fault {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    match fault {
        None | Some(Fault::Hang) => None,
        Some(Fault::TooManyRequests) => Some(service_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many requests",
        )),
        Some(Fault::ServerError) => Some(service_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "GENERAL_ERROR",
            "Something went wrong",
        )),
    }
}

fn pending(description: &str) -> Value {
    json!({"groupId": 1, "groupName": "PENDING", "id": 26, "name": "PENDING_ACCEPTED", "description": description})
}

/// Accept `sent`: it keeps the client's message id when the request gave
/// one (`destinations[].messageId`, the email form's `messageId`), as
/// Infobip does; otherwise Infobip makes one up.
fn accept(shared: &Shared, mut sent: Sent) -> Sent {
    let mut inner = lock(shared);
    inner.counter += 1;
    if sent.message_id.is_empty() {
        sent.message_id = format!("2250be2d4219-3af1-78856-aabe-{:012}", inner.counter);
    }
    inner.sent.push(sent.clone());
    sent
}

async fn sms(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    if let Some(answer) = refusal(&shared, &headers, "sms").await {
        return answer;
    }
    let Ok(request) = serde_json::from_str::<Value>(&body) else {
        return service_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "Bad request");
    };
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let mut invalid = serde_json::Map::new();
    if messages.is_empty() {
        invalid.insert("messages".into(), json!(["must not be empty"]));
    }
    for (i, m) in messages.iter().enumerate() {
        let destinations = m["destinations"].as_array().cloned().unwrap_or_default();
        if destinations.is_empty() {
            invalid.insert(
                format!("messages[{i}].destinations"),
                json!(["must not be empty"]),
            );
        }
        for (j, d) in destinations.iter().enumerate() {
            let to = d["to"].as_str().unwrap_or_default();
            if to.len() < 6 || !to.bytes().all(|b| b.is_ascii_digit()) {
                invalid.insert(
                    format!("messages[{i}].destinations[{j}].to"),
                    json!(["must be a valid phone number"]),
                );
            }
        }
        if m["content"]["text"].as_str().is_none_or(str::is_empty) {
            invalid.insert(
                format!("messages[{i}].content.text"),
                json!(["must not be blank"]),
            );
        }
    }
    if !invalid.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"requestError": {"serviceException": {"messageId": "BAD_REQUEST", "text": "Bad request", "validationErrors": invalid}}})),
        )
            .into_response();
    }
    let mut answers = Vec::new();
    for m in &messages {
        for d in m["destinations"].as_array().into_iter().flatten() {
            let sent = accept(
                &shared,
                Sent {
                    channel: "sms",
                    message_id: d["messageId"].as_str().unwrap_or_default().to_owned(),
                    to: d["to"].as_str().unwrap_or_default().to_owned(),
                    text: m["content"]["text"].as_str().unwrap_or_default().to_owned(),
                    report_url: m["webhooks"]["delivery"]["url"].as_str().map(str::to_owned),
                    callback_data: m["webhooks"]["callbackData"].as_str().map(str::to_owned),
                },
            );
            report_later(
                shared.clone(),
                sent.clone(),
                m["sender"].as_str().unwrap_or("InfoSMS").to_owned(),
            );
            answers.push(json!({
                "messageId": sent.message_id,
                "status": pending("Message sent to next instance"),
                "destination": sent.to,
                "details": {"messageCount": 1}
            }));
        }
    }
    axum::Json(json!({"bulkId": "2034072219640523072", "messages": answers})).into_response()
}

async fn email(State(shared): State<Shared>, headers: HeaderMap, mut form: Multipart) -> Response {
    if let Some(answer) = refusal(&shared, &headers, "email").await {
        return answer;
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field.text().await.unwrap_or_default();
        fields.push((name, value));
    }
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (Some(from), Some(subject)) = (get("from"), get("subject")) else {
        return service_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "from and subject are required",
        );
    };
    let recipients: Vec<String> = fields
        .iter()
        .filter(|(n, _)| n == "to")
        .map(|(_, v)| v.clone())
        .collect();
    if recipients.is_empty() || recipients.iter().any(|r| !r.contains('@')) {
        return service_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "to must hold email addresses",
        );
    }
    let mut answers = Vec::new();
    for to in recipients {
        let sent = accept(
            &shared,
            Sent {
                channel: "email",
                message_id: get("messageId").unwrap_or_default(),
                to,
                text: format!("{subject}\n{}", get("text").unwrap_or_default()),
                report_url: get("notifyUrl"),
                callback_data: get("callbackData"),
            },
        );
        report_later(shared.clone(), sent.clone(), from.clone());
        answers.push(json!({"to": sent.to, "messageId": sent.message_id, "status": pending("Message accepted, pending for delivery.")}));
    }
    axum::Json(json!({"bulkId": "snxemd8u52v7v84iiu69", "messages": answers})).into_response()
}

/// Post the delivery report of `sent` to its webhook, retrying until 2xx.
fn report_later(shared: Shared, sent: Sent, sender: String) {
    let Some(url) = sent.report_url.clone() else {
        return;
    };
    tokio::spawn(async move {
        let report = json!({"results": [{
            "bulkId": "2034072219640523072",
            "messageId": sent.message_id,
            "to": sent.to,
            "sender": sender,
            "sentAt": "2026-11-23T16:10:00.000+0000",
            "doneAt": "2026-11-23T16:10:02.000+0000",
            "messageCount": 1,
            "price": {"pricePerMessage": 0.01, "currency": "EUR"},
            "status": {"groupId": 3, "groupName": "DELIVERED", "id": 5, "name": "DELIVERED_TO_HANDSET", "description": "Message delivered to handset"},
            "error": {"groupId": 0, "groupName": "OK", "id": 0, "name": "NO_ERROR", "description": "No Error", "permanent": false},
            "callbackData": sent.callback_data,
        }]});
        let client = reqwest::Client::new();
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if let Ok(r) = client.post(&url).json(&report).send().await
                && r.status().is_success()
            {
                lock(&shared).reports_delivered += 1;
                return;
            }
        }
    });
}
