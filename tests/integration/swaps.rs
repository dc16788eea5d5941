//! Hot swap under continuous load: 50 deploys alternating between two
//! versions that tag their effects while events with unique ids keep
//! arriving on two topics the plugin reads; every event is handled exactly
//! once, by exactly one version, and each customer's events in the order
//! they were written, across both topics, on both backends.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rstest::rstest;
use serde_json::Value;
use serde_json::json;
use streamplug_tests::{Backend, TestGateway, recorder_manifest, view};

use crate::lifecycle::GRANTS;

const SWAPS: usize = 50;
const CUSTOMERS: usize = 10;

/// An order of `customer` (on `order-events`).
fn order(customer: &str, order: &str) -> Value {
    json!({"type": "order.placed", "customer": customer, "data": {"order": order,
           "items": [{"product": "tent", "quantity": 1, "price": 1.0}], "total": 1.0, "currency": "EUR"}})
}

/// Post batches for every customer, views (on `customer-interactions`)
/// and orders (on `order-events`) interleaved, until `stop` (and at least
/// `min_batches`); the acknowledged ids with their customer, in the order
/// written.
async fn load(
    gw: Arc<TestGateway>,
    stop: Arc<AtomicBool>,
    min_batches: usize,
) -> Vec<(String, String)> {
    let mut ids = Vec::new();
    let mut batch_no = 0;
    while batch_no < min_batches || !stop.load(Ordering::Acquire) {
        let customers: Vec<String> = (0..2 * CUSTOMERS)
            .map(|i| format!("c{}", i % CUSTOMERS))
            .collect();
        let batch: Vec<Value> = customers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if (i + batch_no) % 3 == 0 {
                    order(c, &format!("o{batch_no}-{i}"))
                } else {
                    view(c, &format!("p{batch_no}-{i}"))
                }
            })
            .collect();
        let acked = gw.post_batch(&batch).await.unwrap();
        ids.extend(acked.into_iter().zip(customers));
        batch_no += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    ids
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_swaps_under_load_handle_every_event_exactly_once_and_in_order(
    #[case] backend: Backend,
) {
    let manifest = recorder_manifest(GRANTS).replace(
        r#"subscribe = ["customer-interactions"]"#,
        r#"subscribe = ["customer-interactions", "order-events"]"#,
    );
    let gw = Arc::new(TestGateway::on(backend, &manifest).await.unwrap());
    let registry = gw.gateway.registry.clone();
    let v1 = registry.get("recorder").unwrap();
    let mut m2 = v1.manifest.clone();
    m2.config.insert("tag".into(), "v2".into());
    let v2 = gw.gateway.load_version(&m2).await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let loader = tokio::spawn(load(gw.clone(), stop.clone(), 20));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let handled_so_far = || v1.stats.read().ok + v2.stats.read().ok;
    for swap in 0..SWAPS {
        let next = if swap % 2 == 0 { &v2 } else { &v1 };
        registry.deploy(next.clone()).unwrap();
        // Each version handles something before the next swap, however
        // slow the machine.
        let before = handled_so_far();
        tokio::time::sleep(Duration::from_millis(10)).await;
        while handled_so_far() == before {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    stop.store(true, Ordering::Release);
    let ids = loader.await.unwrap();
    assert!(ids.len() >= 400, "{} events", ids.len());

    let audit = gw.wait_for_events("audit", ids.len()).await.unwrap();
    // Exactly once, by exactly one version.
    let mut handled: HashMap<&str, usize> = HashMap::new();
    for e in &audit {
        *handled
            .entry(e["event"]["data"]["id"].as_str().unwrap())
            .or_default() += 1;
    }
    let twice: Vec<_> = handled.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
    let missing: Vec<_> = ids
        .iter()
        .filter(|(id, _)| !handled.contains_key(id.as_str()))
        .collect();
    assert!(missing.is_empty(), "never handled: {missing:?}");
    assert_eq!(audit.len(), ids.len());

    // In the order written per customer, across both topics (the audit of
    // one customer is one partition, written in the order the recorder
    // handled its events).
    let mut written: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, customer) in &ids {
        written
            .entry(customer.as_str())
            .or_default()
            .push(id.as_str());
    }
    /// A customer's handled ids, offsets and version tags, in audit order.
    type Handled<'a> = (Vec<&'a str>, Vec<u64>, Vec<&'a str>);
    let mut by_customer: BTreeMap<&str, Handled<'_>> = BTreeMap::new();
    for e in &audit {
        let data = &e["event"]["data"];
        let (handled, offsets, tags) = by_customer
            .entry(data["key"].as_str().unwrap())
            .or_default();
        handled.push(data["id"].as_str().unwrap());
        offsets.push(data["offset"].as_u64().unwrap());
        tags.push(data["tag"].as_str().unwrap());
    }
    assert_eq!(by_customer.len(), CUSTOMERS);
    for (customer, (handled, offsets, tags)) in &by_customer {
        assert_eq!(
            handled, &written[customer],
            "{customer}'s events handled out of the order written"
        );
        assert_eq!(gw.recorded_order(customer).await.unwrap(), *offsets);
        assert!(
            tags.contains(&"v1") && tags.contains(&"v2"),
            "{customer}: {tags:?}"
        );
    }
    let switches = audit
        .windows(2)
        .filter(|w| w[0]["event"]["data"]["tag"] != w[1]["event"]["data"]["tag"])
        .count();
    assert!(
        switches >= 10,
        "only {switches} version changes seen in the audit"
    );
    Arc::into_inner(gw).unwrap().stop().await;
}
