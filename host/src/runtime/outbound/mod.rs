//! Outbound HTTP: the `wasi:http` send-request hook. Every request a plugin
//! makes is checked against its manifest (origin granted, resolved address
//! allowed), waits for the plugin's concurrency and rate limits, gets the
//! credential bound to its origin attached by the host, and comes back with
//! a bounded body from which the credential's secrets are redacted. All of
//! it is async in the host: a slow CRM holds only the calling plugin.
//! A refused request is a WASI error value the guest sees, never a trap.

pub mod capture;
pub mod credentials;
pub mod fixtures;
mod resolver;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use governor::DefaultDirectRateLimiter;
use http_body_util::{BodyExt, Full};
use tokio::sync::Semaphore;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

pub use crate::config::CredentialSettings;
pub use crate::config::origin::AllowedOrigin;
pub use capture::{CallMode, HttpCall, OutboundHooks};
pub use credentials::Credential;
pub use fixtures::HttpFixtures;
use resolver::{GuardedResolver, PrivateAddress};

/// Largest request body a plugin may send.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// What a plugin's manifest grants for outbound HTTP.
#[derive(Debug, Clone, Default)]
pub struct OutboundGrants {
    /// Origins it may call.
    pub allowed_hosts: Vec<String>,
    /// Host names that may resolve to private addresses.
    pub private_hosts: Vec<String>,
    /// Origin → credential attached to requests to it.
    pub credentials: BTreeMap<String, Arc<Credential>>,
    /// Requests in flight at once.
    pub concurrency: u32,
    /// Requests per second.
    pub requests_per_second: u32,
    /// Largest response body, bytes.
    pub max_response_bytes: u64,
    /// Longest a request may take.
    pub timeout: Duration,
}

/// An answer as the plugin gets it (redacted, bounded).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedResponse {
    /// Status.
    pub status: http::StatusCode,
    /// Headers.
    pub headers: http::HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl RecordedResponse {
    /// As a `wasi:http` response.
    pub fn to_response(&self) -> http::Response<WasiBody> {
        let mut out = http::Response::new(
            Full::new(self.body.clone())
                .map_err(|never| match never {})
                .boxed_unsync(),
        );
        *out.status_mut() = self.status;
        *out.headers_mut() = self.headers.clone();
        out
    }
}

struct Shared {
    plugin: String,
    allowed: Vec<AllowedOrigin>,
    credentials: Vec<(AllowedOrigin, Arc<Credential>)>,
    in_flight: Semaphore,
    rate: DefaultDirectRateLimiter,
    max_response_bytes: u64,
    client: reqwest::Client,
}

/// The outbound policy of one plugin (cheap to clone; shared by its instances).
#[derive(Clone)]
pub struct OutboundPolicy(Arc<Shared>);

impl std::fmt::Debug for OutboundPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundPolicy")
            .field("plugin", &self.0.plugin)
            .field("allowed", &self.0.allowed)
            .finish_non_exhaustive()
    }
}

impl OutboundPolicy {
    /// The policy of `plugin` from its grants.
    pub fn new(plugin: &str, grants: &OutboundGrants) -> Result<Self, String> {
        let allowed: Vec<AllowedOrigin> = grants
            .allowed_hosts
            .iter()
            .map(|h| AllowedOrigin::parse(h))
            .collect::<Result<_, _>>()?;
        let credentials = grants
            .credentials
            .iter()
            .map(|(origin, c)| Ok((AllowedOrigin::parse(origin)?, c.clone())))
            .collect::<Result<Vec<_>, String>>()?;
        let resolver = GuardedResolver {
            private_hosts: grants
                .private_hosts
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect::<HashSet<_>>(),
        };
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            .timeout(grants.timeout)
            .build()
            .map_err(|e| format!("plugin `{plugin}`: HTTP client: {e}"))?;
        Ok(Self(Arc::new(Shared {
            plugin: plugin.to_owned(),
            allowed,
            credentials,
            in_flight: Semaphore::new(grants.concurrency.max(1) as usize),
            // At least one request a second; bursts of a second's worth.
            rate: crate::rate::limiter(grants.requests_per_second.max(1), 0)
                .ok_or_else(|| format!("plugin `{plugin}`: no request rate"))?,
            max_response_bytes: grants.max_response_bytes,
            client,
        })))
    }

    /// Whether a request to `uri` is granted (origin only; the address is
    /// checked when the name resolves).
    pub fn allows(&self, uri: &http::Uri) -> bool {
        self.0.allowed.iter().any(|o| o.matches(uri))
    }

    /// Send `request` (its origin granted) with the credential bound to
    /// its origin; the answer as the plugin gets it.
    pub fn send(
        &self,
        request: http::Request<WasiBody>,
    ) -> impl Future<Output = Result<RecordedResponse, HttpError>> + Send + 'static {
        let credential = self.credential_for(request.uri());
        let shared = self.0.clone();
        async move { shared.send(request, credential).await }
    }

    fn credential_for(&self, uri: &http::Uri) -> Option<Arc<Credential>> {
        self.0
            .credentials
            .iter()
            .find(|(o, _)| o.matches(uri))
            .map(|(_, c)| c.clone())
    }
}

