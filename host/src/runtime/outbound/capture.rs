//! The `wasi:http` hooks of one instance: the plugin's outbound policy, and
//! a record of the requests of the current call. A live call sends them and
//! records each answer. A shadow call sends nothing: a request the live
//! version also made (same method and URL) gets the live version's answer
//! replayed, any other is answered `503` with `x-streamplug-shadow:
//! not-sent`; each is recorded with its body.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use serde::Serialize;
use wasmtime_wasi_http::{Error as HttpError, WasiBody, WasiHttpHooks};

use super::{MAX_REQUEST_BYTES, OutboundPolicy, RecordedResponse, collect_limited};

/// Bytes of a shadow request's body kept in the record.
const BODY_KEPT: usize = 2048;

/// One outbound request of a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpCall {
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// The answer's status, if there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Whether it went out (shadow calls never do).
    pub sent: bool,
    /// Refused by the policy (host not granted).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub denied: bool,
    /// The request body (shadow calls; the first 2 KiB, as text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The answer (for a shadow to replay).
    #[serde(skip)]
    pub response: Option<RecordedResponse>,
}

/// How a call treats outbound requests.
#[derive(Debug, Clone, Default)]
pub enum CallMode {
    /// Send them.
    #[default]
    Live,
    /// Send nothing; replay the answers of these live requests.
    Shadow(Vec<HttpCall>),
}

#[derive(Debug, Default)]
struct Call {
    mode: CallMode,
    requests: Vec<HttpCall>,
}

/// Outbound hooks of one instance.
#[derive(Debug, Clone)]
pub struct OutboundHooks {
    policy: OutboundPolicy,
    call: Arc<Mutex<Call>>,
}

impl OutboundHooks {
    /// Hooks enforcing `policy`.
    pub fn new(policy: OutboundPolicy) -> Self {
        Self {
            policy,
            call: Arc::default(),
        }
    }

    /// A call starts in `mode`: forget earlier requests.
    pub fn begin(&mut self, mode: CallMode) {
        *lock(&self.call) = Call {
            mode,
            requests: Vec::new(),
        };
    }

    /// The requests of the call so far.
    pub fn take_calls(&self) -> Vec<HttpCall> {
        std::mem::take(&mut lock(&self.call).requests)
    }
}

fn lock(call: &Mutex<Call>) -> std::sync::MutexGuard<'_, Call> {
    call.lock().unwrap_or_else(PoisonError::into_inner)
}

type SendResult = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
>;

fn done(response: http::Response<WasiBody>) -> SendResult {
    Ok((
        response,
        Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
    ))
}

/// The answer to a request a shadow made: the live one's to the same
/// request (taken, so two alike requests replay two answers), or a 503.
fn shadow_answer(mode: &mut CallMode, method: &str, url: &str) -> RecordedResponse {
    if let CallMode::Shadow(live) = mode
        && let Some(at) = live
            .iter()
            .position(|c| c.method == method && c.url == url && c.response.is_some())
        && let Some(response) = live.remove(at).response
    {
        return response;
    }
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-streamplug-shadow",
        http::HeaderValue::from_static("not-sent"),
    );
    RecordedResponse {
        status: http::StatusCode::SERVICE_UNAVAILABLE,
        headers,
        body: Bytes::from_static(br#"{"error":"shadow mode: the request was recorded, not sent"}"#),
    }
}

impl WasiHttpHooks for OutboundHooks {
    fn is_supported_scheme(&mut self, scheme: &http::uri::Scheme) -> bool {
        *scheme == http::uri::Scheme::HTTP || *scheme == http::uri::Scheme::HTTPS
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        drop(fut);
        let (method, url) = (request.method().to_string(), request.uri().to_string());
        let denied = !self.policy.allows(request.uri());
        let mut call = lock(&self.call);
        let shadow = matches!(call.mode, CallMode::Shadow(_));
        let replay = (shadow && !denied).then(|| shadow_answer(&mut call.mode, &method, &url));
        call.requests.push(HttpCall {
            method,
            url,
            status: replay.as_ref().map(|r| r.status.as_u16()),
            sent: !shadow && !denied,
            denied,
            body: None,
            response: None,
        });
        let index = call.requests.len() - 1;
        drop(call);
        let shared = self.call.clone();
        if denied {
            tracing::info!(plugin = %self.policy.0.plugin, host = ?request.uri().host(), "outbound request denied: host not granted");
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        if let Some(answer) = replay {
            return Box::new(async move {
                let body = collect_limited(request.into_body(), MAX_REQUEST_BYTES as u64)
                    .await
                    .unwrap_or_default();
                let kept = &body[..body.len().min(BODY_KEPT)];
                if let Some(call) = lock(&shared).requests.get_mut(index) {
                    call.body = Some(String::from_utf8_lossy(kept).into_owned());
                }
                done(answer.to_response())
            });
        }
        let sent = self.policy.send(request);
        Box::new(async move {
            let response = sent.await?;
            if let Some(call) = lock(&shared).requests.get_mut(index) {
                call.status = Some(response.status.as_u16());
                call.response = Some(response.clone());
            }
            done(response.to_response())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(url: &str, status: u16) -> HttpCall {
        HttpCall {
            method: "GET".into(),
            url: url.into(),
            status: Some(status),
            sent: true,
            denied: false,
            body: None,
            response: Some(RecordedResponse {
                status: http::StatusCode::from_u16(status).unwrap(),
                headers: http::HeaderMap::new(),
                body: Bytes::from_static(b"live"),
            }),
        }
    }

    #[test]
    fn a_shadow_gets_each_live_answer_once_and_a_503_for_anything_else() {
        let mut mode =
            CallMode::Shadow(vec![live("https://crm/a", 200), live("https://crm/a", 201)]);
        assert_eq!(shadow_answer(&mut mode, "GET", "https://crm/a").status, 200);
        assert_eq!(shadow_answer(&mut mode, "GET", "https://crm/a").status, 201);
        let other = shadow_answer(&mut mode, "GET", "https://crm/a");
        assert_eq!(other.status, 503);
        assert_eq!(other.headers["x-streamplug-shadow"], "not-sent");
        assert_eq!(
            shadow_answer(&mut mode, "POST", "https://crm/b").status,
            503
        );
    }
}
