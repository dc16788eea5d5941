//! Restarts: no acknowledged event is lost, and events a plugin had not
//! committed are delivered again.

use rstest::rstest;
use serde_json::json;
use streamplug_tests::{Backend, Stores, TestGateway, config_on, recorder_manifest, view};

fn recorder(hold: &str) -> String {
    // A held event waits a minute between attempts: it is still uncommitted
    // when the gateway stops.
    recorder_manifest(&format!(
        "[plugins.retry]
max_attempts = 100
initial_backoff_ms = 60000
[plugins.config]
hold = \"{hold}\""
    ))
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_loses_no_acknowledged_event_and_redelivers_uncommitted_ones(
    #[case] backend: Backend,
) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let stores = Stores::start(backend).unwrap();
    let gw = TestGateway::start(&config_on(&stores, &data, &recorder("on")).unwrap())
        .await
        .unwrap();
    // One customer, one partition: three events handled, then one the plugin
    // holds (asks to retry in a minute), then two behind it.
    let mut batch: Vec<_> = (0..3).map(|i| view("c1", &format!("before{i}"))).collect();
    batch.push(json!({"type": "product.viewed", "customer": "c1", "data": {"product": "held", "hold": true}}));
    batch.extend((0..2).map(|i| view("c1", &format!("after{i}"))));
    let a = gw.post(&json!(batch)).await.unwrap();
    assert_eq!(a.status, 202);
    let acked: Vec<String> = a.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    gw.wait_for_events("audit", 3).await.unwrap();
    gw.stop().await;

    let gw = TestGateway::start(&config_on(&stores, &data, &recorder("off")).unwrap())
        .await
        .unwrap();
    let stored = gw.event_ids("customer-interactions").await.unwrap();
    assert_eq!(
        stored, acked,
        "every acknowledged event is still there, in order"
    );
    let audit = gw.wait_for_events("audit", 6).await.unwrap();
    assert_eq!(audit.len(), 6);
    for id in &acked {
        assert_eq!(
            gw.kv("recorder", &format!("seen:{id}")).await.unwrap(),
            Some(json!(1)),
            "handled once: {id}"
        );
    }
    gw.stop().await;
}
