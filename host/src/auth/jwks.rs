//! A JSON Web Key Set (RFC 7517) for RS256/ES256 tokens: read from a file or
//! fetched from an identity provider's URL, kept behind an `ArcSwap`,
//! fetched again every `jwks_refresh_secs` and when a token names a `kid`
//! it does not hold (at most once every [`MIN_REFETCH`]), so a rotated key
//! is picked up without a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Shortest interval between two fetches caused by unknown `kid`s.
const MIN_REFETCH: Duration = Duration::from_secs(30);
/// Longest a JWKS fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// One verification key and the one algorithm it verifies.
#[derive(Clone)]
pub struct VerifyingKey {
    /// The key.
    pub key: DecodingKey,
    /// RS256 or ES256.
    pub algorithm: Algorithm,
}

/// Where the set comes from.
#[derive(Debug, Clone)]
enum Source {
    File(std::path::PathBuf),
    Url(String),
}

/// The key set, by `kid`.
pub struct Jwks {
    source: Source,
    keys: ArcSwap<HashMap<String, VerifyingKey>>,
    last_fetch: Mutex<Option<Instant>>,
    client: reqwest::Client,
}

impl Jwks {
    /// Load the set from `location` (a path or an `http(s)://` URL).
    pub async fn load(location: &str) -> Result<Self, String> {
        let source = if location.starts_with("https://") || location.starts_with("http://") {
            Source::Url(location.to_owned())
        } else {
            Source::File(location.into())
        };
        let jwks = Self {
            source,
            keys: ArcSwap::from_pointee(HashMap::new()),
            last_fetch: Mutex::new(None),
            client: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .map_err(|e| e.to_string())?,
        };
        jwks.refresh().await?;
        Ok(jwks)
    }

    /// The key named `kid`, fetching the set again first if it is unknown
    /// and the last fetch is not recent.
    pub async fn key(&self, kid: &str) -> Option<VerifyingKey> {
        if let Some(key) = self.keys.load().get(kid) {
            return Some(key.clone());
        }
        let stale = self
            .last_fetch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none_or(|at| at.elapsed() >= MIN_REFETCH);
        if stale && let Err(error) = self.refresh().await {
            tracing::warn!(%error, "cannot refresh the JWKS");
        }
        self.keys.load().get(kid).cloned()
    }

    /// Read or fetch the set and replace the keys held.
    pub async fn refresh(&self) -> Result<(), String> {
        *self
            .last_fetch
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        let text = match &self.source {
            Source::File(path) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the JWKS {}: {e}", path.display()))?,
            Source::Url(url) => self
                .client
                .get(url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| format!("cannot fetch the JWKS: {e}"))?
                .text()
                .await
                .map_err(|e| format!("cannot fetch the JWKS: {e}"))?,
        };
        let keys = parse(&text)?;
        tracing::debug!(keys = keys.len(), "JWKS loaded");
        self.keys.store(Arc::new(keys));
        Ok(())
    }

    /// Fetch a URL set again every `every` until `shutdown`.
    pub fn spawn_refresh(
        self: &Arc<Self>,
        every: Duration,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        if matches!(self.source, Source::File(_)) {
            return;
        }
        let jwks = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Err(error) = jwks.refresh().await {
                            tracing::warn!(%error, "cannot refresh the JWKS; keeping the keys held");
                        }
                    }
                    () = stopped(&mut shutdown) => return,
                }
            }
        });
    }
}

/// The RS256 and ES256 keys of a JWKS document, by `kid`. Keys without a
/// `kid`, symmetric keys and other curves are left out: a token names its
/// key, and only asymmetric keys come from a set.
pub fn parse(text: &str) -> Result<HashMap<String, VerifyingKey>, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = &jwk.common.key_id else {
            continue;
        };
        let algorithm = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            _ => continue,
        };
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("key `{kid}`: {e}"))?;
        keys.insert(kid.clone(), VerifyingKey { key, algorithm });
    }
    if keys.is_empty() {
        return Err("the JWKS holds no RS256 or ES256 key with a `kid`".into());
    }
    Ok(keys)
}

/// Resolves once shutdown is signalled (without holding the watch's lock).
async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
