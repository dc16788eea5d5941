//! JWTs (RFC 7519, with RFC 8725's practice): an allowlist of algorithms
//! (HS256 with the configured secret, RS256/ES256 with a JWKS key named by
//! `kid`; never `none`), `exp` required with no leeway, `iss` and `aud`
//! checked when configured. `sub` is the customer id; a token whose role
//! claim names a configured staff role acts with that role's scopes.
//!
//! Verified tokens are cached by their SHA-256 (like Envoy's `jwt_authn`
//! cache): a browser sends the same token with every request, and an
//! RS256/ES256 signature check costs ~0.4 ms here (`cargo bench --bench
//! auth`), several times an ingested event's whole cost. An entry holds
//! until the token's `exp`, at most [`CACHE_FOR`], so a key dropped from the
//! JWKS stops being honoured within that time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde_json::{Map, Value};

use super::AuthError;
use super::jwks::Jwks;
use crate::config::scopes::Scopes;

/// Verified tokens kept at once.
const CACHE_ENTRIES: usize = 100_000;
/// Longest a verified token is trusted without checking its signature again.
pub const CACHE_FOR: Duration = Duration::from_secs(300);

/// A verified token: who it names, until when.
#[derive(Clone)]
struct Verified {
    identity: TokenIdentity,
    until: Instant,
}

/// Who a valid token names.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenIdentity {
    /// A customer, by id.
    Customer(String),
    /// Staff, with the scopes of their roles.
    Staff {
        /// `sub`.
        subject: String,
        /// The union of their roles' scopes.
        scopes: Arc<Scopes>,
    },
}

/// Verifies tokens (and signs dev tokens with the HS256 secret).
pub struct TokenVerifier {
    secret: Option<(DecodingKey, EncodingKey)>,
    jwks: Option<Arc<Jwks>>,
    issuer: Option<String>,
    audience: Option<String>,
    role_claim: String,
    roles: HashMap<String, Scopes>,
    verified: quick_cache::sync::Cache<[u8; 32], Verified>,
}

impl TokenVerifier {
    /// A verifier for HS256 tokens signed with `secret`, RS256/ES256 tokens
    /// of `jwks`, or both.
    pub fn new(
        secret: Option<&str>,
        jwks: Option<Arc<Jwks>>,
        issuer: Option<String>,
        audience: Option<String>,
        role_claim: String,
        roles: HashMap<String, Scopes>,
    ) -> Self {
        Self {
            secret: secret.map(|s| {
                (
                    DecodingKey::from_secret(s.as_bytes()),
                    EncodingKey::from_secret(s.as_bytes()),
                )
            }),
            jwks,
            issuer,
            audience,
            role_claim,
            roles,
            verified: quick_cache::sync::Cache::new(CACHE_ENTRIES),
        }
    }

    /// The JWKS, when one is configured.
    pub fn jwks(&self) -> Option<Arc<Jwks>> {
        self.jwks.clone()
    }

