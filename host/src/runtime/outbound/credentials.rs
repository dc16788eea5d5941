//! Credentials the host holds for plugins: a plugin's manifest binds a named
//! credential to an origin, and the host attaches it to the plugin's
//! requests to that origin. The plugin never sees the secret: not in its
//! config, not in the request it built, not in a response that echoes it.

use std::time::{Duration, Instant};

use http::{HeaderName, HeaderValue};

use crate::config::CredentialSettings;
use serde::Deserialize;

/// Why a credential could not be attached.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CredentialError {
    /// The token endpoint refused the client (bad id or secret).
    #[error("credential `{name}`: the token endpoint refused the client: {detail}")]
    Refused {
        /// Credential name.
        name: String,
        /// The server's `error_description` or status.
        detail: String,
    },
    /// The token endpoint could not be reached or answered nonsense.
    #[error("credential `{name}`: token endpoint unavailable: {detail}")]
    Unavailable {
        /// Credential name.
        name: String,
        /// What went wrong.
        detail: String,
    },
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

struct Token {
    value: String,
    expires: Option<Instant>,
}

enum Kind {
    OAuth {
        token_url: String,
        form: Vec<(&'static str, String)>,
        secret: String,
        token: tokio::sync::Mutex<Option<Token>>,
    },
    Header {
        name: HeaderName,
        value: HeaderValue,
    },
}

/// A credential ready to be attached.
pub struct Credential {
    name: String,
    kind: Kind,
    client: reqwest::Client,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// A credential from settings whose `${ENV}` references are resolved.
    pub fn new(name: &str, settings: &CredentialSettings) -> Result<Self, String> {
        let kind = match settings {
            CredentialSettings::Oauth2ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            } => {
                let mut form = vec![
                    ("grant_type", "client_credentials".to_owned()),
                    ("client_id", client_id.clone()),
                    ("client_secret", client_secret.clone()),
                ];
                if let Some(scope) = scope {
                    form.push(("scope", scope.clone()));
                }
                Kind::OAuth {
                    token_url: token_url.clone(),
                    form,
                    secret: client_secret.clone(),
                    token: tokio::sync::Mutex::new(None),
                }
            }
            CredentialSettings::Header {
                name: header,
                value,
            } => Kind::Header {
                name: header
                    .parse()
                    .map_err(|_| format!("credential `{name}`: `{header}` is not a header name"))?,
                value: {
                    let mut v: HeaderValue = value.parse().map_err(|_| {
                        format!("credential `{name}`: the value is not a valid header value")
                    })?;
                    v.set_sensitive(true);
                    v
                },
            },
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("credential `{name}`: {e}"))?;
        Ok(Self {
            name: name.to_owned(),
            kind,
            client,
        })
    }

    /// The header to attach to a request.
    pub async fn header(&self) -> Result<(HeaderName, HeaderValue), CredentialError> {
        match &self.kind {
            Kind::Header { name, value } => Ok((name.clone(), value.clone())),
            Kind::OAuth {
                token_url,
                form,
                token,
                ..
            } => {
                let mut cached = token.lock().await;
                let fresh = cached
                    .as_ref()
                    .is_some_and(|t| t.expires.is_none_or(|e| Instant::now() < e));
                if !fresh {
                    *cached = Some(self.fetch_token(token_url, form).await?);
                }
                let value = cached
                    .as_ref()
                    .map(|t| t.value.as_str())
                    .unwrap_or_default();
                let mut header: HeaderValue = format!("Bearer {value}").parse().map_err(|_| {
                    CredentialError::Unavailable {
                        name: self.name.clone(),
                        detail: "the token is not a valid header value".into(),
                    }
                })?;
                header.set_sensitive(true);
                Ok((http::header::AUTHORIZATION, header))
            }
        }
    }

    /// Whether a 401 should fetch a new token and retry (OAuth only).
    pub fn refreshable(&self) -> bool {
        matches!(self.kind, Kind::OAuth { .. })
    }

    /// Forget the cached token (the API answered 401 with it).
    pub async fn invalidate(&self) {
        if let Kind::OAuth { token, .. } = &self.kind {
            *token.lock().await = None;
        }
    }

    /// Byte strings that must never reach the plugin.
    pub async fn secrets(&self) -> Vec<Vec<u8>> {
        match &self.kind {
            Kind::Header { value, .. } => vec![value.as_bytes().to_vec()],
            Kind::OAuth { secret, token, .. } => {
                let mut out = vec![secret.as_bytes().to_vec()];
                if let Some(t) = token.lock().await.as_ref() {
                    out.push(t.value.as_bytes().to_vec());
                }
                out
            }
        }
    }

    async fn fetch_token(
        &self,
        token_url: &str,
        form: &[(&'static str, String)],
    ) -> Result<Token, CredentialError> {
        let unavailable = |detail: String| CredentialError::Unavailable {
            name: self.name.clone(),
            detail,
        };
        let answer = self
            .client
            .post(token_url)
            .form(form)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let status = answer.status();
        let body = answer
            .bytes()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if status.is_client_error() {
            let detail = serde_json::from_slice::<TokenError>(&body)
                .map(|e| format!("{}: {}", e.error, e.error_description.unwrap_or_default()))
                .unwrap_or_else(|_| status.to_string());
            return Err(CredentialError::Refused {
                name: self.name.clone(),
                detail,
            });
        }
        if !status.is_success() {
            return Err(unavailable(format!("token endpoint answered {status}")));
        }
        let token: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| unavailable(format!("unexpected token response: {e}")))?;
        tracing::info!(credential = %self.name, "access token obtained");
        Ok(Token {
            value: token.access_token,
            // Refresh a little before the server's expiry.
            expires: token
                .expires_in
                .map(|s| Instant::now() + Duration::from_secs(s.saturating_sub(30))),
        })
    }
}

/// Replace every occurrence of each secret in `bytes` with `[redacted]`.
pub fn redact(bytes: &[u8], secrets: &[Vec<u8>]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        let current = out.as_deref().unwrap_or(bytes);
        if let Some(replaced) = replace_all(current, secret, b"[redacted]") {
            out = Some(replaced);
        }
    }
    out
}

fn replace_all(haystack: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    let first = haystack.windows(needle.len()).position(|w| w == needle)?;
    let mut out = Vec::with_capacity(haystack.len());
    out.extend_from_slice(&haystack[..first]);
    out.extend_from_slice(with);
    let mut rest = &haystack[first + needle.len()..];
    while let Some(i) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(with);
        rest = &rest[i + needle.len()..];
    }
    out.extend_from_slice(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_wherever_they_appear() {
        let secrets = vec![b"App s3cr3t-key".to_vec(), b"tok-123456".to_vec()];
        let body = br#"{"echo":"App s3cr3t-key","t":"Bearer tok-123456","again":"tok-123456"}"#;
        let out = redact(body, &secrets).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains("s3cr3t") && !text.contains("tok-123456"),
            "{text}"
        );
        assert_eq!(text.matches("[redacted]").count(), 3);
        assert!(redact(b"nothing here", &secrets).is_none());
    }
}
