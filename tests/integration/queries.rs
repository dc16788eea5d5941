//! Queries (`GET /v1/plugins/{plugin}/queries/{name}/{key}`): a plugin's
//! read-only answer about one key, from its committed state, to whoever may
//! ask about that key: the customer itself, or a key or staff member with
//! the `query:` scope. A query changes nothing: its writes, publishes,
//! timers and outbound requests fail. The plugin's errors map to 400, 404
//! and 503; a trap to a 500 that does not leak the trap's text.

use serde_json::{Value, json};
use streamplug_tests::{
    JWT_SECRET, TEST_KEY, TestGateway, eventually, keyed_client, recorder_manifest,
};

const SUPPORT_KEY: &str = "spk_support_0123456789abcdefghijklmnopqrstuvwxyzAB";
const READER_KEY: &str = "spk_reader_0123456789abcdefghijklmnopqrstuvwxyzABC";

fn settings() -> String {
    let key = |name: &str, secret: &str, scopes: &str| {
        format!(
            "[[auth.api_keys]]\nname = \"{name}\"\nsha256 = \"{}\"\nscopes = {scopes}\n",
            streamplug::auth::api_keys::hex_digest(secret)
        )
    };
    format!(
        "[auth]\njwt_secret = \"{JWT_SECRET}\"\ndev_tokens = true\n{}{}{}{}",
        key("tests", TEST_KEY, "[\"operator\"]"),
        key("support", SUPPORT_KEY, "[\"query:recorder\"]"),
        key("reader", READER_KEY, "[\"read:*\"]"),
        recorder_manifest("")
    )
}

async fn ask(client: &reqwest::Client, gw: &TestGateway, path: &str) -> (u16, Value) {
    let a = client
        .get(format!("{}/v1/plugins/recorder/queries/{path}", gw.url))
        .send()
        .await
        .unwrap();
    let status = a.status().as_u16();
    (status, a.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_answers_from_committed_state_to_whoever_may_ask_and_changes_nothing() {
    let gw = TestGateway::with_plugins(&settings()).await.unwrap();
    for (customer, product) in [("alice", "tent"), ("alice", "stove"), ("bob", "lamp")] {
        let a = gw
            .post(&json!({"type": "product.viewed", "customer": customer, "data": {"product": product}}))
            .await
            .unwrap();
        assert_eq!(a.status, 202, "{}", a.json);
    }
    for (customer, n) in [("alice", 2), ("bob", 1)] {
        eventually(&format!("{customer}'s events handled"), || async {
            let order = gw.kv("recorder", &format!("order:{customer}")).await?;
            Ok(order.filter(|o| o.as_array().is_some_and(|a| a.len() == n)))
        })
        .await
        .unwrap();
    }

    // Alice asks about herself; the answer is the plugin's JSON.
    let alice = keyed_client(&gw.token("alice").await.unwrap()).unwrap();
    let (status, answer) = ask(&alice, &gw, "order/alice").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer.as_array().map(Vec::len), Some(2), "{answer}");
    // Not about bob.
    let (status, problem) = ask(&alice, &gw, "order/bob").await;
    assert_eq!(status, 403, "{problem}");
    // A key with `query:recorder` asks about anyone; one without cannot.
    let support = keyed_client(SUPPORT_KEY).unwrap();
    let (status, answer) = ask(&support, &gw, "order/bob").await;
    assert_eq!((status, answer.as_array().map(Vec::len)), (200, Some(1)));
    let reader = keyed_client(READER_KEY).unwrap();
    let (status, problem) = ask(&reader, &gw, "order/bob").await;
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("query:recorder"),
        "{problem}"
    );
    let (status, _) = ask(&reqwest::Client::new(), &gw, "order/bob").await;
    assert_eq!(status, 401);

    // The plugin's errors.
    let (status, problem) = ask(&support, &gw, "order/nobody").await;
    assert_eq!(status, 404, "{problem}");
    let (status, problem) = ask(&support, &gw, "no-such-query/bob").await;
    assert_eq!(status, 404, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("no-such-query")
    );
    let (status, problem) = ask(&support, &gw, "bad-args/bob?x=1").await;
    assert_eq!(status, 400, "{problem}");
    let (status, problem) = ask(&support, &gw, "trap/bob").await;
    assert_eq!(status, 500, "{problem}");
    assert!(
        !problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("panicked"),
        "the trap's text stays in the plugin's log: {problem}"
    );
    let a = gw
        .client
        .get(format!("{}/v1/plugins/nothing/queries/order/bob", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 404);

    // Read-only: every effect fails, and nothing was written or sent.
    let (status, answer) = ask(&support, &gw, "write/bob").await;
    assert_eq!(status, 200, "{answer}");
    for what in ["kv", "publish", "timer"] {
        let said = answer[what].as_str().unwrap_or_default();
        assert!(
            said.contains("Err(") && said.contains("read-only"),
            "{what}: {answer}"
        );
    }
    let (status, answer) = ask(&support, &gw, "fetch/bob?url=http://127.0.0.1:9/x").await;
    assert_eq!(status, 200, "{answer}");
    // The recorder is granted that host; a query is still denied it.
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("not granted"),
        "{answer}"
    );
    assert!(gw.kv("recorder", "q").await.unwrap().is_none());
    let audit = gw.events("audit").await.unwrap();
    assert!(
        audit.iter().all(|e| e["event"]["type"] != "audit.query"),
        "{audit:?}"
    );
    gw.stop().await;
}
