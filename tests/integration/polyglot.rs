//! Plugins in other languages than Rust, built from source by the test
//! command with the registry toolchains, running in the gateway through the
//! same paths as the Rust plugins.
//!
//! Python: `examples/fraud-flagger` (componentize-py and the Python SDK in
//! `sdk/python`), with the manifest from its `plugin.toml`.

use serde_json::{Value, json};
use streamplug_tests::TestGateway;

fn example_manifest(example: &str) -> String {
    let path = format!(
        "{}/../examples/{example}/plugin.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn order(customer: &str, order: &str, total: f64) -> Value {
    json!({"type": "order.placed", "customer": customer, "data": {
        "order": order, "items": [{"product": "p1", "quantity": 1, "price": total}],
        "total": total, "currency": "EUR"}})
}

fn cancelled(customer: &str, order: &str) -> Value {
    json!({"type": "order.cancelled", "customer": customer, "data": {"order": order}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_plugin_flags_risky_orders() {
    let gw = TestGateway::with_plugins(&format!(
        "[topics.risk-alerts]\npartitions = 1\n{}",
        example_manifest("fraud-flagger")
    ))
    .await
    .unwrap();
    let mut events: Vec<Value> = (1..=4)
        .map(|i| order("mallory", &format!("m-{i}"), 80.0))
        .collect();
    events.push(order("whale", "w-1", 900.0));
    events.extend([
        order("flaky", "f-1", 20.0),
        cancelled("flaky", "f-1"),
        order("flaky", "f-2", 20.0),
        cancelled("flaky", "f-2"),
        order("flaky", "f-3", 20.0),
    ]);
    events.push(order("alice", "a-1", 50.0));
    for event in &events {
        let a = gw.post(event).await.unwrap();
        assert_eq!(a.status, 202, "{}", a.json);
    }

    let alerts = gw.wait_for_events("risk-alerts", 3).await.unwrap();
    let mut flagged: Vec<(String, String)> = alerts
        .iter()
        .map(|e| {
            assert_eq!(e["event"]["type"], "order.flagged", "{e}");
            let data = &e["event"]["data"];
            (
                data["order"].as_str().unwrap().to_owned(),
                data["reasons"][0].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    flagged.sort();
    assert_eq!(
        flagged,
        [
            ("f-3".to_owned(), "2 cancelled orders before".to_owned()),
            (
                "m-4".to_owned(),
                "4 orders within an hour (limit 3)".to_owned()
            ),
            (
                "w-1".to_owned(),
                "first order of 900.00 EUR exceeds 500.00".to_owned()
            ),
        ]
    );
    // Every event handled (the last one too), none dead-lettered.
    streamplug_tests::eventually("alice's order to be handled", || async {
        gw.kv("fraud-flagger", "customer:alice").await
    })
    .await
    .unwrap();
    assert!(gw.events("dlq.fraud-flagger").await.unwrap().is_empty());
    assert_eq!(gw.events("risk-alerts").await.unwrap().len(), 3);
    let logged = gw.gateway.loader.logs().read("fraud-flagger", 0, 100);
    assert!(
        logged
            .iter()
            .any(|l| l.level == "warn" && l.message.contains("order m-4 of mallory flagged")),
        "{logged:?}"
    );
    gw.stop().await;
}
