//! Outbound HTTP through the host: credentials the host attaches and the
//! plugin never sees, OAuth tokens fetched and refreshed by the host, names
//! that resolve to private addresses refused, bounded responses.

use std::sync::{Arc, Mutex};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};
use streamplug_tests::local_server::LocalServer;
use streamplug_tests::{TestGateway, view};

/// What the upstream double saw.
#[derive(Default)]
struct Seen {
    token_requests: Vec<Vec<(String, String)>>,
    authorizations: Vec<String>,
}

type Shared = Arc<Mutex<Seen>>;

async fn token(
    State(seen): State<Shared>,
    Form(form): Form<Vec<(String, String)>>,
) -> impl IntoResponse {
    let mut seen = seen.lock().unwrap();
    seen.token_requests.push(form);
    let n = seen.token_requests.len();
    axum::Json(json!({
        "access_token": format!("00Dtok-{n}-abcdefgh"),
        "instance_url": "http://127.0.0.1",
        "token_type": "Bearer",
        "issued_at": "1699999999999"
    }))
}

/// Echoes the request headers back, in the body and in a header; the first
/// token is answered with 401 as if its session had expired.
async fn echo(State(seen): State<Shared>, headers: HeaderMap) -> impl IntoResponse {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    seen.lock()
        .unwrap()
        .authorizations
        .push(authorization.clone());
    if authorization.contains("tok-1-") {
        return (
            StatusCode::UNAUTHORIZED,
            [("x-echo-authorization", authorization)],
            axum::Json(
                json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
            ),
        );
    }
    let all: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
        .collect();
    (
        StatusCode::OK,
        [("x-echo-authorization", authorization)],
        axum::Json(Value::Object(all)),
    )
}

async fn upstream() -> (LocalServer, Shared) {
    let seen = Shared::default();
    let app = axum::Router::new()
        .route("/services/oauth2/token", post(token))
        .route("/echo", get(echo))
        .route("/big", get(|| async { "x".repeat(4096) }))
        .with_state(seen.clone());
    (LocalServer::start(app).await.unwrap(), seen)
}

fn recorder(origin: &str, extra: &str) -> String {
    format!(
        r#"
[credentials.crm]
kind = "oauth2_client_credentials"
token_url = "{origin}/services/oauth2/token"
client_id = "3MVG9-client"
client_secret = "client-secret-8A4BE6"

[[plugins]]
name = "recorder"
wasm = "fixture_recorder.wasm"
subscribe = ["customer-interactions"]
publish = ["audit"]
allowed_hosts = ["{origin}"]
{extra}
[plugins.limits]
http_max_response_bytes = 1024
"#
    )
}

/// Send a view whose handling GETs `url`; the recorder's outcome.
async fn fetch(gw: &TestGateway, url: &str) -> Value {
    let mut event = view("c1", "p");
    event["data"]["http"] = json!(url);
    let a = gw.post(&event).await.unwrap();
    let id = a.json["events"][0]["id"].as_str().unwrap().to_owned();
    streamplug_tests::eventually("the plugin to record the outcome", || async {
        gw.kv("recorder", &format!("http:{id}")).await
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_attaches_and_refreshes_credentials_the_plugin_never_sees() {
    let (server, seen) = upstream().await;
    let origin = server.url.clone();
    let manifest = recorder(
        &origin,
        &format!("credentials = {{ \"{origin}\" = \"crm\" }}"),
    );
    let gw = TestGateway::with_plugins(&manifest).await.unwrap();

    let outcome = fetch(&gw, &format!("{origin}/echo")).await;
    assert_eq!(outcome["status"], 200, "{outcome}");
    // The upstream got a fresh token after the first one was refused...
    {
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.token_requests.len(),
            2,
            "fetched, then refreshed after 401"
        );
        let form = &seen.token_requests[0];
        assert!(form.contains(&("grant_type".into(), "client_credentials".into())));
        assert!(form.contains(&("client_id".into(), "3MVG9-client".into())));
        assert!(form.contains(&("client_secret".into(), "client-secret-8A4BE6".into())));
        assert_eq!(
            seen.authorizations,
            ["Bearer 00Dtok-1-abcdefgh", "Bearer 00Dtok-2-abcdefgh"]
        );
    }
    // ...and the plugin saw the echo with every secret redacted.
    let text = outcome.to_string();
    assert!(!text.contains("00Dtok-"), "token leaked: {text}");
    assert!(!text.contains("client-secret"), "secret leaked: {text}");
    assert_eq!(
        outcome["headers"]["x-echo-authorization"],
        "Bearer [redacted]"
    );
    assert!(outcome["body"].as_str().unwrap().contains("[redacted]"));

    // The token is cached: the next call fetches none.
    let again = fetch(&gw, &format!("{origin}/echo")).await;
    assert_eq!(again["status"], 200);
    assert_eq!(seen.lock().unwrap().token_requests.len(), 2);

    // Responses are bounded.
    let big = fetch(&gw, &format!("{origin}/big")).await;
    assert!(
        big["error"].as_str().unwrap().contains("too large"),
        "{big}"
    );
    gw.stop().await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_granted_name_that_resolves_to_a_private_address_is_refused_unless_listed() {
    let (server, seen) = upstream().await;
    let port = server.url.rsplit_once(':').unwrap().1;
    let by_name = format!("http://localhost:{port}");

    let gw = TestGateway::with_plugins(&recorder(&by_name, ""))
        .await
        .unwrap();
    let refused = fetch(&gw, &format!("{by_name}/echo")).await;
    let error = refused["error"].as_str().unwrap();
    assert!(
        error.contains("localhost") && error.contains("private address"),
        "{refused}"
    );
    assert!(
        seen.lock().unwrap().authorizations.is_empty(),
        "never called"
    );
    gw.stop().await;

    let listed = recorder(&by_name, "private_hosts = [\"localhost\"]");
    let gw = TestGateway::with_plugins(&listed).await.unwrap();
    let outcome = fetch(&gw, &format!("{by_name}/echo")).await;
    assert_eq!(outcome["status"], 200, "{outcome}");
    gw.stop().await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_plugin_importing_outbound_http_without_hosts_starts_warned_and_reaches_nothing()
 {
    // Whether a plugin calls out can depend on its config (order-processor
    // takes payment only when given a provider): it starts, the log book
    // says why its requests will fail, and each one is denied.
    let (server, seen) = upstream().await;
    let gw = TestGateway::with_plugins(
        "[[plugins]]\nname = \"recorder\"\nwasm = \"fixture_recorder.wasm\"\n\
         subscribe = [\"customer-interactions\"]\npublish = [\"audit\"]\n",
    )
    .await
    .unwrap();
    let denied = fetch(&gw, &format!("{}/echo", server.url)).await;
    assert!(denied["error"].is_string(), "{denied}");
    assert!(
        seen.lock().unwrap().authorizations.is_empty(),
        "never called"
    );
    let lines = gw.gateway.loader.logs().read("recorder", 0, 100);
    assert!(
        lines.iter().any(|l| l.level == "warn"
            && l.message.contains("wasi:http/outgoing-handler")
            && l.message.contains("grants no `allowed_hosts`")),
        "{lines:?}"
    );
    gw.stop().await;
}
