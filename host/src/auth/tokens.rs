//! JWTs: the token is read by `streamplug_wire::jwt` (an allowlist of
//! algorithms, HS256 with the configured secret or RS256/ES256 with a JWKS
//! key named by `kid`, never `none`; `exp` required with no leeway, `iss`
//! and `aud` checked when configured); here the key is found and the roles
//! are granted. `sub` is the customer id; a token whose role claim names a
//! configured staff role acts with that role's scopes.
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

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, encode};
use streamplug_wire::jwt::{self, ClaimsPolicy, JwtError, KeyRequest};

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
    policy: ClaimsPolicy,
    roles: HashMap<String, Scopes>,
    verified: quick_cache::sync::Cache<[u8; 32], Verified>,
}

impl From<JwtError> for AuthError {
    fn from(e: JwtError) -> Self {
        match e {
            JwtError::Expired => Self::Expired,
            JwtError::Invalid(why) => Self::Invalid(why),
        }
    }
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
            policy: ClaimsPolicy {
                issuer,
                audience,
                role_claim,
            },
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
        let (key, algorithm) = match jwt::key_request(token)? {
            KeyRequest::Secret => match &self.secret {
                Some((key, _)) => (key.clone(), Algorithm::HS256),
                None => return Err(jwt::not_accepted(Algorithm::HS256).into()),
            },
            KeyRequest::Jwks { algorithm, kid } => match (&self.jwks, kid) {
                (Some(jwks), Some(kid)) => {
                    let found = jwks
                        .key(&kid)
                        .await
                        .ok_or_else(|| AuthError::Invalid(format!("no key `{kid}` in the JWKS")))?;
                    if found.algorithm != algorithm {
                        return Err(jwt::not_accepted(algorithm).into());
                    }
                    (found.key, algorithm)
                }
                (Some(_), None) => {
                    return Err(AuthError::Invalid("the token names no `kid`".into()));
                }
                (None, _) => return Err(jwt::not_accepted(algorithm).into()),
            },
        };
        let claims = jwt::verify(token, &key, algorithm, &self.policy)?;
        let granted: Vec<&Scopes> = claims
            .roles
            .iter()
            .filter_map(|r| self.roles.get(r))
            .collect();
        if granted.is_empty() {
            return Ok((TokenIdentity::Customer(claims.subject), claims.exp));
        }
        let identity = TokenIdentity::Staff {
            subject: claims.subject,
            scopes: Arc::new(Scopes::union(granted)),
        };
        Ok((identity, claims.exp))
    }

    /// An HS256 token for `customer`, valid for `ttl_secs` (dev tokens).
    pub fn sign(&self, customer: &str, ttl_secs: u64) -> Result<String, AuthError> {
        let (_, encoding) = self.secret.as_ref().ok_or(AuthError::Disabled)?;
        let exp = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0) + ttl_secs;
        let mut claims = serde_json::json!({"sub": customer, "exp": exp});
        if let Some(iss) = &self.policy.issuer {
            claims["iss"] = iss.as_str().into();
        }
        if let Some(aud) = &self.policy.audience {
            claims["aud"] = aud.as_str().into();
        }
        encode(&Header::new(Algorithm::HS256), &claims, encoding)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

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
