//! One partitioner per backend, used everywhere: on Kafka the gateway, the
//! push delivery and the resume tokens all place a customer where the Java
//! client's murmur2 does, whatever the partition count, so a resume replays
//! exactly the missed pushes for customers the embedded log's FNV-1a would
//! place elsewhere.

use serde_json::Value;
use streamplug::storage::Partitioner;
use streamplug_tests::{Backend, RECOMMEND_MANIFEST, TestGateway, pushes, send_json, view};

/// A customer whose murmur2 and FNV-1a partitions differ among `partitions`.
fn customer_placed_differently(partitions: u32) -> String {
    (0..)
        .map(|i| format!("shopper-{i}"))
        .find(|c| {
            Partitioner::Murmur2.partition(Some(c), partitions)
                != Partitioner::Fnv1a.partition(Some(c), partitions)
        })
        .unwrap()
}

fn token_partition(token: &str) -> u32 {
    token.split('.').next().unwrap().parse().unwrap()
}

async fn resume_replays_the_missed_pushes_with(partitions: u32) {
    let plugins = format!(
        "[topics.customer-pushes]\npartitions = {partitions}\n[topics.customer-interactions]\npartitions = {partitions}\n[topics.order-events]\npartitions = {partitions}\n{RECOMMEND_MANIFEST}"
    );
    let gw = TestGateway::on(Backend::Kafka, &plugins).await.unwrap();
    let customer = customer_placed_differently(partitions);
    let home = Partitioner::Murmur2.partition(Some(&customer), partitions);

    let (mut ws, welcome) = gw.session(&customer, None).await.unwrap();
    assert_eq!(
        token_partition(welcome["resume"].as_str().unwrap()),
        home,
        "{welcome}"
    );
    send_json(&mut ws, &view(&customer, "p0")).await.unwrap();
    send_json(&mut ws, &view(&customer, "p1")).await.unwrap();
    let first = pushes(&mut ws, 1).await.unwrap();
    let token = first[0]["resume"].as_str().unwrap().to_owned();
    assert_eq!(token_partition(&token), home, "{first:?}");
    drop(ws);

    for p in ["p2", "p3", "p4"] {
        assert_eq!(gw.post(&view(&customer, p)).await.unwrap().status, 202);
    }
    let log = gw.wait_for_events("customer-pushes", 4).await.unwrap();
    let held: Vec<&Value> = log
        .iter()
        .filter(|e| e["event"]["subject"] == customer.as_str())
        .collect();
    assert!(
        held.iter().all(|e| e["partition"] == home),
        "the broker holds the pushes where the session looks: {held:#?}"
    );
    let missed: Vec<u64> = held
        .iter()
        .map(|e| e["offset"].as_u64().unwrap())
        .filter(|o| *o > first[0]["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(missed.len(), 3, "{log:#?}");

    let (mut ws, welcome) = gw.session(&customer, Some(&token)).await.unwrap();
    assert_eq!(welcome["resume"], token.as_str(), "the token is its own");
    let replayed = pushes(&mut ws, 3).await.unwrap();
    let seqs: Vec<u64> = replayed
        .iter()
        .map(|f| f["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, missed, "exactly the missed pushes, in order");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_resume_replays_the_missed_pushes_with_four_partitions() {
    resume_replays_the_missed_pushes_with(4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_resume_replays_the_missed_pushes_with_seven_partitions() {
    resume_replays_the_missed_pushes_with(7).await;
}
