//! Outbound HTTP policy: the `wasi:http` send-request hook that refuses every
//! origin the plugin's manifest does not grant. An empty grant list denies
//! everything. A refused request is the WASI error `HTTP-request-denied`, a
//! value the guest sees, never a trap.

use http::uri::Scheme;
use wasmtime_wasi_http::{WasiBody, WasiHttpHooks};

/// One granted origin: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or address, lowercase.
    pub host: String,
    /// Port (the scheme's default when not given).
    pub port: u16,
}

impl AllowedOrigin {
    /// Parse `https://host[:port]` or `http://host[:port]`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let uri: http::Uri = text
            .parse()
            .map_err(|e| format!("`{text}` is not an origin URL: {e}"))?;
        let scheme = match uri.scheme_str() {
            Some("http") => "http",
            Some("https") => "https",
            _ => return Err(format!("`{text}`: the scheme must be http or https")),
        };
        let host = uri
            .host()
            .ok_or_else(|| format!("`{text}`: no host"))?
            .to_ascii_lowercase();
        if uri
            .path_and_query()
            .is_some_and(|p| p.as_str() != "/" && !p.as_str().is_empty())
        {
            return Err(format!(
                "`{text}`: give an origin (scheme, host, port) without a path"
            ));
        }
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        Ok(Self {
            scheme: scheme.to_owned(),
            host,
            port,
        })
    }

    fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.scheme == scheme && self.host.eq_ignore_ascii_case(host) && self.port == port
    }
}

/// The outbound grants of one plugin.
#[derive(Debug, Clone)]
pub struct OutboundPolicy {
    plugin: String,
    allowed: Vec<AllowedOrigin>,
}

impl OutboundPolicy {
    /// Parse the manifest's `allowed_hosts`.
    pub fn from_manifest(plugin: &str, hosts: &[String]) -> Result<Self, String> {
        Ok(Self {
            plugin: plugin.to_owned(),
            allowed: hosts
                .iter()
                .map(|h| AllowedOrigin::parse(h))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Whether a request to `uri` is granted.
    pub fn allows(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("https");
        let Some(host) = uri.host() else { return false };
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "https" { 443 } else { 80 });
        self.allowed.iter().any(|o| o.matches(scheme, host, port))
    }
}

impl WasiHttpHooks for OutboundPolicy {
    fn is_supported_scheme(&mut self, scheme: &Scheme) -> bool {
        *scheme == Scheme::HTTP || *scheme == Scheme::HTTPS
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        drop(fut);
        if !self.allows(request.uri()) {
            tracing::info!(plugin = %self.plugin, uri = %request.uri(), "outbound request denied");
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (res, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                res.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_granted_origins_pass() {
        let p = OutboundPolicy::from_manifest(
            "p",
            &[
                "https://api.example.com".into(),
                "http://127.0.0.1:8081".into(),
            ],
        )
        .unwrap();
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
        let p = OutboundPolicy::from_manifest("p", &[]).unwrap();
        assert!(!p.allows(&"https://example.com/".parse().unwrap()));
    }

    #[test]
    fn origins_with_paths_or_other_schemes_are_refused() {
        assert!(AllowedOrigin::parse("ftp://x").is_err());
        assert!(AllowedOrigin::parse("https://x/some/path").is_err());
    }
}
