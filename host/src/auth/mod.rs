//! Who is calling: the principals of the public listener and how a request
//! proves it is one. Deny by default: a request without a credential is
//! anonymous and reaches health, readiness and the demo page only; what each
//! principal may do is decided by [`Principal`]'s checks, never by the body.
//!
//! | principal | credential | may |
//! |---|---|---|
//! | backend service | `Authorization: Bearer spk_…` (API key) | what its scopes name |
//! | customer | a JWT whose `sub` is the customer id | customer-origin types about itself |
//! | staff | a JWT whose role claim names a configured role | that role's scopes |

pub mod api_keys;
pub mod demo_key;
pub mod jwks;
pub mod tokens;

use std::collections::HashMap;
use std::sync::Arc;

pub use crate::config::scopes::{Scope, Scopes};
use crate::config::{AuthSettings, ConfigError, expand_env};
pub use api_keys::{ApiKey, ApiKeys};
pub use tokens::{TokenIdentity, TokenVerifier};

pub use crate::event::MAX_SUBJECT_CHARS;

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credential.
    #[error(
        "authentication required: send `Authorization: Bearer <API key or JWT>` (WebSocket: `?token=<JWT>`)"
    )]
    Missing,
    /// No token can be valid: neither a secret nor a JWKS is configured.
    #[error("customer tokens are disabled: auth.jwt_secret and auth.jwks are not set")]
    Disabled,
    /// The token expired.
    #[error("token expired")]
    Expired,
    /// An API key that is not configured.
    #[error("unknown API key")]
    UnknownKey,
    /// Bad signature, algorithm, format or claims.
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub enum Principal {
    /// A shopper, by customer id.
    Customer(String),
    /// A backend service holding an API key.
    Key(Arc<ApiKey>),
    /// A member of staff, by token subject, with their roles' scopes.
    Staff {
        /// The token's `sub`.
        subject: String,
        /// What their roles grant.
        scopes: Arc<Scopes>,
    },
}

impl Principal {
    /// The customer this principal is, if it is one.
    pub fn customer(&self) -> Option<&str> {
        match self {
            Self::Customer(id) => Some(id),
            _ => None,
        }
    }

    /// Its grants (customers have none: their rules are fixed).
    pub fn scopes(&self) -> Option<&Scopes> {
        match self {
            Self::Customer(_) => None,
            Self::Key(key) => Some(&key.scopes),
            Self::Staff { scopes, .. } => Some(scopes),
        }
    }

    /// Holds `scope`.
    pub fn has(&self, scope: &Scope) -> bool {
        self.scopes().is_some_and(|s| s.has(scope))
    }

    /// May ask `plugin`'s queries about `key`: a customer about itself, a
    /// key or staff with `query:<plugin>` (or `query:*`) about any key.
    pub fn may_query(&self, plugin: &str, key: &str) -> bool {
        match self {
            Self::Customer(id) => id == key,
            _ => self.scopes().is_some_and(|s| s.may_query(plugin)),
        }
    }

    /// May read `topic`'s events.
    pub fn may_read(&self, topic: &str) -> bool {
        self.scopes().is_some_and(|s| s.may_read(topic))
    }

    /// A name for logs, limits and metrics (never a secret).
    pub fn label(&self) -> String {
        match self {
            Self::Customer(id) => format!("customer:{id}"),
            Self::Key(key) => format!("key:{}", key.name),
            Self::Staff { subject, .. } => format!("staff:{subject}"),
        }
    }

    /// The kind, as a bounded metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Customer(_) => "customer",
            Self::Key(_) => "key",
            Self::Staff { .. } => "staff",
        }
    }
}

/// Turns credentials into principals.
pub struct Authenticator {
    keys: ApiKeys,
    /// Customer and staff tokens.
    pub tokens: TokenVerifier,
}

fn invalid(setting: &str, reason: String) -> ConfigError {
    ConfigError::Invalid {
        setting: setting.to_owned(),
        reason,
    }
}

/// What `[auth]` resolves to before anything is fetched.
struct Resolved {
    keys: ApiKeys,
    secret: Option<String>,
    /// Where the JWKS is, when one is configured.
    jwks: Option<String>,
    roles: HashMap<String, Scopes>,
}

