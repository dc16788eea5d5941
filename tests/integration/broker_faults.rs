//! The Kafka backend when the broker goes away (librdkafka's mock cluster,
//! which can take its broker down and up): ingest answers 503 with
//! `Retry-After` instead of acknowledging what the broker did not, no
//! acknowledged event is lost, and the gateway recovers by itself.

use std::collections::BTreeSet;
use std::time::Instant;

use rdkafka::mocking::MockCluster;
use serde_json::Value;
use streamplug_tests::{PATIENCE, TestGateway, config, eventually, recorder_manifest, view};

async fn post_view(gw: &TestGateway, n: usize) -> (u16, Value, Option<String>) {
    let a = gw
        .post(&view(&format!("c{}", n % 5), &format!("p{n}")))
        .await
        .unwrap();
    let retry_after = a
        .headers
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (a.status, a.json, retry_after)
}

/// The topics the test configuration uses.
const TOPICS: &[&str] = &[
    "customer-interactions",
    "order-events",
    "support-inquiries",
    "engagement-events",
    "audit",
    "customer-pushes",
    "dlq.recorder",
    "webhooks",
    "commands",
    "stock",
];

fn kafka_table(cluster: &MockCluster<'_, rdkafka::producer::DefaultProducerContext>) -> String {
    format!(
        "[log]\nbackend = \"kafka\"\n[log.kafka]\nbootstrap_servers = \"{}\"\ndelivery_timeout_ms = 1500\n",
        cluster.bootstrap_servers()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_topic_that_cannot_be_created_stops_the_start_with_its_name() {
    // The mock cluster refuses CreateTopics, like a cluster whose ACLs do.
    let cluster = MockCluster::new(1).unwrap();
    for topic in TOPICS.iter().filter(|t| **t != "audit") {
        cluster.create_topic(topic, 2, 1).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let plugins = format!("{}{}", kafka_table(&cluster), recorder_manifest(""));
    let err = TestGateway::start(&config(dir.path(), &plugins).unwrap())
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("audit") && err.contains("cannot be created"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_broker_is_down_ingest_answers_503_and_no_acknowledged_event_is_lost() {
    let cluster = MockCluster::new(1).unwrap();
    for topic in TOPICS {
        cluster.create_topic(topic, 2, 1).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let plugins = format!("{}{}", kafka_table(&cluster), recorder_manifest(""));
    let gw = TestGateway::start(&config(dir.path(), &plugins).unwrap())
        .await
        .unwrap();
    eventually("the plugin to own its partitions", || async {
        Ok((!gw.gateway.ownership.of("recorder").is_empty()).then_some(()))
    })
    .await
    .unwrap();
    let mut acked = BTreeSet::new();
    let mut n = 0;
    for _ in 0..10 {
        let (status, body, _) = post_view(&gw, n).await;
        assert_eq!(status, 202, "{body}");
        acked.insert(body["events"][0]["id"].as_str().unwrap().to_owned());
        n += 1;
    }

    cluster.broker_down(1).unwrap();
    let deadline = Instant::now() + PATIENCE;
    let (problem, retry_after) = loop {
        assert!(
            Instant::now() < deadline,
            "ingest never refused while the broker was down"
        );
        n += 1;
        let (status, body, retry_after) = post_view(&gw, n).await;
        match status {
            // Acknowledged before the outage showed: it must survive.
            202 => acked.insert(body["events"][0]["id"].as_str().unwrap().to_owned()),
            503 => break (body, retry_after),
            other => panic!("unexpected {other}: {body}"),
        };
    };
    assert_eq!(problem["status"], 503, "{problem}");
    assert!(retry_after.is_some(), "503 without Retry-After");

    cluster.broker_up(1).unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        assert!(Instant::now() < deadline, "ingest did not recover");
        n += 1;
        let (status, body, _) = post_view(&gw, n).await;
        if status == 202 {
            acked.insert(body["events"][0]["id"].as_str().unwrap().to_owned());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Every acknowledged event is in the log and reached the plugin.
    let stored: BTreeSet<String> = gw
        .event_ids("customer-interactions")
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert!(acked.is_subset(&stored), "an acknowledged event was lost");
    eventually("the plugin to handle every acknowledged event", || async {
        let handled: BTreeSet<String> = gw
            .events("audit")
            .await?
            .iter()
            .filter_map(|e| e["event"]["causationid"].as_str().map(str::to_owned))
            .collect();
        Ok(acked.is_subset(&handled).then_some(()))
    })
    .await
    .unwrap();
    gw.stop().await;
}
