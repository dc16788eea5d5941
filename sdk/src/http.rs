//! Outbound HTTP over standard `wasi:http`, as a small blocking client.
//!
//! The gateway enforces the plugin's manifest: only granted origins answer,
//! and a credential bound to an origin is attached by the host (your plugin
//! never holds the secret, so do not set `Authorization` for such origins).
//!
//! ```no_run
//! # use streamplug_sdk::{http, HandleError};
//! # fn f() -> Result<(), HandleError> {
//! let response = http::post("https://api.example.com/v1/cases")
//!     .json(&serde_json::json!({"subject": "Where is my order?"}))?
//!     .send()?;
//! if response.status == 201 {
//!     let created: serde_json::Value = response.json()?;
//! }
//! # Ok(()) }
//! ```

use wasip2::http::outgoing_handler;
use wasip2::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

use crate::HandleError;

/// Why a request got no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The URL cannot be requested.
    BadUrl(String),
    /// The plugin's manifest does not grant this host.
    Denied {
        /// The host.
        host: String,
    },
    /// The host resolves to a private address the plugin is not granted.
    PrivateAddress {
        /// The host.
        host: String,
    },
    /// The host refuses the request as written (its method, URI, headers
    /// or body size), or its own configuration does: sending it again
    /// cannot help.
    Refused {
        /// The host.
        host: String,
        /// Which refusal (the `wasi:http` error case).
        detail: String,
    },
    /// The response body is larger than the plugin's limit.
    TooLarge {
        /// The host.
        host: String,
    },
    /// The host did not answer in time, refused the connection, or failed.
    Unavailable {
        /// The host.
        host: String,
        /// What happened.
        detail: String,
    },
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadUrl(u) => write!(f, "cannot request `{u}`"),
            Self::Denied { host } => write!(f, "host `{host}` is not granted to this plugin"),
            Self::PrivateAddress { host } => {
                write!(
                    f,
                    "host `{host}` resolves to a private address this plugin is not granted"
                )
            }
            Self::Refused { host, detail } => {
                write!(f, "the request to `{host}` is refused: {detail}")
            }
            Self::TooLarge { host } => write!(f, "the response from `{host}` is too large"),
            Self::Unavailable { host, detail } => write!(f, "`{host}` is unavailable: {detail}"),
        }
    }
}

impl std::error::Error for HttpError {}

