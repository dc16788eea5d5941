//! The bodies of the coverage-guided fuzz targets (`fuzz/`, cargo-fuzz):
//! the parsers that read what the internet sends. Each takes raw bytes,
//! must never panic, and checks what must hold of what it accepts. They
//! live here so the corpus and every crash found replay in `cargo test`
//! (`fuzz/regressions/`), not only under the fuzzer.

use std::sync::OnceLock;

use serde_json::Value;

use crate::auth::TokenVerifier;
use crate::event::cloudevents::parse_object;
use crate::event::vocabulary;
use crate::storage::kafka::cloudevents::{Record, from_record, to_record};
use crate::ws::frames::ResumeToken;

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

/// A bearer JWT (header, claims, signature): nothing an attacker writes
/// without the secret is accepted.
pub fn jwt(data: &[u8]) {
    static VERIFIER: OnceLock<(TokenVerifier, tokio::runtime::Runtime)> = OnceLock::new();
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let (verifier, runtime) = VERIFIER.get_or_init(|| {
        let verifier = TokenVerifier::new(
            Some("fuzz-secret-0123456789abcdef0123456789"),
            None,
            None,
            None,
            "roles".into(),
            std::collections::HashMap::new(),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("a runtime: {e}"));
        (verifier, runtime)
    });
    let verdict = runtime.block_on(verifier.verify_signature(token));
    assert!(verdict.is_err(), "accepted without the secret: {token}");
}

#[cfg(test)]
mod tests {
    /// Every input in `fuzz/regressions/<target>/` (crashes the fuzzer
    /// found, and seeds) replays without a panic.
    fn replay(target: &str, run: fn(&[u8])) {
        let dir = format!(
            "{}/../fuzz/regressions/{target}",
            env!("CARGO_MANIFEST_DIR")
        );
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

    #[test]
    fn ingest_body_regressions_replay() {
        replay("ingest_body", super::ingest_body);
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
