//! Verifying an inbound webhook as its sender signs or authenticates it,
//! configured rather than coded: Stripe's scheme (`Stripe-Signature:
//! t=<unix>,v1=<hex>`, HMAC-SHA256 of `"<t>.<raw body>"` with the endpoint
//! secret, within a tolerance window), a plain HMAC-SHA256 of the raw body
//! in a header (hex or base64, GitHub's `sha256=` prefix allowed), HTTP
//! basic auth, a bearer token, or (for senders that can be given only a
//! URL, such as Infobip's `notifyUrl`) a token in the URL's query. Every
//! comparison takes constant time.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How a webhook's sender proves it is who it says. `Debug` names the
/// scheme, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Verification {
    /// Stripe's `Stripe-Signature` (the header's value), the body signed
    /// with `secret`, its timestamp within `tolerance_secs` of now.
    Stripe {
        /// The endpoint's signing secret (`whsec_...`), as Stripe gives it.
        secret: String,
        /// How far the signed time may be from now, seconds.
        tolerance_secs: u64,
    },
    /// HMAC-SHA256 of the raw body with `secret`, in the request header
    /// named by the caller.
    HmacSha256 {
        /// The shared secret.
        secret: String,
    },
    /// `Authorization: Basic base64(user:password)`.
    Basic {
        /// `user:password`.
        credentials: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: String,
    },
    /// `?token=<token>` in the URL the sender was given. The weakest: the
    /// URL is the secret, nothing is signed and a request can be replayed.
    UrlToken {
        /// The token.
        token: String,
    },
}

/// Where a scheme's proof is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofSource<'a> {
    /// A request header, lowercase.
    Header(&'a str),
    /// A query parameter.
    Query(&'static str),
}

impl std::fmt::Debug for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Stripe { .. } => "Stripe",
            Self::HmacSha256 { .. } => "HmacSha256",
            Self::Basic { .. } => "Basic",
            Self::Bearer { .. } => "Bearer",
            Self::UrlToken { .. } => "UrlToken",
        })
    }
}

/// Why a webhook is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header carrying the proof is missing.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// The header does not have the expected form.
    #[error("{0} is malformed")]
    Malformed(&'static str),
    /// The signature or credentials do not match.
    #[error("the signature or credentials do not match")]
    Mismatch,
    /// The signed time is outside the tolerance window (a replay, or a
    /// clock far off).
    #[error("the signed time is {0} s from now, beyond the tolerance")]
    OutsideTolerance(u64),
}

/// Equality of secrets that takes as long for every input of a length.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; this cannot fail.
    <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

impl Verification {
    /// Where this scheme reads its proof (`hmac_header` names the HMAC's
    /// header).
    pub fn proof_source<'a>(&self, hmac_header: &'a str) -> ProofSource<'a> {
        match self {
            Self::Stripe { .. } => ProofSource::Header("stripe-signature"),
            Self::HmacSha256 { .. } => ProofSource::Header(hmac_header),
            Self::Basic { .. } | Self::Bearer { .. } => ProofSource::Header("authorization"),
            Self::UrlToken { .. } => ProofSource::Query("token"),
        }
    }

    /// Check `body` against `proof` (the value at
    /// [`Verification::proof_source`], if the request has it) at `now`
    /// (seconds since the epoch).
    pub fn verify(&self, proof: Option<&str>, body: &[u8], now: u64) -> Result<(), SignatureError> {
        match self {
            Self::Stripe {
                secret,
                tolerance_secs,
            } => {
                let header = proof.ok_or(SignatureError::Missing("the Stripe-Signature header"))?;
                stripe(header, body, secret, *tolerance_secs, now)
            }
            Self::HmacSha256 { secret } => {
                let header = proof.ok_or(SignatureError::Missing("the signature header"))?;
                let given = header.trim();
                let given = given.strip_prefix("sha256=").unwrap_or(given);
                let digest = hex::decode(given)
                    .or_else(|_| base64::engine::general_purpose::STANDARD.decode(given))
                    .map_err(|_| SignatureError::Malformed("the signature header"))?;
                let mut mac = mac(secret);
                mac.update(body);
                mac.verify_slice(&digest)
                    .map_err(|_| SignatureError::Mismatch)
            }
            Self::Basic { credentials } => {
                let header = proof.ok_or(SignatureError::Missing("the Authorization header"))?;
                let given = scheme_value(header, "basic")
                    .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
                    .ok_or(SignatureError::Malformed("the Authorization header"))?;
                same(&given, credentials.as_bytes())
                    .then_some(())
                    .ok_or(SignatureError::Mismatch)
            }
            Self::Bearer { token } => {
                let header = proof.ok_or(SignatureError::Missing("the Authorization header"))?;
                let given = scheme_value(header, "bearer")
                    .ok_or(SignatureError::Malformed("the Authorization header"))?;
                same(given.as_bytes(), token.as_bytes())
                    .then_some(())
                    .ok_or(SignatureError::Mismatch)
            }
            Self::UrlToken { token } => {
                let given = proof.ok_or(SignatureError::Missing("the `token` query parameter"))?;
                same(given.as_bytes(), token.as_bytes())
                    .then_some(())
                    .ok_or(SignatureError::Mismatch)
            }
        }
    }
}