/// Policy refusals never succeed on redelivery; an unavailable host may
/// (`sdk/host-errors.json`, `wasi-http-error-code`).
impl From<HttpError> for HandleError {
    fn from(e: HttpError) -> Self {
        match e {
            HttpError::Unavailable { .. } => Self::Retry(e.to_string()),
            _ => Self::Reject(e.to_string()),
        }
    }
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// This response if it is 2xx; otherwise the event's disposition: a
    /// retry for 429 and 5xx (the other side may recover), a rejection for
    /// any other status (`sdk/host-errors.json`, `http-status`). `what`
    /// names the call in the reason.
    pub fn error_for_status(self, what: &str) -> Result<Self, HandleError> {
        if self.is_success() {
            return Ok(self);
        }
        let mut detail = self.text();
        if let Some((end, _)) = detail.char_indices().nth(200) {
            detail.truncate(end);
        }
        let reason = format!("{what}: status {}: {detail}", self.status);
        Err(if status_retries(self.status) {
            HandleError::Retry(reason)
        } else {
            HandleError::Reject(reason)
        })
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A request being built.
#[derive(Debug, Clone)]
#[must_use = "a request does nothing until sent"]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

/// A GET request.
pub fn get(url: &str) -> Request {
    Request::new(Method::Get, url)
}

/// A POST request.
pub fn post(url: &str) -> Request {
    Request::new(Method::Post, url)
}

/// A PATCH request.
pub fn patch(url: &str) -> Request {
    Request::new(Method::Patch, url)
}

/// A PUT request.
pub fn put(url: &str) -> Request {
    Request::new(Method::Put, url)
}

impl Request {
    fn new(method: Method, url: &str) -> Self {
        Self {
            method,
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
        self
    }

    /// A JSON body (and its content type).
    pub fn json<T: serde::Serialize>(self, value: &T) -> Result<Self, serde_json::Error> {
        let body = serde_json::to_vec(value)?;
        Ok(self.header("content-type", "application/json").body(body))
    }

    /// An `application/x-www-form-urlencoded` body of `pairs`, in order
    /// (names may carry brackets, as Stripe's `metadata[order]`).
    pub fn form<K: AsRef<str>, V: AsRef<str>>(self, pairs: &[(K, V)]) -> Self {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            form.append_pair(name.as_ref(), value.as_ref());
        }
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(form.finish().into_bytes())
    }

    /// A raw body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// Send it and read the whole response.
    pub fn send(self) -> Result<Response, HttpError> {
        let (scheme, rest) = self
            .url
            .split_once("://")
            .ok_or_else(|| HttpError::BadUrl(self.url.clone()))?;
        let scheme = match scheme {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            _ => return Err(HttpError::BadUrl(self.url.clone())),
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_owned();
        let bad = || HttpError::BadUrl(self.url.clone());
        let headers = Fields::from_list(&self.headers).map_err(|_| bad())?;
        let request = OutgoingRequest::new(headers);
        request.set_method(&self.method).map_err(|()| bad())?;
        request.set_scheme(Some(&scheme)).map_err(|()| bad())?;
        request.set_authority(Some(authority)).map_err(|()| bad())?;
        request
            .set_path_with_query(Some(if path.is_empty() { "/" } else { path }))
            .map_err(|()| bad())?;
        let body = request.body().map_err(|()| bad())?;
        let unavailable = |detail: String| HttpError::Unavailable {
            host: host.clone(),
            detail,
        };
        // Hand the request over first, then stream the body into it.
        let future = outgoing_handler::handle(request, None)
            .map_err(|code| HttpError::from_code(&host, code))?;
        {
            let stream = body
                .write()
                .map_err(|()| unavailable("no body stream".into()))?;
            for chunk in self.body.chunks(4096) {
                stream
                    .blocking_write_and_flush(chunk)
                    .map_err(|e| unavailable(format!("writing the body: {e:?}")))?;
            }
        }
        OutgoingBody::finish(body, None).map_err(|code| HttpError::from_code(&host, code))?;
        future.subscribe().block();
        let response = match future.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(HttpError::from_code(&host, code)),
            _ => return Err(unavailable("no response".into())),
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned()))
            .collect();
        let incoming = response
            .consume()
            .map_err(|()| unavailable("no response body".into()))?;
        let mut out = Vec::new();
        {
            let stream = incoming
                .stream()
                .map_err(|()| unavailable("no response body stream".into()))?;
            loop {
                match stream.blocking_read(64 * 1024) {
                    Ok(chunk) => out.extend_from_slice(&chunk),
                    Err(wasip2::io::streams::StreamError::Closed) => break,
                    Err(e) => return Err(unavailable(format!("reading the body: {e:?}"))),
                }
            }
        }
        Ok(Response {
            status,
            headers,
            body: out,
        })
    }
}

/// Whether a non-2xx status may pass on a later attempt: 429 and 5xx (and
/// anything above, which no server should send).
pub fn status_retries(status: u16) -> bool {
    status == 429 || status >= 500
}

impl HttpError {
    /// The error for a request to `host` that got `wasi:http` error `code`
    /// instead of a response: the cases no retry can mend are refusals, the
    /// rest (DNS, connections, timeouts, protocol errors) unavailability
    /// (`sdk/host-errors.json`, `wasi-http-error-code`).
    pub fn from_code(host: &str, code: ErrorCode) -> Self {
        let host = host.to_owned();
        match code {
            ErrorCode::HttpRequestDenied => HttpError::Denied { host },
            ErrorCode::DestinationIpProhibited => HttpError::PrivateAddress { host },
            ErrorCode::HttpResponseBodySize(_) => HttpError::TooLarge { host },
            ErrorCode::HttpRequestMethodInvalid
            | ErrorCode::HttpRequestUriInvalid
            | ErrorCode::HttpRequestUriTooLong
            | ErrorCode::HttpRequestHeaderSize(_)
            | ErrorCode::HttpRequestHeaderSectionSize(_)
            | ErrorCode::HttpRequestBodySize(_)
            | ErrorCode::ConfigurationError => HttpError::Refused {
                host,
                detail: format!("{code:?}"),
            },
            other => HttpError::Unavailable {
                host,
                detail: format!("{other:?}"),
            },
        }
    }
}
