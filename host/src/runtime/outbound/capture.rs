//! The `wasi:http` hooks of one instance: the plugin's outbound policy, and
//! a record of the requests of the current call. A live call sends them and
//! records each answer. A shadow call sends nothing: a request the live
//! version also made (same method and URL) gets the live version's answer
//! replayed, any other is answered `503` with `x-streamplug-shadow:
//! not-sent`. An offline call (the plugin test harness) sends nothing
//! either: its fixtures answer, or a `503` with `x-streamplug-harness:
//! no-fixture`. Requests not sent are recorded with their body.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use serde::Serialize;
use wasmtime_wasi_http::{Error as HttpError, WasiBody, WasiHttpHooks};

use super::{HttpFixtures, MAX_REQUEST_BYTES, OutboundPolicy, RecordedResponse, collect_limited};

/// Bytes of a request's body kept in the record of a request not sent.
const BODY_KEPT: usize = 2048;

/// One outbound request of a call.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct HttpCall {
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// The answer's status, if there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Whether it went out (shadow and offline calls never do).
    pub sent: bool,
    /// Refused by the policy (host not granted).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub denied: bool,
    /// The request body of a request not sent (the first 2 KiB, as text).
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
    /// Send nothing; answer from these fixtures.
    Offline(Arc<HttpFixtures>),
    /// Send nothing and answer nothing: a query has no effects, so every
    /// request is denied.
    Query,
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

    /// Whether the current call acts on the world (not a shadow or an
    /// offline run).
    pub fn is_live(&self) -> bool {
        matches!(lock(&self.call).mode, CallMode::Live)
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

/// The answer to a request a call does not send, or `None` (a live call
/// sends it). A shadow gets the live answer to the same request (taken, so
/// two alike requests replay two answers), an offline call its fixture's;
/// otherwise a 503 that says why.
fn captured_answer(
    mode: &mut CallMode,
    method: &str,
    url: &str,
    body: &[u8],
) -> Option<RecordedResponse> {
    let (found, header, value, text): (_, _, _, &'static [u8]) = match mode {
        CallMode::Live | CallMode::Query => return None,
        CallMode::Shadow(live) => (
            live.iter()
                .position(|c| c.method == method && c.url == url && c.response.is_some())
                .and_then(|at| live.remove(at).response),
            "x-streamplug-shadow",
            "not-sent",
            br#"{"error":"shadow mode: the request was recorded, not sent"}"#,
        ),
        CallMode::Offline(fixtures) => (
            fixtures.answer(method, url, body),
            "x-streamplug-harness",
            "no-fixture",
            br#"{"error":"offline run: no fixture answers this request"}"#,
        ),
    };
    Some(found.unwrap_or_else(|| {
        let mut headers = http::HeaderMap::new();
        headers.insert(header, http::HeaderValue::from_static(value));
        RecordedResponse {
            status: http::StatusCode::SERVICE_UNAVAILABLE,
            headers,
            body: Bytes::from_static(text),
        }
    }))
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
        let mut call = lock(&self.call);
        let denied = matches!(call.mode, CallMode::Query) || !self.policy.allows(request.uri());
        let live = matches!(call.mode, CallMode::Live);
        call.requests.push(HttpCall {
            method: method.clone(),
            url: url.clone(),
            status: None,
            sent: live && !denied,
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
        if !live {
            // Not sent: answered once its body is read (a fixture may
            // depend on it), and recorded with it.
            return Box::new(async move {
                let body = collect_limited(request.into_body(), MAX_REQUEST_BYTES as u64)
                    .await
                    .unwrap_or_default();
                let mut call = lock(&shared);
                let answer = captured_answer(&mut call.mode, &method, &url, &body)
                    .ok_or(HttpError::HttpRequestDenied)?;
                if let Some(record) = call.requests.get_mut(index) {
                    let kept = &body[..body.len().min(BODY_KEPT)];
                    record.body = Some(String::from_utf8_lossy(kept).into_owned());
                    record.status = Some(answer.status.as_u16());
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

    fn answer(mode: &mut CallMode, method: &str, url: &str) -> RecordedResponse {
        captured_answer(mode, method, url, b"").unwrap()
    }

    #[test]
    fn a_shadow_gets_each_live_answer_once_and_a_503_for_anything_else() {
        let mut mode =
            CallMode::Shadow(vec![live("https://crm/a", 200), live("https://crm/a", 201)]);
        assert_eq!(answer(&mut mode, "GET", "https://crm/a").status, 200);
        assert_eq!(answer(&mut mode, "GET", "https://crm/a").status, 201);
        let other = answer(&mut mode, "GET", "https://crm/a");
        assert_eq!(other.status, 503);
        assert_eq!(other.headers["x-streamplug-shadow"], "not-sent");
        assert_eq!(answer(&mut mode, "POST", "https://crm/b").status, 503);
    }

    #[test]
    fn an_offline_call_gets_its_fixtures_answers_and_a_live_one_none() {
        let fixtures =
            HttpFixtures::from_json(r#"[{"url": "https://crm/*", "status": 201}]"#).unwrap();
        let mut mode = CallMode::Offline(Arc::new(fixtures));
        assert_eq!(answer(&mut mode, "PUT", "https://crm/a").status, 201);
        assert_eq!(answer(&mut mode, "PUT", "https://crm/a").status, 201);
        let none = answer(&mut mode, "GET", "https://sms/");
        assert_eq!(none.status, 503);
        assert_eq!(none.headers["x-streamplug-harness"], "no-fixture");
        assert!(captured_answer(&mut CallMode::Live, "GET", "https://crm/a", b"").is_none());
    }
}
