//! Customer tokens: HS256 JWTs whose `sub` is the customer id and whose
//! `exp` bounds the session's start (RFC 7519). The secret is
//! `websocket.jwt_secret`.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

/// The claims streamplug reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The customer id.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token in `?token=` or `Authorization: Bearer`.
    #[error("no token: pass `?token=<JWT>` or `Authorization: Bearer <JWT>`")]
    Missing,
    /// The gateway has no secret configured.
    #[error("WebSocket sessions are disabled: websocket.jwt_secret is not set")]
    Disabled,
    /// The token expired.
    #[error("token expired")]
    Expired,
    /// Bad signature, algorithm, format or claims.
    #[error("invalid token: {0}")]
    Invalid(String),
}

/// Verifies (and, for dev tokens, signs) customer tokens.
#[derive(Clone)]
pub struct TokenKeys {
    decoding: DecodingKey,
    encoding: EncodingKey,
}

impl TokenKeys {
    /// Keys for `secret`.
    pub fn new(secret: &str) -> Self {
        Self {
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            encoding: EncodingKey::from_secret(secret.as_bytes()),
        }
    }

    /// The customer a valid token names.
    pub fn verify(&self, token: &str) -> Result<String, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        match decode::<Claims>(token, &self.decoding, &validation) {
            Ok(data) if !data.claims.sub.is_empty() => Ok(data.claims.sub),
            Ok(_) => Err(AuthError::Invalid(
                "`sub` (the customer id) is empty".into(),
            )),
            Err(e) => match e.kind() {
                ErrorKind::ExpiredSignature => Err(AuthError::Expired),
                _ => Err(AuthError::Invalid(e.to_string())),
            },
        }
    }

    /// A token for `customer` valid for `ttl_secs`.
    pub fn sign(&self, customer: &str, ttl_secs: u64) -> Result<String, AuthError> {
        let exp = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0) + ttl_secs;
        encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: customer.to_owned(),
                exp,
            },
            &self.encoding,
        )
        .map_err(|e| AuthError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_names_its_customer() {
        let keys = TokenKeys::new("s3cret");
        let token = keys.sign("alice", 60).unwrap();
        assert_eq!(keys.verify(&token), Ok("alice".into()));
    }

    #[test]
    fn expired_forged_and_garbage_tokens_are_refused() {
        let keys = TokenKeys::new("s3cret");
        let expired = encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "a".into(),
                exp: 1,
            },
            &EncodingKey::from_secret(b"s3cret"),
        )
        .unwrap();
        assert_eq!(keys.verify(&expired), Err(AuthError::Expired));
        let forged = TokenKeys::new("other").sign("alice", 60).unwrap();
        assert!(matches!(keys.verify(&forged), Err(AuthError::Invalid(_))));
        assert!(matches!(
            keys.verify("not.a.jwt"),
            Err(AuthError::Invalid(_))
        ));
    }
}