impl Resolved {
    fn from_settings(settings: &AuthSettings) -> Result<Self, ConfigError> {
        let keys = ApiKeys::from_settings(&settings.api_keys)?;
        let secret = settings
            .jwt_secret
            .as_deref()
            .map(|s| expand_env("auth.jwt_secret", s))
            .transpose()?;
        if secret.as_ref().is_some_and(|s| s.len() < 16) {
            return Err(invalid(
                "auth.jwt_secret",
                "must be at least 16 bytes (RFC 7518 asks for 32 for HS256)".into(),
            ));
        }
        let jwks = match &settings.jwks {
            Some(location) => {
                if settings.issuer.is_none() || settings.audience.is_none() {
                    return Err(invalid(
                        "auth.jwks",
                        "tokens of an identity provider need `auth.issuer` and `auth.audience`"
                            .into(),
                    ));
                }
                Some(expand_env("auth.jwks", location)?)
            }
            None => None,
        };
        let mut roles = HashMap::new();
        for (role, scopes) in &settings.roles {
            let parsed =
                Scopes::parse(scopes).map_err(|e| invalid(&format!("auth.roles.{role}"), e))?;
            roles.insert(role.clone(), parsed);
        }
        Ok(Self {
            keys,
            secret,
            jwks,
            roles,
        })
    }
}

impl Authenticator {
    /// Check `[auth]` as a start does, short of fetching the JWKS: the API
    /// keys, the token secret, the JWKS settings, the roles, and every
    /// `${ENV}` they name (`streamplug config --check`).
    pub fn check(settings: &AuthSettings) -> Result<(), ConfigError> {
        Resolved::from_settings(settings).map(drop)
    }

    /// From `[auth]`, with `${ENV}` resolved; loads the JWKS when one is
    /// configured. `demo_key` is the digest of the minted demo key, if any.
    pub async fn from_settings(
        settings: &AuthSettings,
        demo_key: Option<[u8; 32]>,
    ) -> Result<Self, ConfigError> {
        let Resolved {
            mut keys,
            secret,
            jwks,
            roles,
        } = Resolved::from_settings(settings)?;
        if let Some(digest) = demo_key {
            keys.insert("demo", Scopes::all(), None, digest)
                .map_err(|e| invalid("auth.demo_key", e))?;
        }
        let jwks = match jwks {
            Some(location) => Some(Arc::new(
                jwks::Jwks::load(&location)
                    .await
                    .map_err(|e| invalid("auth.jwks", e))?,
            )),
            None => None,
        };
        Ok(Self {
            keys,
            tokens: TokenVerifier::new(
                secret.as_deref(),
                jwks,
                settings.issuer.clone(),
                settings.audience.clone(),
                settings.role_claim.clone(),
                roles,
            ),
        })
    }

    /// The gateway's authenticator: [`Authenticator::from_settings`] with
    /// the demo key of `data_dir` minted when `demo_key` asks for it, and a
    /// JWKS URL kept refreshed until `shutdown`.
    pub async fn start(
        settings: &AuthSettings,
        data_dir: &std::path::Path,
        shutdown: &tokio::sync::watch::Receiver<bool>,
    ) -> Result<Self, ConfigError> {
        let demo = if settings.demo_key {
            let digest = demo_key::load_or_mint(data_dir).map_err(|e| ConfigError::Invalid {
                setting: "auth.demo_key".into(),
                reason: format!("cannot keep the demo key: {e}"),
            })?;
            Some(digest)
        } else {
            None
        };
        let authenticator = Self::from_settings(settings, demo).await?;
        if let Some(jwks) = authenticator.tokens.jwks() {
            jwks.spawn_refresh(
                std::time::Duration::from_secs(settings.jwks_refresh_secs),
                shutdown.clone(),
            );
        }
        if settings.jwt_secret.is_none() && settings.jwks.is_none() {
            tracing::info!(
                "auth.jwt_secret and auth.jwks are not set: customer tokens are refused"
            );
        }
        if settings.dev_tokens {
            tracing::warn!(
                "auth.dev_tokens is on: anyone on this machine can mint customer tokens (demo only)"
            );
        }
        Ok(authenticator)
    }

    /// The principal `credential` (a bearer value) proves.
    pub async fn principal(&self, credential: &str) -> Result<Principal, AuthError> {
        if credential.starts_with(api_keys::KEY_PREFIX) {
            return self
                .keys
                .find(credential)
                .map(Principal::Key)
                .ok_or(AuthError::UnknownKey);
        }
        if !self.tokens.accepts_tokens() {
            return Err(AuthError::Disabled);
        }
        Ok(match self.tokens.verify(credential).await? {
            TokenIdentity::Customer(id) => Principal::Customer(id),
            TokenIdentity::Staff { subject, scopes } => Principal::Staff { subject, scopes },
        })
    }
}

/// The value of an `Authorization: Bearer` header, if there is one.
pub fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, value)| value.trim())
        })
}

pub use streamplug_wire::webhook_signature::same;
