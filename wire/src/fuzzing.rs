//! The bodies of the coverage-guided fuzz targets (`fuzz/`, cargo-fuzz):
//! the parsers that read what the internet sends. Each takes raw bytes,
//! must never panic, and checks what must hold of what it accepts. They
//! live here so the corpus and every crash found replay in `cargo test`
//! (`fuzz/regressions/`), not only under the fuzzer.

use std::io::Cursor;
use std::sync::OnceLock;

use jsonwebtoken::DecodingKey;
use serde_json::Value;
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::frame::coding::{Data, OpCode};

use crate::event::cloudevents::parse_object;
use crate::event::vocabulary;
use crate::jwt::{ClaimsPolicy, KeyRequest};
use crate::kafka_binding::{Record, from_record, to_record};
use crate::resume_token::ResumeToken;

/// An ingest body (`POST /v1/events`, a session's event frame): JSON, one
/// event or a batch, each parsed and checked against the vocabulary as the
/// pipeline does. What is accepted is within the attribute bounds.
pub fn ingest_body(data: &[u8]) {
    let Ok(mut json) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    crate::json_number::integral_as_integers(&mut json);
    let objects = match json {
        Value::Array(items) => items,
        other => vec![other],
    };
    for (i, object) in objects.into_iter().enumerate() {
        let at = format!("/{i}");
        let Ok(incoming) = parse_object(object, &at) else {
            continue;
        };
        let event = incoming.event;
        assert!(crate::event::limits::check(&event, &at).is_ok());
        let _ = vocabulary::validate(
            &event.ty,
            event.subject.as_deref(),
            incoming.data.as_ref(),
            &at,
        );
    }
}

/// A WebSocket frame off the wire, as a session reads it: the frame header
/// (tungstenite's parser, the one the gateway's sessions use), the payload
/// unmasked, and a text frame's payload as an event frame
/// ([`ingest_body`]).
pub fn ws_frame(data: &[u8]) {
    let mut cursor = Cursor::new(data);
    let Ok(Some((header, length))) = FrameHeader::parse(&mut cursor) else {
        return;
    };
    let start = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
    let Some(payload) = usize::try_from(length)
        .ok()
        .and_then(|len| data.get(start..start.checked_add(len)?))
    else {
        return;
    };
    let mut payload = payload.to_vec();
    if let Some(mask) = header.mask {
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
    }
    if header.opcode == OpCode::Data(Data::Text) && std::str::from_utf8(&payload).is_ok() {
        ingest_body(&payload);
    }
}

/// A Kafka record read back as a CloudEvent (binary mode: `ce_` headers):
/// any record gives an event, and writing that event and reading it again
/// gives the same event.
pub fn kafka_record(data: &[u8]) {
    let record = record_from(data);
    let event = from_record("t", 0, 7, &record);
    let again = from_record("t", 0, 7, &to_record(&event));
    assert_eq!(event, again, "{record:?}");
}

/// A record from fuzz bytes: parts split at `0xff` (key, then header
/// name/value pairs, then the value).
fn record_from(data: &[u8]) -> Record {
    let mut parts = data.split(|b| *b == 0xff);
    let key = parts.next().filter(|k| !k.is_empty()).map(<[u8]>::to_vec);
    let mut rest: Vec<&[u8]> = parts.collect();
    let value = rest.pop().filter(|v| !v.is_empty()).map(<[u8]>::to_vec);
    let headers = rest
        .chunks(2)
        .map(|pair| {
            let name = String::from_utf8_lossy(pair[0]).into_owned();
            (name, pair.get(1).map_or_else(Vec::new, |v| v.to_vec()))
        })
        .collect();
    Record {
        key,
        headers,
        value,
    }
}

/// A resume token (`?resume=` of a session): what parses prints back as
/// itself and parses to the same position.
pub fn resume_token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(token) = ResumeToken::parse(text) {
        assert_eq!(ResumeToken::parse(&token.to_string()), Some(token));
    }
}

/// A bearer JWT (header, claims, signature) read as the gateway reads it:
/// nothing an attacker writes without the secret is accepted, and no
/// algorithm outside the allowlist is asked for.
pub fn jwt(data: &[u8]) {
    static SECRET: OnceLock<(DecodingKey, ClaimsPolicy)> = OnceLock::new();
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let (key, policy) = SECRET.get_or_init(|| {
        let key = DecodingKey::from_secret(b"fuzz-secret-0123456789abcdef0123456789");
        let policy = ClaimsPolicy {
            role_claim: "roles".into(),
            ..ClaimsPolicy::default()
        };
        (key, policy)
    });
    match crate::jwt::key_request(token) {
        Ok(KeyRequest::Secret) => {
            let verdict = crate::jwt::verify(token, key, jsonwebtoken::Algorithm::HS256, policy);
            assert!(verdict.is_err(), "accepted without the secret: {token}");
        }
        Ok(KeyRequest::Jwks { algorithm, .. }) => assert!(
            matches!(
                algorithm,
                jsonwebtoken::Algorithm::RS256 | jsonwebtoken::Algorithm::ES256
            ),
            "{algorithm:?} asked for"
        ),
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    /// Every input in `fuzz/regressions/<target>/` (crashes the fuzzer
    /// found, and hand-written seeds) and `fuzz/seeds/<target>/` (the
    /// committed corpus, minimised) replays without a panic or a failed
    /// property.
    fn replay(target: &str, run: fn(&[u8])) {
        for kind in ["regressions", "seeds"] {
            let dir = format!("{}/../fuzz/{kind}/{target}", env!("CARGO_MANIFEST_DIR"));
            let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
            let mut replayed = 0;
            for entry in entries {
                let path = entry.unwrap_or_else(|e| panic!("{dir}: {e}")).path();
                let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                run(&data);
                replayed += 1;
            }
            assert!(replayed > 0, "{dir} holds no inputs");
        }
    }

    #[test]
    fn ingest_body_regressions_replay() {
        replay("ingest_body", super::ingest_body);
    }

    #[test]
    fn ws_frame_regressions_replay() {
        replay("ws_frame", super::ws_frame);
    }

    #[test]
    fn kafka_record_regressions_replay() {
        replay("kafka_record", super::kafka_record);
    }

    #[test]
    fn resume_token_regressions_replay() {
        replay("resume_token", super::resume_token);
    }

    #[test]
    fn jwt_regressions_replay() {
        replay("jwt", super::jwt);
    }
}
