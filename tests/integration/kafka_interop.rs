//! Interoperability with an independent Kafka client (kafka-python): it
//! reads streamplug's events as CloudEvents (binary-mode headers, W3C trace
//! context), and a CloudEvent it produces in binary mode is handled by a
//! plugin like any other.

use serde_json::{Value, json};
use streamplug_tests::{Backend, TestGateway, eventually, kafka_client, recorder_manifest};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_python_reads_cloudevents_headers_and_its_binary_mode_events_reach_plugins() {
    let gw = TestGateway::on(Backend::Kafka, &recorder_manifest(""))
        .await
        .unwrap();
    let bootstrap = gw.bootstrap().unwrap();
    let a = gw
        .client
        .post(format!("{}/v1/events", gw.url))
        .header("traceparent", TRACEPARENT)
        .json(&json!({"type": "product.viewed", "customer": "alice", "data": {"product": "tent"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 202);
    let receipt: Value = a.json().await.unwrap();
    let id = receipt["events"][0]["id"].as_str().unwrap().to_owned();

    // The outside client sees a CloudEvent in binary mode.
    let out = tokio::task::spawn_blocking({
        let bootstrap = bootstrap.clone();
        move || kafka_client(&["consume", &bootstrap, "customer-interactions", "1"])
    })
    .await
    .unwrap()
    .unwrap();
    let record: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let headers = &record["headers"];
    assert_eq!(headers["ce_id"], id.as_str(), "{record}");
    assert_eq!(headers["ce_specversion"], "1.0");
    assert_eq!(headers["ce_type"], "product.viewed");
    assert_eq!(headers["ce_subject"], "alice");
    assert!(headers["ce_source"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(headers["ce_time"].as_str().is_some());
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["traceparent"], TRACEPARENT, "trace context carried");
    assert_eq!(record["key"], "alice");
    let data: Value = serde_json::from_str(record["value"].as_str().unwrap()).unwrap();
    assert_eq!(data, json!({"product": "tent"}));

    // A binary-mode CloudEvent from the outside client is handled by the plugin.
    let spec = json!({
        "key": "bob",
        "headers": {
            "ce_specversion": "1.0",
            "ce_id": "py-0001",
            "ce_source": "/kafka-python",
            "ce_type": "product.viewed",
            "ce_subject": "bob",
            "content-type": "application/json",
            "traceparent": TRACEPARENT,
        },
        "value": r#"{"product": "stove"}"#,
    })
    .to_string();
    tokio::task::spawn_blocking(move || {
        kafka_client(&["produce", &bootstrap, "customer-interactions", &spec])
    })
    .await
    .unwrap()
    .unwrap();
    let audit = eventually("the plugin to handle the outside event", || async {
        let audit = gw.events("audit").await?;
        Ok(audit
            .iter()
            .find(|e| e["event"]["causationid"] == "py-0001")
            .cloned())
    })
    .await
    .unwrap();
    assert_eq!(
        audit["event"]["traceparent"].as_str().map(|t| &t[..35]),
        Some(&TRACEPARENT[..35]),
        "{audit}"
    );
    assert_eq!(
        gw.kv("recorder", "seen:py-0001").await.unwrap(),
        Some(json!(1))
    );
    gw.stop().await;
}
