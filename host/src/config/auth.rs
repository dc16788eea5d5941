//! `[auth]`: who may call the public listener. Backend services carry API
//! keys (stored hashed, each with scopes); customers carry JWTs (HS256 with
//! a secret from the environment, or RS256/ES256 verified against a JWKS);
//! staff carry a JWT whose role claim names a configured role, or a key.
//! Anonymous callers reach health, readiness and the demo page only.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// Authentication and authorisation settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// HS256 secret that customer and staff tokens are signed with. Give it
    /// from the environment: `jwt_secret = "${STREAMPLUG_JWT_SECRET}"`.
    pub jwt_secret: Option<String>,
    /// A JWKS for RS256/ES256 tokens from an identity provider: a file path
    /// or an `http(s)://` URL (fetched at start, then every
    /// `jwks_refresh_secs`, and again when a token names an unknown `kid`).
    pub jwks: Option<String>,
    /// How often a JWKS URL is fetched again, seconds.
    pub jwks_refresh_secs: u64,
    /// The `iss` every token must carry (required with `jwks`).
    pub issuer: Option<String>,
    /// The `aud` every token must carry (required with `jwks`).
    pub audience: Option<String>,
    /// The claim that names a staff token's roles (a string or an array).
    pub role_claim: String,
    /// Staff roles: role name to scopes. A token whose role claim names one
    /// of these acts with its scopes instead of as a customer.
    pub roles: BTreeMap<String, Vec<String>>,
    /// Backend API keys.
    pub api_keys: Vec<ApiKeySettings>,
    /// Serve `POST /v1/dev/tokens`, which mints a token for any customer.
    /// Refused at start unless the listener is on loopback.
    pub dev_tokens: bool,
    /// Longest lifetime of a dev token, seconds.
    pub dev_token_max_ttl_secs: u64,
    /// Mint a local demo API key with every scope at first start, written to
    /// `<data_dir>/demo-api-key` (mode 0600). Refused at start unless the
    /// listener is on loopback.
    pub demo_key: bool,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwks: None,
            jwks_refresh_secs: 300,
            issuer: None,
            audience: None,
            role_claim: "roles".into(),
            roles: BTreeMap::new(),
            api_keys: Vec::new(),
            dev_tokens: false,
            dev_token_max_ttl_secs: DEFAULT_DEV_TOKEN_MAX_TTL_SECS,
            demo_key: false,
        }
    }
}

/// One backend API key. Give either its SHA-256 (`streamplug keys new`
/// prints both) or the key itself from the environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySettings {
    /// Who holds it (shown in logs and metrics, never the key).
    pub name: String,
    /// Lowercase hex SHA-256 of the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The key itself, as `${ENV}` (hashed at start, never kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What it may do: `ingest:<type or prefix.*>`, `read:<topic or *>`,
    /// `reply`, `metrics`, `plugins`, or `operator` (all of them).
    pub scopes: Vec<String>,
    /// Ingest requests a second this key may make (sustained); none: the
    /// per-address limit of `[server]` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_sec: Option<u32>,
}

/// The embedded default's token secret: public, so loopback only.
pub const DEMO_JWT_SECRET: &str = "streamplug-demo-secret-change-me";

/// `dev_token_max_ttl_secs` unless configured (a day).
pub const DEFAULT_DEV_TOKEN_MAX_TTL_SECS: u64 = 24 * 3600;

/// Longest lifetime `dev_token_max_ttl_secs` may allow, seconds (a week).
const MAX_DEV_TOKEN_TTL_SECS: u64 = 7 * 24 * 3600;

fn invalid(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_owned(),
        reason: reason.into(),
    }
}

/// Safe by default: the demo conveniences only on loopback; scopes that
/// parse; identity-provider tokens bound to an issuer and an audience.
pub(super) fn validate(auth: &AuthSettings, listen: SocketAddr) -> Result<(), ConfigError> {
    if !listen.ip().is_loopback() {
        let public = |setting: &str, what: &str| {
            invalid(
                setting,
                format!(
                    "{what}; it is refused on a listener that is not loopback ({listen}). \
                     Configure API keys and your own secret (see `streamplug init`), \
                     or listen on 127.0.0.1"
                ),
            )
        };
        if auth.dev_tokens {
            return Err(public(
                "auth.dev_tokens",
                "anyone could mint a token for any customer",
            ));
        }
        if auth.demo_key {
            return Err(public("auth.demo_key", "the demo key holds every scope"));
        }
        if auth.jwt_secret.as_deref() == Some(DEMO_JWT_SECRET) {
            return Err(public("auth.jwt_secret", "the demo secret is public"));
        }
    }
    if auth.dev_token_max_ttl_secs == 0 || auth.dev_token_max_ttl_secs > MAX_DEV_TOKEN_TTL_SECS {
        return Err(invalid(
            "auth.dev_token_max_ttl_secs",
            format!("must be 1 to {MAX_DEV_TOKEN_TTL_SECS}"),
        ));
    }
    if auth.jwks.is_some() && (auth.issuer.is_none() || auth.audience.is_none()) {
        return Err(invalid(
            "auth.jwks",
            "tokens of an identity provider need `auth.issuer` and `auth.audience`",
        ));
    }
    for (role, scopes) in &auth.roles {
        super::scopes::Scopes::parse(scopes)
            .map_err(|e| invalid(&format!("auth.roles.{role}"), e))?;
    }
    for (i, key) in auth.api_keys.iter().enumerate() {
        super::scopes::Scopes::parse(&key.scopes)
            .map_err(|e| invalid(&format!("auth.api_keys[{i}].scopes"), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_conveniences_are_refused_off_loopback() {
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let demo = AuthSettings {
            jwt_secret: Some(DEMO_JWT_SECRET.into()),
            dev_tokens: true,
            demo_key: true,
            ..AuthSettings::default()
        };
        validate(&demo, local).unwrap();
        let err = validate(&demo, public).unwrap_err().to_string();
        assert!(
            err.contains("auth.dev_tokens") && err.contains("0.0.0.0:8080"),
            "{err}"
        );
        let secret_only = AuthSettings {
            jwt_secret: Some(DEMO_JWT_SECRET.into()),
            ..AuthSettings::default()
        };
        let err = validate(&secret_only, public).unwrap_err().to_string();
        assert!(err.contains("auth.jwt_secret"), "{err}");
        validate(&AuthSettings::default(), public).unwrap();
    }
}
