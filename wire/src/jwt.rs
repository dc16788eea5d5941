//! Reading a bearer JWT (RFC 7519, with RFC 8725's practice): which key its
//! header asks for (an allowlist: HS256 with the shared secret, RS256/ES256
//! with a JWKS key named by `kid`; never `none`), then its signature and
//! claims: `exp` and `sub` required, `exp` with no leeway, `iss` and `aud`
//! when configured. Finding the key (the secret, a JWKS that may need
//! fetching) and what the roles grant are the caller's.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::event::MAX_SUBJECT_CHARS;

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// The token's `exp` has passed.
    #[error("token expired")]
    Expired,
    /// Bad format, algorithm, signature or claims.
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// The key a token's header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRequest {
    /// HS256: the shared secret.
    Secret,
    /// RS256 or ES256: the JWKS key named `kid`, for `algorithm`.
    Jwks {
        /// The algorithm the key must be for.
        algorithm: Algorithm,
        /// The header's `kid`, if it names one.
        kid: Option<String>,
    },
}

/// What a token's claims must satisfy beyond its signature.
#[derive(Debug, Clone, Default)]
pub struct ClaimsPolicy {
    /// Required `iss`, if any.
    pub issuer: Option<String>,
    /// Required `aud`, if any.
    pub audience: Option<String>,
    /// The claim naming the caller's roles (a string or an array).
    pub role_claim: String,
}

/// A token's checked claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// `sub`: 1 to [`MAX_SUBJECT_CHARS`] characters.
    pub subject: String,
    /// The role claim's names, in order.
    pub roles: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub exp: u64,
}

/// The key `token`'s header asks for, if its algorithm is accepted at all.
pub fn key_request(token: &str) -> Result<KeyRequest, JwtError> {
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| JwtError::Invalid(e.to_string()))?;
    match header.alg {
        Algorithm::HS256 => Ok(KeyRequest::Secret),
        algorithm @ (Algorithm::RS256 | Algorithm::ES256) => Ok(KeyRequest::Jwks {
            algorithm,
            kid: header.kid,
        }),
        other => Err(not_accepted(other)),
    }
}

/// The refusal of a token signed with `algorithm`, which no configured key
/// verifies.
pub fn not_accepted(algorithm: Algorithm) -> JwtError {
    JwtError::Invalid(format!("algorithm {algorithm:?} is not accepted"))
}

/// `token`'s claims, once its signature checks with `key` for `algorithm`
/// and its claims satisfy `policy`.
pub fn verify(
    token: &str,
    key: &DecodingKey,
    algorithm: Algorithm,
    policy: &ClaimsPolicy,
) -> Result<Claims, JwtError> {
    let claims =
        jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation(algorithm, policy))
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => JwtError::Expired,
                _ => JwtError::Invalid(e.to_string()),
            })?
            .claims;
    let subject = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.chars().count() <= MAX_SUBJECT_CHARS)
        .ok_or_else(|| {
            JwtError::Invalid(format!("`sub` must be 1-{MAX_SUBJECT_CHARS} characters"))
        })?
        .to_owned();
    let roles = match claims.get(&policy.role_claim) {
        Some(Value::String(role)) => vec![role.clone()],
        Some(Value::Array(roles)) => roles
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    Ok(Claims {
        subject,
        roles,
        exp,
    })
}

fn validation(algorithm: Algorithm, policy: &ClaimsPolicy) -> Validation {
    let mut v = Validation::new(algorithm);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp", "sub"]);
    if let Some(iss) = &policy.issuer {
        v.set_issuer(&[iss]);
    }
    match &policy.audience {
        Some(aud) => v.set_audience(&[aud]),
        None => v.validate_aud = false,
    }
    v
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::*;

    const SECRET: &str = "s3cret";

    fn policy() -> ClaimsPolicy {
        ClaimsPolicy {
            issuer: Some("https://idp.example".into()),
            audience: Some("streamplug".into()),
            role_claim: "roles".into(),
        }
    }

    fn signed(claims: &Value, secret: &str) -> String {
        let key = EncodingKey::from_secret(secret.as_bytes());
        encode(&Header::new(Algorithm::HS256), claims, &key).unwrap()
    }

    fn check(token: &str) -> Result<Claims, JwtError> {
        let key = DecodingKey::from_secret(SECRET.as_bytes());
        verify(token, &key, Algorithm::HS256, &policy())
    }

    fn claims(sub: &str, exp: u64, iss: &str, aud: &str) -> Value {
        json!({"sub": sub, "exp": exp, "iss": iss, "aud": aud})
    }

    const FAR: u64 = 4_000_000_000;

    #[test]
    fn a_good_token_gives_its_subject_roles_and_expiry() {
        let mut c = claims("sam", FAR, "https://idp.example", "streamplug");
        c["roles"] = json!(["support", 7, "ops"]);
        let got = check(&signed(&c, SECRET)).unwrap();
        assert_eq!(got.subject, "sam");
        assert_eq!(got.roles, ["support", "ops"]);
        assert_eq!(got.exp, FAR);
        c["roles"] = json!("support");
        assert_eq!(check(&signed(&c, SECRET)).unwrap().roles, ["support"]);
    }

    #[test]
    fn expired_forged_unbound_and_subjectless_tokens_are_refused() {
        let expired = signed(&claims("a", 1, "https://idp.example", "streamplug"), SECRET);
        assert_eq!(check(&expired), Err(JwtError::Expired));
        let long = "x".repeat(MAX_SUBJECT_CHARS + 1);
        for bad in [
            signed(
                &claims("a", FAR, "https://idp.example", "streamplug"),
                "other",
            ),
            signed(
                &claims("a", FAR, "https://evil.example", "streamplug"),
                SECRET,
            ),
            signed(
                &claims("a", FAR, "https://idp.example", "another-api"),
                SECRET,
            ),
            signed(
                &claims("", FAR, "https://idp.example", "streamplug"),
                SECRET,
            ),
            signed(
                &claims(&long, FAR, "https://idp.example", "streamplug"),
                SECRET,
            ),
            signed(
                &json!({"sub": "a", "iss": "https://idp.example", "aud": "streamplug"}),
                SECRET,
            ),
        ] {
            assert!(matches!(check(&bad), Err(JwtError::Invalid(_))), "{bad}");
        }
    }

    #[test]
    fn the_header_asks_for_an_allowed_key_or_is_refused() {
        let hs = signed(&claims("a", FAR, "i", "a"), SECRET);
        assert_eq!(key_request(&hs), Ok(KeyRequest::Secret));
        // {"alg":"RS256","kid":"k1"} and {"alg":"ES256"}.
        let rs = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.c2ln";
        assert_eq!(
            key_request(rs),
            Ok(KeyRequest::Jwks {
                algorithm: Algorithm::RS256,
                kid: Some("k1".into())
            })
        );
        let es = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln";
        assert_eq!(
            key_request(es),
            Ok(KeyRequest::Jwks {
                algorithm: Algorithm::ES256,
                kid: None
            })
        );
        // {"alg":"none"}, {"alg":"HS512"}, and not a JWT.
        for bad in [
            "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.",
            "eyJhbGciOiJIUzUxMiJ9.e30.c2ln",
            "not.a.jwt",
        ] {
            assert!(
                matches!(key_request(bad), Err(JwtError::Invalid(_))),
                "{bad}"
            );
        }
    }
}