/// The value of an `Authorization` header of `scheme` (case-insensitive).
fn scheme_value<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, value) = header.trim().split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(value.trim())
}

/// Stripe's scheme: any `v1` signature (several while a secret rolls) of
/// `"<t>.<body>"` matches, and `t` is within the tolerance.
fn stripe(
    header: &str,
    body: &[u8],
    secret: &str,
    tolerance: u64,
    now: u64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<u64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed("the Stripe-Signature header"))?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed("the Stripe-Signature header"));
    }
    let mut mac = mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected = hex::encode(mac.finalize().into_bytes());
    let matched = signatures.iter().fold(false, |any, s| {
        any | same(s.as_bytes(), expected.as_bytes())
    });
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    let drift = now.abs_diff(timestamp);
    if drift > tolerance {
        return Err(SignatureError::OutsideTolerance(drift));
    }
    Ok(())
}

/// A `Stripe-Signature` value for `body` signed at `t` with `secret` (what
/// Stripe sends; for tests and doubles).
pub fn stripe_header(secret: &str, t: u64, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The hex HMAC-SHA256 of `body` with `secret` (for tests and doubles).
pub fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}"#;
    const NOW: u64 = 1_780_000_000;

    fn stripe_scheme() -> Verification {
        Verification::Stripe {
            secret: "whsec_test".into(),
            tolerance_secs: 300,
        }
    }

    #[test]
    fn stripe_signatures_verify_within_the_window_and_forgeries_and_replays_do_not() {
        let v = stripe_scheme();
        let good = stripe_header("whsec_test", NOW - 10, BODY);
        assert_eq!(v.verify(Some(&good), BODY, NOW), Ok(()));
        // A rolled secret: two v1 signatures, one matching.
        let other = stripe_header("whsec_old", NOW, BODY);
        let both = format!("{other},v1={}", good.split("v1=").nth(1).unwrap());
        let both = both.replacen(&format!("t={NOW}"), &format!("t={}", NOW - 10), 1);
        assert_eq!(v.verify(Some(&both), BODY, NOW), Ok(()));
        let cases = [
            (
                stripe_header("whsec_other", NOW, BODY),
                SignatureError::Mismatch,
            ),
            (
                stripe_header("whsec_test", NOW, b"{}"),
                SignatureError::Mismatch,
            ),
            (
                stripe_header("whsec_test", NOW - 301, BODY),
                SignatureError::OutsideTolerance(301),
            ),
            (
                "v1=abc".into(),
                SignatureError::Malformed("the Stripe-Signature header"),
            ),
            (
                format!("t={NOW}"),
                SignatureError::Malformed("the Stripe-Signature header"),
            ),
        ];
        for (header, err) in cases {
            assert_eq!(v.verify(Some(&header), BODY, NOW), Err(err), "{header}");
        }
        // The timestamp is signed: moving it breaks the signature.
        let moved = good.replace(&format!("t={}", NOW - 10), &format!("t={NOW}"));
        assert_eq!(
            v.verify(Some(&moved), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            v.verify(None, BODY, NOW),
            Err(SignatureError::Missing("the Stripe-Signature header"))
        );
    }

    #[test]
    fn plain_hmac_takes_hex_base64_and_the_sha256_prefix() {
        let v = Verification::HmacSha256 {
            secret: "s3".into(),
        };
        let hex = hmac_hex("s3", BODY);
        let b64 = base64::engine::general_purpose::STANDARD.encode(hex::decode(&hex).unwrap());
        for proof in [hex.clone(), format!("sha256={hex}"), b64] {
            assert_eq!(v.verify(Some(&proof), BODY, NOW), Ok(()), "{proof}");
        }
        assert_eq!(
            v.verify(Some(&hmac_hex("s4", BODY)), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            v.verify(Some("zz"), BODY, NOW),
            Err(SignatureError::Malformed("the signature header"))
        );
    }

    #[test]
    fn basic_and_bearer_compare_the_whole_secret() {
        let basic = Verification::Basic {
            credentials: "shop:pw".into(),
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode("shop:pw");
        assert_eq!(
            basic.verify(Some(&format!("Basic {encoded}")), BODY, NOW),
            Ok(())
        );
        let wrong = base64::engine::general_purpose::STANDARD.encode("shop:pw2");
        assert_eq!(
            basic.verify(Some(&format!("basic {wrong}")), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        let bearer = Verification::Bearer {
            token: "tok".into(),
        };
        assert_eq!(bearer.verify(Some("Bearer tok"), BODY, NOW), Ok(()));
        assert_eq!(
            bearer.verify(Some("Bearer to"), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            bearer.verify(Some("tok"), BODY, NOW),
            Err(SignatureError::Malformed("the Authorization header"))
        );
        let url = Verification::UrlToken {
            token: "tok".into(),
        };
        assert_eq!(url.verify(Some("tok"), BODY, NOW), Ok(()));
        assert_eq!(
            url.verify(Some("tok2"), BODY, NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            url.verify(None, BODY, NOW),
            Err(SignatureError::Missing("the `token` query parameter"))
        );
        assert_eq!(url.proof_source("x"), ProofSource::Query("token"));
    }
}
