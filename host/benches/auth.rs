//! What authenticating one request costs: finding an API key by its
//! SHA-256, and verifying a customer JWT signed with HS256 (the gateway's
//! secret) and with ES256 and RS256 (an identity provider's JWKS keys), as
//! every request after a token's first meets it (verified-token cache) and
//! the first time (the signature checked). Set
//! against the gateway's CPU per ingested event (docs/BENCHMARKS.md) it is
//! the share of throughput authentication costs.
//!
//! Run: `cargo bench -p streamplug --bench auth`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use streamplug::auth::{Authenticator, api_keys};
use streamplug::config::{ApiKeySettings, AuthSettings};

const KEY: &str = "spk_bench_0123456789abcdefghijklmnopqrstuvwxyzABCDE";

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/keys")
}

fn authenticator(runtime: &tokio::runtime::Runtime) -> Authenticator {
    let settings = AuthSettings {
        jwt_secret: Some("bench-secret-0123456789abcdef".into()),
        jwks: Some(keys_dir().join("jwks.json").display().to_string()),
        issuer: Some("https://idp.example".into()),
        audience: Some("streamplug".into()),
        api_keys: (0..20)
            .map(|i| ApiKeySettings {
                name: format!("service-{i}"),
                sha256: Some(api_keys::hex_digest(&format!("{KEY}{i}"))),
                key: None,
                scopes: vec!["ingest:order.*".into()],
                rate_per_sec: None,
            })
            .collect(),
        ..AuthSettings::default()
    };
    runtime
        .block_on(Authenticator::from_settings(&settings, None))
        .unwrap()
}

/// A token of the identity provider, signed with the test key `kid`
/// (`tests/keys/<kid without "test-">.pem`).
fn signed(alg: jsonwebtoken::Algorithm, kid: &str) -> String {
    let pem = std::fs::read(keys_dir().join(format!("{}.pem", &kid[5..]))).unwrap();
    let key = match alg {
        jsonwebtoken::Algorithm::ES256 => jsonwebtoken::EncodingKey::from_ec_pem(&pem),
        _ => jsonwebtoken::EncodingKey::from_rsa_pem(&pem),
    }
    .unwrap();
    let mut header = jsonwebtoken::Header::new(alg);
    header.kid = Some(kid.to_owned());
    let claims = serde_json::json!({"sub": "customer-4711", "exp": 4_000_000_000u64,
        "iss": "https://idp.example", "aud": "streamplug"});
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let auth = authenticator(&runtime);
    let hs256 = auth.tokens.sign("customer-4711", 3600).unwrap();
    let es256 = signed(jsonwebtoken::Algorithm::ES256, "test-es256");
    let rs256 = signed(jsonwebtoken::Algorithm::RS256, "test-rs256");
    let key = format!("{KEY}7");
    let mut group = c.benchmark_group("authenticate");
    for (name, credential) in [
        ("api key", key.as_str()),
        ("jwt hs256", hs256.as_str()),
        ("jwt es256 (jwks)", es256.as_str()),
        ("jwt rs256 (jwks)", rs256.as_str()),
    ] {
        assert!(
            runtime.block_on(auth.principal(credential)).is_ok(),
            "{name}"
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime
                    .block_on(auth.principal(black_box(credential)))
                    .unwrap()
            });
        });
        if name != "api key" {
            // The first request with a token: its signature checked.
            group.bench_function(format!("{name}, signature"), |b| {
                b.iter(|| {
                    runtime
                        .block_on(auth.tokens.verify_signature(black_box(credential)))
                        .unwrap()
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
