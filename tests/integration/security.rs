//! The trust boundary, attacked from outside with real sockets: anonymous
//! callers, customers reaching beyond themselves, keys beyond their scopes,
//! abandoned reply waits (tokens: `security_tokens.rs`).

use serde_json::{Value, json};
use streamplug_tests::{TestGateway, eventually, keyed_client, view};

/// An API key for these tests and the `[[auth.api_keys]]` table naming it.
fn key_table(name: &str, key: &str, scopes: &[&str]) -> String {
    format!(
        "[[auth.api_keys]]\nname = \"{name}\"\nsha256 = \"{}\"\nscopes = {scopes:?}\n",
        streamplug::auth::api_keys::hex_digest(key)
    )
}

const SHOP_KEY: &str = "spk_shop_backend_0123456789abcdefghijklmnopqrstuv";
const READER_KEY: &str = "spk_order_reader_0123456789abcdefghijklmnopqrstu";

fn placed(customer: &str, order: &str) -> Value {
    json!({"type": "order.placed", "customer": customer, "data": {"order": order,
        "items": [{"product": "tent", "quantity": 1, "price": 199.0}], "total": 199.0, "currency": "EUR"}})
}

fn profile(customer: &str) -> Value {
    json!({"type": "customer.updated", "customer": customer,
        "data": {"name": "Mallory", "email": "m@example.com", "phone": "41793026727"}})
}

