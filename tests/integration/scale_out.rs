//! Several gateway instances on one Kafka cluster and one Redis: a second
//! instance joining under load takes half of a plugin's partitions, no event
//! is handled by both, and plugin state follows the partitions it belongs to.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use streamplug_tests::{
    Backend, RECOMMEND_MANIFEST, Stores, TestGateway, config_on, eventually, recorder_manifest,
    view,
};

/// Customers of the load (spread over the four partitions).
const CUSTOMERS: usize = 12;

/// Acknowledged events: (id, customer, product), in acknowledgement order.
type Acked = Arc<Mutex<Vec<(String, String, String)>>>;

/// Post one view at a time to `url` until `stop`, recording what was acknowledged.
async fn load(url: String, acked: Acked, start: usize, stop: tokio::sync::watch::Receiver<bool>) {
    let client = streamplug_tests::keyed_client(streamplug_tests::TEST_KEY).unwrap();
    let mut n = start;
    while !*stop.borrow() {
        let customer = format!("c{}", n % CUSTOMERS);
        let product = format!("p{n}");
        let answer = client
            .post(format!("{url}/v1/events"))
            .json(&view(&customer, &product))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202);
        let body: Value = answer.json().await.unwrap();
        let id = body["events"][0]["id"].as_str().unwrap().to_owned();
        acked.lock().unwrap().push((id, customer, product));
        n += 2;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

fn owned(gw: &TestGateway, plugin: &str) -> Vec<u32> {
    gw.gateway
        .ownership
        .of(plugin)
        .remove("customer-interactions")
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_instance_takes_half_the_partitions_and_no_event_is_handled_twice() {
    let stores = Stores::start(Backend::Kafka).unwrap();
    let plugins = format!(
        "{}{RECOMMEND_MANIFEST}\n[topics.customer-interactions]\npartitions = 4\n[topics.order-events]\npartitions = 4\n",
        recorder_manifest("")
    );
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestGateway::start(&config_on(&stores, dir_a.path(), &plugins).unwrap())
        .await
        .unwrap();
    eventually("the first instance to own every partition", || async {
        Ok((owned(&a, "recorder") == [0, 1, 2, 3]).then_some(()))
    })
    .await
    .unwrap();

    let acked: Acked = Arc::default();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let load_a = tokio::spawn(load(a.url.clone(), acked.clone(), 0, stop_rx.clone()));
    a.wait_for_events("audit", 20).await.unwrap();

    // A second instance joins while the load runs.
    let b = TestGateway::start(&config_on(&stores, dir_b.path(), &plugins).unwrap())
        .await
        .unwrap();
    eventually(
        "the partitions to be split between the instances",
        || async {
            let (on_a, on_b) = (owned(&a, "recorder"), owned(&b, "recorder"));
            Ok((on_a.len() == 2 && on_b.len() == 2).then_some((on_a, on_b)))
        },
    )
    .await
    .unwrap();
    // Both instances take traffic now; let it run past the move.
    let load_b = tokio::spawn(load(b.url.clone(), acked.clone(), 1, stop_rx));
    let handled_at_split = a.events("audit").await.unwrap().len();
    a.wait_for_events("audit", handled_at_split + 60)
        .await
        .unwrap();
    stop.send(true).unwrap();
    load_a.await.unwrap();
    load_b.await.unwrap();

    let acked = acked.lock().unwrap().clone();
    let audit = a.wait_for_events("audit", acked.len()).await.unwrap();
    let causes: Vec<&str> = audit
        .iter()
        .map(|e| e["event"]["causationid"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = causes.iter().copied().collect();
    assert_eq!(causes.len(), unique.len(), "an event was handled twice");
    let sent: BTreeSet<&str> = acked.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(unique, sent, "every acknowledged event was handled");
    for (id, _, _) in &acked {
        assert_eq!(
            a.kv("recorder", &format!("seen:{id}")).await.unwrap(),
            Some(json!(1)),
            "{id}"
        );
    }

    // State followed the partitions: each customer's history is complete and
    // in order, though its partition may have moved in the middle of it.
    let mut by_customer: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (_, customer, product) in &acked {
        by_customer.entry(customer).or_default().push(product);
    }
    let stored = a.events("customer-interactions").await.unwrap();
    for (customer, products) in &by_customer {
        let offsets = a.recorded_order(customer).await.unwrap();
        let expected: Vec<u64> = stored
            .iter()
            .filter(|e| e["event"]["subject"] == *customer)
            .map(|e| e["offset"].as_u64().unwrap())
            .collect();
        assert_eq!(offsets, expected, "{customer}: every event, in order, once");

        // recommend consumes on its own; wait until it reached the last view.
        let key = format!("cust:{customer}");
        let newest = products.last().copied();
        let profile = eventually("recommend to catch up", || async {
            let profile = a.kv("recommend", &key).await?;
            Ok(profile.filter(|p| {
                p["recent"]
                    .as_array()
                    .and_then(|r| r.last())
                    .and_then(Value::as_str)
                    == newest
            }))
        })
        .await
        .unwrap();
        let recent: Vec<&str> = profile["recent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let last = &products[products.len().saturating_sub(recent.len())..];
        assert_eq!(
            recent, last,
            "{customer}: the recommend profile saw every view"
        );
        assert!(recent.len() == products.len() || recent.len() == 20);
    }
    b.stop().await;
    a.stop().await;
}
