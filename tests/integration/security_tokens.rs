//! Tokens at the trust boundary: an identity provider's tokens checked
//! against its JWKS, and the refusal of a session a strict WebSocket client
//! can read (4401 with a reason that fits the frame; Origin allowlist).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use streamplug_tests::{TestGateway, closed, keyed_client, view, workspace_path};

use crate::security::post_as;

fn signed(alg: Algorithm, kid: &str, pem: &str, claims: &Value) -> String {
    let pem = std::fs::read(workspace_path(&format!("tests/keys/{pem}"))).unwrap();
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem).unwrap(),
        _ => EncodingKey::from_rsa_pem(&pem).unwrap(),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_provider_tokens_are_verified_against_its_jwks() {
    let jwks = workspace_path("tests/keys/jwks.json");
    let gw = TestGateway::with_plugins(&format!(
        "[auth]\njwks = \"{}\"\nissuer = \"https://idp.example\"\naudience = \"streamplug\"\n\
         [auth.roles]\nsupport = [\"read:customer-interactions\"]\n",
        jwks.display()
    ))
    .await
    .unwrap();
    let far = 4_000_000_000u64;
    let claims = |sub: &str, aud: &str, roles: &[&str]| json!({"sub": sub, "exp": far, "iss": "https://idp.example", "aud": aud, "roles": roles});
    let customer = signed(
        Algorithm::ES256,
        "test-es256",
        "es256.pem",
        &claims("alice", "streamplug", &[]),
    );
    let mine = json!({"type": "product.viewed", "data": {"product": "tent"}});
    assert_eq!(post_as(&gw, &customer, &mine).await, 202);
    let staff = signed(
        Algorithm::RS256,
        "test-rs256",
        "rs256.pem",
        &claims("sam", "streamplug", &["support"]),
    );
    let staff = keyed_client(&staff).unwrap();
    let read = |client: reqwest::Client, topic: &'static str| {
        let url = format!("{}/v1/topics/{topic}/events", gw.url);
        async move { client.get(url).send().await.unwrap().status() }
    };
    assert_eq!(read(staff.clone(), "customer-interactions").await, 200);
    assert_eq!(read(staff, "order-events").await, 403);
    // Another audience, a key the set does not hold, an algorithm swapped
    // for its key's: refused.
    for bad in [
        signed(
            Algorithm::ES256,
            "test-es256",
            "es256.pem",
            &claims("alice", "other-api", &[]),
        ),
        signed(
            Algorithm::ES256,
            "unknown-kid",
            "es256.pem",
            &claims("alice", "streamplug", &[]),
        ),
        signed(
            Algorithm::RS256,
            "test-es256",
            "rs256.pem",
            &claims("alice", "streamplug", &[]),
        ),
    ] {
        assert_eq!(post_as(&gw, &bad, &view("alice", "tent")).await, 401);
    }
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_websocket_client_reads_4401_with_a_reason_that_fits_the_frame() {
    let gw = TestGateway::with_plugins(
        "[auth]\njwt_secret = \"test-secret-0123456789\"\n[auth.roles]\nops = [\"metrics\"]\n",
    )
    .await
    .unwrap();
    // A staff token may not open a customer session; its subject makes the
    // reason far longer than a close frame holds.
    let claims = json!({"sub": "s".repeat(190), "exp": 4_000_000_000u64, "roles": "ops"});
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"test-secret-0123456789"),
    )
    .unwrap();
    let mut ws = gw.ws(&format!("token={token}")).await.unwrap();
    let (code, reason) = closed(&mut ws).await.unwrap();
    assert_eq!(code, 4401);
    assert!(
        reason.len() <= 123 && reason.contains("sessions are for customers"),
        "{reason}"
    );
    // An Origin outside the allowlist is refused before the upgrade.
    let gw2 =
        TestGateway::with_plugins("[websocket]\nallowed_origins = [\"https://shop.example\"]\n")
            .await
            .unwrap();
    let token = gw2.token("alice").await.unwrap();
    let url = format!(
        "{}/v1/ws?token={token}",
        gw2.url.replace("http://", "ws://")
    );
    for (origin, ok) in [
        ("https://evil.example", false),
        ("https://shop.example", true),
    ] {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let mut request = url.as_str().into_client_request().unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        let result = tokio_tungstenite::connect_async(request).await;
        assert_eq!(result.is_ok(), ok, "{origin}");
    }
    gw.stop().await;
    gw2.stop().await;
}