/// POST `body` to `/v1/events` with `Authorization: Bearer <credential>`;
/// the status.
pub(crate) async fn post_as(gw: &TestGateway, credential: &str, body: &Value) -> u16 {
    keyed_client(credential)
        .unwrap()
        .post(format!("{}/v1/events", gw.url))
        .json(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn held(gw: &TestGateway, topic: &str) -> u64 {
    gw.ends(topic).await.unwrap().iter().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_reach_health_readiness_and_the_demo_only() {
    let gw = TestGateway::with_plugins("").await.unwrap();
    let anonymous = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/demo"] {
        let a = anonymous
            .get(format!("{}{path}", gw.url))
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), 200, "{path}");
    }
    for path in [
        "/v1/topics",
        "/v1/topics/customer-interactions/events",
        "/v1/topics/customer-interactions-dlq/events",
        "/v1/plugins",
        "/v1/schemas",
        "/metrics",
    ] {
        let a = anonymous
            .get(format!("{}{path}", gw.url))
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), 401, "{path}");
        assert_eq!(a.headers()["www-authenticate"], "Bearer", "{path}");
        assert_eq!(a.headers()["content-type"], "application/problem+json");
    }
    // The SMS-pumping sequence: a profile with a phone number, then orders.
    for body in [profile("mallory"), placed("mallory", "o-pump-1")] {
        let a = anonymous
            .post(format!("{}/v1/events", gw.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), 401);
    }
    let forged = keyed_client("spk_not_a_configured_key_0123456789abcdefghijk").unwrap();
    let a = forged
        .post(format!("{}/v1/events", gw.url))
        .json(&view("mallory", "tent"))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 401);
    let detail: Value = a.json().await.unwrap();
    assert!(
        detail["detail"]
            .as_str()
            .unwrap()
            .contains("unknown API key"),
        "{detail}"
    );
    assert_eq!(held(&gw, "customer-interactions").await, 0);
    assert_eq!(held(&gw, "order-events").await, 0);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_token_sends_its_own_interactions_and_nothing_else() {
    let gw = TestGateway::with_plugins("").await.unwrap();
    let token = gw.token("alice").await.unwrap();
    let alice = keyed_client(&token).unwrap();
    let post = |body: Value, query: &'static str| {
        alice
            .post(format!("{}/v1/events{query}", gw.url))
            .json(&body)
            .send()
    };
    // Its own view, with or without naming itself: written, keyed by alice.
    let a = post(
        json!({"type": "product.viewed", "data": {"product": "tent"}}),
        "",
    )
    .await
    .unwrap();
    assert_eq!(a.status(), 202);
    assert_eq!(
        post(view("alice", "stove"), "").await.unwrap().status(),
        202
    );
    // Someone else's, a backend-only type, the SMS-pumping sequence: 403.
    let cases = [
        (view("bob", "tent"), "/subject"),
        (
            json!({"type": "order.cancelled", "customer": "alice", "data": {"order": "o-bob-1"}}),
            "/type",
        ),
        (profile("alice"), "/type"),
        (placed("alice", "o-pump-2"), "/type"),
        (
            json!([view("alice", "lamp"), view("bob", "lamp")]),
            "/1/subject",
        ),
    ];
    for (body, pointer) in cases {
        let a = post(body.clone(), "").await.unwrap();
        assert_eq!(a.status(), 403, "{body}");
        let problem: Value = a.json().await.unwrap();
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }
    // A customer reads no topic, no plugin list, no metrics.
    for path in [
        "/v1/topics",
        "/v1/topics/order-events/events",
        "/v1/plugins",
        "/metrics",
    ] {
        let a = alice.get(format!("{}{path}", gw.url)).send().await.unwrap();
        assert_eq!(a.status(), 403, "{path}");
    }
    let interactions = gw.events("customer-interactions").await.unwrap();
    assert_eq!(
        interactions.len(),
        2,
        "the batch with bob's event wrote nothing"
    );
    assert!(
        interactions
            .iter()
            .all(|e| e["event"]["subject"] == "alice")
    );
    assert_eq!(held(&gw, "order-events").await, 0);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_does_exactly_what_its_scopes_name() {
    let keys = format!(
        "{}{}",
        key_table(
            "shop",
            SHOP_KEY,
            &["ingest:order.*", "ingest:customer.updated"]
        ),
        key_table("reader", READER_KEY, &["read:order-events"])
    );
    let gw = TestGateway::with_plugins(&format!("{}{keys}", streamplug_tests::test_auth()))
        .await
        .unwrap();
    let shop = keyed_client(SHOP_KEY).unwrap();
    let reader = keyed_client(READER_KEY).unwrap();
    let post = |client: &reqwest::Client, body: &Value, query: &str| {
        client
            .post(format!("{}/v1/events{query}", gw.url))
            .json(body)
            .send()
    };
    assert_eq!(
        post(&shop, &profile("alice"), "").await.unwrap().status(),
        202
    );
    assert_eq!(
        post(&shop, &placed("alice", "o-1"), "")
            .await
            .unwrap()
            .status(),
        202
    );
    let a = post(&shop, &view("alice", "tent"), "").await.unwrap();
    assert_eq!(a.status(), 403);
    // Waiting for replies is a scope of its own.
    let a = post(&shop, &placed("alice", "o-2"), "?reply_timeout_ms=100")
        .await
        .unwrap();
    assert_eq!(a.status(), 403);
    assert_eq!(
        post(&reader, &placed("alice", "o-3"), "")
            .await
            .unwrap()
            .status(),
        403
    );

    let a = reader
        .get(format!("{}/v1/topics/order-events/events", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    let read: Value = a.json().await.unwrap();
    assert_eq!(read["events"].as_array().unwrap().len(), 1);
    let listed: Value = reader
        .get(format!("{}/v1/topics", gw.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["order-events"], "only what it may read");
    for (client, path) in [
        (&reader, "/v1/topics/customer-interactions/events"),
        (&reader, "/metrics"),
        (&shop, "/v1/topics/order-events/events"),
        (&shop, "/v1/plugins"),
    ] {
        let a = client
            .get(format!("{}{path}", gw.url))
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), 403, "{path}");
    }
    // The operators' key scrapes metrics, as Prometheus does with a bearer token.
    assert_eq!(gw.get("/metrics").await.unwrap().status, 200);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_reply_waits_leave_no_waiter_behind() {
    let gw = TestGateway::with_plugins("").await.unwrap();
    // Clients that give up long before the wait would end.
    let impatient = reqwest::Client::builder()
        .default_headers(
            [(
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", streamplug_tests::TEST_KEY)
                    .parse()
                    .unwrap(),
            )]
            .into_iter()
            .collect(),
        )
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    for round in 0..10 {
        let waits = (0..50).map(|i| {
            let body = json!({"type": "support.message", "customer": format!("c{i}"),
                "data": {"text": "hello?"}});
            impatient
                .post(format!("{}/v1/events?reply_timeout_ms=30000", gw.url))
                .json(&body)
                .send()
        });
        for answer in futures::future::join_all(waits).await {
            assert!(answer.is_err(), "round {round}: the client gave up first");
        }
    }
    eventually("every abandoned wait to be gone", || async {
        Ok((gw.gateway.reply_waiters() == 0).then_some(()))
    })
    .await
    .unwrap();
    assert_eq!(
        held(&gw, "support-inquiries").await,
        500,
        "the events were written"
    );
    gw.stop().await;
}

/// `streamplug config --config FILE`, as the binary prints it.
fn print_config(toml: &str) -> Result<String, String> {
    use clap::Parser as _;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("streamplug.toml");
    std::fs::write(&file, toml).unwrap();
    let cli = streamplug::cli::Cli::try_parse_from([
        "streamplug",
        "config",
        "--config",
        file.to_str().unwrap(),
    ])
    .unwrap();
    let streamplug::cli::Command::Config(args) = cli.command else {
        unreachable!("parsed as config")
    };
    streamplug::cli::effective_config(&args).map_err(|e| e.to_string())
}

#[test]
fn the_printed_configuration_holds_no_secret() {
    let text = print_config(&format!(
        "[auth]\njwt_secret = \"${{TEST_JWT_SECRET}}\"\n{}\
         [[auth.api_keys]]\nname = \"env\"\nkey = \"spk_inline_key_in_the_file_0123456789abcdefgh\"\nscopes = [\"reply\"]\n\
         [admin]\ntoken = \"admin-plain-token-1\"\n[webhooks.endpoints.infobip]\nverify = \"url-token\"\nsecret = \"hook-plain-token-1\"\n",
        key_table("shop", SHOP_KEY, &["ingest:order.*"])
    ))
    .unwrap();
    for secret in [
        "admin-plain-token-1",
        "hook-plain-token-1",
        "spk_inline_key_in_the_file",
        SHOP_KEY,
    ] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    assert!(text.contains("${TEST_JWT_SECRET}"), "{text}");
    // The demo conveniences do not start off loopback.
    let err = print_config("[server]\nlisten = \"0.0.0.0:8080\"\n[auth]\ndev_tokens = true\n")
        .unwrap_err();
    assert!(
        err.contains("auth.dev_tokens") && err.contains("not loopback"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_need_a_principal_and_a_customer_commands_only_for_itself() {
    let gw = TestGateway::with_plugins("").await.unwrap();
    let url = format!("{}/v1/commands", gw.url);
    let cancel = |customer: &str| json!({"type": "order.cancel.requested", "customer": customer, "data": {"order": "o-1"}});
    let a = reqwest::Client::new()
        .post(&url)
        .json(&cancel("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 401);
    assert_eq!(a.headers()["www-authenticate"], "Bearer");
    let forged = keyed_client("spk_not_a_configured_key_0123456789abcdefghijk").unwrap();
    let a = forged.post(&url).json(&cancel("bob")).send().await.unwrap();
    assert_eq!(a.status(), 401);
    // A customer's token cancels its own orders only.
    let alice = keyed_client(&gw.token("alice").await.unwrap()).unwrap();
    let a = alice.post(&url).json(&cancel("bob")).send().await.unwrap();
    assert_eq!(a.status(), 403);
    let problem: Value = a.json().await.unwrap();
    assert_eq!(problem["errors"][0]["pointer"], "/subject", "{problem}");
    assert_eq!(held(&gw, "commands").await, 0);
    gw.stop().await;
}