    /// Whether any token can be valid.
    pub fn accepts_tokens(&self) -> bool {
        self.secret.is_some() || self.jwks.is_some()
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut v = Validation::new(algorithm);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "sub"]);
        if let Some(iss) = &self.issuer {
            v.set_issuer(&[iss]);
        }
        match &self.audience {
            Some(aud) => v.set_audience(&[aud]),
            None => v.validate_aud = false,
        }
        v
    }

    /// Who `token` names, if it is valid.
    pub async fn verify(&self, token: &str) -> Result<TokenIdentity, AuthError> {
        let digest = super::api_keys::digest(token);
        if let Some(hit) = self.verified.get(&digest) {
            if hit.until > Instant::now() {
                return Ok(hit.identity);
            }
            self.verified.remove(&digest);
        }
        let (identity, exp) = self.verify_signature(token).await?;
        let now_secs = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
        let lifetime = Duration::from_secs(exp.saturating_sub(now_secs)).min(CACHE_FOR);
        self.verified.insert(
            digest,
            Verified {
                identity: identity.clone(),
                until: Instant::now() + lifetime,
            },
        );
        Ok(identity)
    }

    /// Check `token`'s signature and claims, without the cache: who it
    /// names and its `exp`.
    pub async fn verify_signature(&self, token: &str) -> Result<(TokenIdentity, u64), AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let key = match header.alg {
            Algorithm::HS256 => self.secret.as_ref().map(|(d, _)| d.clone()),
            Algorithm::RS256 | Algorithm::ES256 => match (&self.jwks, header.kid.as_deref()) {
                (Some(jwks), Some(kid)) => {
                    let found = jwks
                        .key(kid)
                        .await
                        .ok_or_else(|| AuthError::Invalid(format!("no key `{kid}` in the JWKS")))?;
                    (found.algorithm == header.alg).then_some(found.key)
                }
                (Some(_), None) => {
                    return Err(AuthError::Invalid("the token names no `kid`".into()));
                }
                (None, _) => None,
            },
            _ => None,
        };
        let key = key.ok_or_else(|| {
            AuthError::Invalid(format!("algorithm {:?} is not accepted", header.alg))
        })?;
        let claims = decode::<Map<String, Value>>(token, &key, &self.validation(header.alg))
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid(e.to_string()),
            })?
            .claims;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.chars().count() <= super::MAX_SUBJECT_CHARS)
            .ok_or_else(|| AuthError::Invalid("`sub` must be 1-200 characters".into()))?
            .to_owned();
        let named: Vec<&str> = match claims.get(&self.role_claim) {
            Some(Value::String(role)) => vec![role.as_str()],
            Some(Value::Array(roles)) => roles.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        let granted: Vec<&Scopes> = named.iter().filter_map(|r| self.roles.get(*r)).collect();
        if granted.is_empty() {
            return Ok((TokenIdentity::Customer(subject), exp));
        }
        let identity = TokenIdentity::Staff {
            subject,
            scopes: Arc::new(Scopes::union(granted)),
        };
        Ok((identity, exp))
    }

    /// An HS256 token for `customer`, valid for `ttl_secs` (dev tokens).
    pub fn sign(&self, customer: &str, ttl_secs: u64) -> Result<String, AuthError> {
        let (_, encoding) = self.secret.as_ref().ok_or(AuthError::Disabled)?;
        let exp = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0) + ttl_secs;
        let mut claims = serde_json::json!({"sub": customer, "exp": exp});
        if let Some(iss) = &self.issuer {
            claims["iss"] = iss.as_str().into();
        }
        if let Some(aud) = &self.audience {
            claims["aud"] = aud.as_str().into();
        }
        encode(&Header::new(Algorithm::HS256), &claims, encoding)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(secret: &str) -> TokenVerifier {
        let roles = HashMap::from([(
            "support".to_owned(),
            Scopes::parse(&["read:support-inquiries"]).unwrap(),
        )]);
        TokenVerifier::new(
            Some(secret),
            None,
            Some("https://idp.example".into()),
            Some("streamplug".into()),
            "roles".into(),
            roles,
        )
    }

    fn token(claims: Value, secret: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn a_signed_token_names_its_customer_and_roles_make_staff() {
        let v = verifier("s3cret");
        let t = v.sign("alice", 60).unwrap();
        assert_eq!(
            v.verify(&t).await,
            Ok(TokenIdentity::Customer("alice".into()))
        );
        let staff = token(
            serde_json::json!({"sub": "sam", "exp": 4_000_000_000u64, "iss": "https://idp.example",
                "aud": "streamplug", "roles": ["support", "unknown"]}),
            "s3cret",
        );
        match v.verify(&staff).await.unwrap() {
            TokenIdentity::Staff { subject, scopes } => {
                assert_eq!(subject, "sam");
                assert!(scopes.may_read("support-inquiries") && !scopes.may_read("order-events"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_cached_token_still_expires_and_a_changed_one_is_checked_again() {
        let v = verifier("s3cret");
        let exp = u64::try_from(chrono::Utc::now().timestamp()).unwrap() + 1;
        let claims = serde_json::json!({"sub": "a", "exp": exp, "iss": "https://idp.example", "aud": "streamplug"});
        let t = token(claims, "s3cret");
        assert!(v.verify(&t).await.is_ok());
        assert!(v.verify(&t).await.is_ok(), "from the cache");
        // One character of the signature changed: not a cache hit.
        let mut forged = t.clone();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        assert!(v.verify(&forged).await.is_err());
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(v.verify(&t).await, Err(AuthError::Expired));
    }

    #[tokio::test]
    async fn expired_forged_unbound_and_none_tokens_are_refused() {
        let v = verifier("s3cret");
        let claims = |exp: u64, iss: &str, aud: &str| serde_json::json!({"sub": "a", "exp": exp, "iss": iss, "aud": aud});
        let good = |c| token(c, "s3cret");
        assert_eq!(
            v.verify(&good(claims(1, "https://idp.example", "streamplug")))
                .await,
            Err(AuthError::Expired)
        );
        let far = 4_000_000_000;
        for bad in [
            token(claims(far, "https://idp.example", "streamplug"), "other"),
            good(claims(far, "https://evil.example", "streamplug")),
            good(claims(far, "https://idp.example", "another-api")),
            good(
                serde_json::json!({"sub": "", "exp": far, "iss": "https://idp.example", "aud": "streamplug"}),
            ),
            // alg "none": header {"alg":"none"} and no signature.
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIiwiZXhwIjo0MDAwMDAwMDAwfQ.".to_owned(),
            "not.a.jwt".to_owned(),
        ] {
            assert!(
                matches!(v.verify(&bad).await, Err(AuthError::Invalid(_))),
                "{bad}"
            );
        }
    }
}