impl Shared {
    async fn send(
        &self,
        request: http::Request<WasiBody>,
        credential: Option<Arc<Credential>>,
    ) -> Result<RecordedResponse, HttpError> {
        let _permit = self
            .in_flight
            .acquire()
            .await
            .map_err(|_| HttpError::InternalError(Some("shutting down".into())))?;
        self.rate.until_ready().await;
        let (parts, body) = request.into_parts();
        let body = collect_limited(body, MAX_REQUEST_BYTES as u64)
            .await
            .map_err(|_| HttpError::HttpRequestBodySize(Some(MAX_REQUEST_BYTES as u64)))?;
        let mut attempt = 0;
        let response = loop {
            attempt += 1;
            let mut headers = parts.headers.clone();
            headers.remove(http::header::HOST);
            if let Some(c) = &credential {
                let (name, value) = c.header().await.map_err(|e| {
                    tracing::warn!(plugin = %self.plugin, error = %e, "credential not available");
                    HttpError::InternalError(Some(e.to_string()))
                })?;
                headers.insert(name, value);
            }
            let response = self
                .client
                .request(parts.method.clone(), parts.uri.to_string())
                .headers(headers)
                .body(body.clone())
                .send()
                .await
                .map_err(|e| self.error(&parts.uri, &e))?;
            match &credential {
                Some(c)
                    if response.status() == http::StatusCode::UNAUTHORIZED
                        && c.refreshable()
                        && attempt == 1 =>
                {
                    tracing::info!(plugin = %self.plugin, host = ?parts.uri.host(), "401 with a cached token; fetching a new one");
                    c.invalidate().await;
                }
                _ => break response,
            }
        };
        let secrets = match &credential {
            Some(c) => c.secrets().await,
            None => Vec::new(),
        };
        let status = response.status();
        let mut headers = response.headers().clone();
        let body = read_limited(response, self.max_response_bytes).await?;
        for value in headers.values_mut() {
            if let Some(clean) = credentials::redact(value.as_bytes(), &secrets) {
                *value = http::HeaderValue::from_bytes(&clean)
                    .unwrap_or_else(|_| http::HeaderValue::from_static("[redacted]"));
            }
        }
        let body = credentials::redact(&body, &secrets).map_or(body, Bytes::from);
        headers.remove(http::header::CONTENT_LENGTH);
        headers.remove(http::header::TRANSFER_ENCODING);
        Ok(RecordedResponse {
            status,
            headers,
            body,
        })
    }

    fn error(&self, uri: &http::Uri, e: &reqwest::Error) -> HttpError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(s) = source {
            if let Some(p) = s.downcast_ref::<PrivateAddress>() {
                tracing::info!(plugin = %self.plugin, host = %p.host, address = %p.address, "outbound request refused: private address");
                return HttpError::DestinationIpProhibited;
            }
            source = s.source();
        }
        tracing::debug!(plugin = %self.plugin, host = ?uri.host(), error = %e, "outbound request failed");
        if e.is_timeout() {
            HttpError::ConnectionTimeout
        } else if e.is_connect() {
            HttpError::ConnectionRefused
        } else {
            HttpError::InternalError(Some(e.to_string()))
        }
    }
}

async fn collect_limited(body: WasiBody, limit: u64) -> Result<Bytes, ()> {
    let limited = http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX));
    limited.collect().await.map(|c| c.to_bytes()).map_err(drop)
}

async fn read_limited(mut response: reqwest::Response, limit: u64) -> Result<Bytes, HttpError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(HttpError::HttpResponseBodySize(response.content_length()));
    }
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| HttpError::InternalError(Some(e.to_string())))?
    {
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(HttpError::HttpResponseBodySize(None));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str]) -> OutboundPolicy {
        OutboundPolicy::new(
            "p",
            &OutboundGrants {
                allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
                concurrency: 1,
                requests_per_second: 1,
                max_response_bytes: 1024,
                timeout: Duration::from_secs(1),
                ..OutboundGrants::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn only_granted_origins_pass() {
        let p = policy(&["https://api.example.com", "http://127.0.0.1:8081"]);
        let ok = |u: &str| p.allows(&u.parse().unwrap());
        assert!(ok("https://api.example.com/v1/x"));
        assert!(ok("https://API.example.com:443/"));
        assert!(ok("http://127.0.0.1:8081/token"));
        assert!(!ok("http://api.example.com/"));
        assert!(!ok("https://api.example.com:8443/"));
        assert!(!ok("http://127.0.0.1:8082/"));
        assert!(!ok("https://evil.example.com/"));
    }

    #[test]
    fn an_empty_grant_list_denies_everything() {
        assert!(!policy(&[]).allows(&"https://example.com/".parse().unwrap()));
    }
}
