//! Backend API keys: `spk_` and 43 characters of base64url (256 random
//! bits). Only their SHA-256 is kept; a presented key is hashed and found by
//! its hash (a key has enough entropy that a fast hash is the right one, as
//! for GitHub's tokens), then compared in constant time.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;

use crate::config::scopes::Scopes;
use crate::config::{ApiKeySettings, ConfigError, expand_env};

/// The prefix that tells an API key from a JWT.
pub const KEY_PREFIX: &str = "spk_";

/// A configured key, without its secret.
pub struct ApiKey {
    /// Who holds it.
    pub name: String,
    /// What it may do.
    pub scopes: Arc<Scopes>,
    /// Its own ingest rate limit (`rate_per_sec`, bursts of twice that).
    pub limiter: Option<governor::DefaultDirectRateLimiter>,
    digest: [u8; 32],
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl ApiKey {
    /// A principal for a sender inside the gateway (a verified webhook):
    /// it has no key, so no request can present it.
    pub fn internal(name: &str, scopes: Scopes) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_owned(),
            scopes: Arc::new(scopes),
            limiter: None,
            digest: [0; 32],
        })
    }
}

/// Every configured key, by digest.
#[derive(Debug, Default)]
pub struct ApiKeys {
    by_digest: HashMap<[u8; 32], Arc<ApiKey>>,
}

/// A fresh key.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The SHA-256 of `key` as lowercase hex, as `sha256 =` takes it.
pub fn hex_digest(key: &str) -> String {
    hex::encode(digest(key))
}

/// The SHA-256 of `key`.
pub fn digest(key: &str) -> [u8; 32] {
    crate::hash::sha256(key.as_bytes())
}

fn invalid(setting: String, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        reason: reason.into(),
    }
}

impl ApiKeys {
    /// The keys of `[[auth.api_keys]]`, with `${ENV}` keys resolved and
    /// hashed, and every scope parsed.
    pub fn from_settings(settings: &[ApiKeySettings]) -> Result<Self, ConfigError> {
        let mut keys = Self::default();
        for (i, k) in settings.iter().enumerate() {
            let at = |field: &str| format!("auth.api_keys[{i}].{field}");
            let digest = match (&k.sha256, &k.key) {
                (Some(hex_digest), None) => {
                    let mut d = [0u8; 32];
                    hex::decode_to_slice(hex_digest.trim(), &mut d).map_err(|_| {
                        invalid(at("sha256"), "must be 64 hex digits (the key's SHA-256)")
                    })?;
                    d
                }
                (None, Some(key)) => {
                    let key = expand_env(&at("key"), key)?;
                    if !key.starts_with(KEY_PREFIX) || key.len() < KEY_PREFIX.len() + 32 {
                        return Err(invalid(
                            at("key"),
                            "an API key is `spk_` and at least 32 more characters (`streamplug keys new` makes one)",
                        ));
                    }
                    digest(&key)
                }
                _ => {
                    return Err(invalid(
                        format!("auth.api_keys[{i}]"),
                        "give exactly one of `sha256` and `key`",
                    ));
                }
            };
            let scopes = Scopes::parse(&k.scopes).map_err(|e| invalid(at("scopes"), e))?;
            keys.insert(&k.name, scopes, k.rate_per_sec, digest)
                .map_err(|e| invalid(format!("auth.api_keys[{i}]"), e))?;
        }
        Ok(keys)
    }

    /// Add a key by its digest.
    pub fn insert(
        &mut self,
        name: &str,
        scopes: Scopes,
        rate_per_sec: Option<u32>,
        digest: [u8; 32],
    ) -> Result<(), String> {
        if name.is_empty() || self.by_digest.values().any(|k| k.name == name) {
            return Err(format!("key name `{name}` is empty or used twice"));
        }
        let key = ApiKey {
            name: name.to_owned(),
            scopes: Arc::new(scopes),
            limiter: rate_per_sec.and_then(|r| crate::rate::limiter(r, r.saturating_mul(2))),
            digest,
        };
        if self.by_digest.insert(digest, Arc::new(key)).is_some() {
            return Err("the same key is configured twice".into());
        }
        Ok(())
    }

    /// The key `presented` is, if it is one.
    pub fn find(&self, presented: &str) -> Option<Arc<ApiKey>> {
        let d = digest(presented);
        self.by_digest
            .get(&d)
            .filter(|k| super::same(&k.digest, &d))
            .cloned()
    }

    /// Whether any key is configured.
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_found_by_its_hash_and_nothing_else_is() {
        let key = generate().unwrap();
        assert!(key.starts_with(KEY_PREFIX) && key.len() == 47);
        let settings = [ApiKeySettings {
            name: "shop".into(),
            sha256: Some(hex::encode(digest(&key))),
            key: None,
            scopes: vec!["ingest:order.*".into()],
            rate_per_sec: None,
        }];
        let keys = ApiKeys::from_settings(&settings).unwrap();
        assert_eq!(keys.find(&key).unwrap().name, "shop");
        assert!(keys.find(&generate().unwrap()).is_none());
        assert!(keys.find("").is_none());
    }

    #[test]
    fn bad_key_settings_name_the_field() {
        let base = ApiKeySettings {
            name: "shop".into(),
            sha256: Some("zz".into()),
            key: None,
            scopes: vec![],
            rate_per_sec: None,
        };
        let err = ApiKeys::from_settings(std::slice::from_ref(&base)).unwrap_err();
        assert!(err.to_string().contains("auth.api_keys[0].sha256"), "{err}");
        let both = ApiKeySettings {
            key: Some("spk_x".into()),
            ..base.clone()
        };
        assert!(ApiKeys::from_settings(&[both]).is_err());
        let bad_scope = ApiKeySettings {
            sha256: Some("00".repeat(32)),
            scopes: vec!["root".into()],
            ..base
        };
        let err = ApiKeys::from_settings(&[bad_scope]).unwrap_err();
        assert!(err.to_string().contains("unknown scope `root`"), "{err}");
    }
}
