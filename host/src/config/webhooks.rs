//! `[webhooks]`: inbound webhooks. `[webhooks.endpoints.<name>]` configures
//! `POST /v1/webhooks/<name>`: how its sender proves itself (Stripe's
//! signature, a plain HMAC-SHA256, basic auth, a bearer token or a token in
//! the URL; see `streamplug_wire::webhook_signature`); a verified request
//! becomes a `webhook.received` event that a plugin maps to domain events.
//! The host knows no sender's format.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ConfigError, expand_env};
use streamplug_wire::webhook_signature::Verification;

/// A webhook endpoint, ready to verify requests (its secret resolved;
/// `Debug` names the scheme only).
#[derive(Debug)]
pub struct Endpoint {
    /// How its sender proves itself.
    pub verification: Verification,
    /// The header an `hmac-sha256` signature is read from, lowercase.
    pub header: String,
}

/// The endpoints by name.
pub type Endpoints = Arc<BTreeMap<String, Endpoint>>;

/// Inbound webhooks.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// Webhook endpoints by name: `POST /v1/webhooks/<name>`.
    pub endpoints: BTreeMap<String, EndpointSettings>,
}

/// How a webhook's sender proves itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// `Stripe-Signature: t=...,v1=...` within `tolerance_secs`.
    Stripe,
    /// HMAC-SHA256 of the raw body in `header` (hex or base64).
    HmacSha256,
    /// `Authorization: Basic`; `secret` is `user:password`.
    Basic,
    /// `Authorization: Bearer`; `secret` is the token.
    Bearer,
    /// `?token=<secret>` in the URL (for senders given only a URL, such
    /// as Infobip's `notifyUrl`); neither signed nor replay-proof.
    UrlToken,
}

/// `[webhooks.endpoints.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSettings {
    /// How the sender proves itself.
    pub verify: Scheme,
    /// The signing secret, `user:password` or token; may be `${ENV}`.
    pub secret: String,
    /// The header carrying an `hmac-sha256` signature.
    #[serde(default = "default_signature_header")]
    pub header: String,
    /// How far a Stripe signature's time may be from now, seconds.
    #[serde(default = "default_tolerance_secs")]
    pub tolerance_secs: u64,
}

fn default_signature_header() -> String {
    "x-signature".into()
}

/// Stripe's own default.
fn default_tolerance_secs() -> u64 {
    300
}

impl WebhookSettings {
    /// Every endpoint with its secret resolved, ready to verify requests.
    pub fn endpoints(&self) -> Result<Endpoints, ConfigError> {
        let mut resolved = BTreeMap::new();
        for (name, e) in &self.endpoints {
            let at = |field: &str| format!("webhooks.endpoints.{name}.{field}");
            let valid_name = !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !valid_name {
                return Err(ConfigError::Invalid {
                    setting: format!("webhooks.endpoints.{name}"),
                    reason: "a name is 1-64 of a-z, 0-9, `-`, `_`".into(),
                });
            }
            let secret = expand_env(&at("secret"), &e.secret)?;
            if secret.len() < 8 {
                return Err(ConfigError::Invalid {
                    setting: at("secret"),
                    reason: "at least 8 characters".into(),
                });
            }
            let verification = match e.verify {
                Scheme::Stripe => Verification::Stripe {
                    secret,
                    tolerance_secs: e.tolerance_secs,
                },
                Scheme::HmacSha256 => Verification::HmacSha256 { secret },
                Scheme::Basic if secret.contains(':') => Verification::Basic {
                    credentials: secret,
                },
                Scheme::Basic => {
                    return Err(ConfigError::Invalid {
                        setting: at("secret"),
                        reason: "basic auth takes `user:password`".into(),
                    });
                }
                Scheme::Bearer => Verification::Bearer { token: secret },
                Scheme::UrlToken => Verification::UrlToken { token: secret },
            };
            resolved.insert(
                name.clone(),
                Endpoint {
                    verification,
                    header: e.header.to_ascii_lowercase(),
                },
            );
        }
        Ok(Arc::new(resolved))
    }
}
