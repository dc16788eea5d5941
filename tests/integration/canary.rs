//! Canary releases through the gateway's registry: a canary takes exactly
//! the keys whose bucket falls under its share, every event of a key goes
//! to the same version, promotion moves every key; a canary that traps is
//! rolled back on its own and the events it failed are handled by the live
//! version, none lost, none dead-lettered.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use streamplug::registry::{CanaryPolicy, key_bucket};
use streamplug_tests::{TestGateway, eventually, recorder_manifest, view};

use crate::lifecycle::GRANTS;

/// Post one view for each of `customers`, in batches; the acknowledged ids.
async fn views(gw: &TestGateway, customers: &[String], extra: Value) -> Vec<String> {
    let mut ids = Vec::new();
    for chunk in customers.chunks(100) {
        let batch: Vec<Value> = chunk
            .iter()
            .map(|c| {
                let mut v = view(c, "p1");
                if let (Some(data), Some(extra)) = (v["data"].as_object_mut(), extra.as_object()) {
                    data.extend(extra.clone());
                }
                v
            })
            .collect();
        ids.extend(gw.post_batch(&batch).await.unwrap());
    }
    ids
}

/// Customer → the tags of the versions that handled its events so far.
async fn tags_by_customer(gw: &TestGateway, n: usize) -> BTreeMap<String, Vec<String>> {
    let mut by_customer: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in gw.wait_for_events("audit", n).await.unwrap() {
        let data = &e["event"]["data"];
        by_customer
            .entry(data["key"].as_str().unwrap().to_owned())
            .or_default()
            .push(data["tag"].as_str().unwrap().to_owned());
    }
    by_customer
}

fn tagged(v: &streamplug::config::PluginManifest, tag: &str) -> streamplug::config::PluginManifest {
    let mut m = v.clone();
    m.config.insert("tag".into(), tag.into());
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_takes_a_stable_share_of_the_customers_until_it_is_promoted() {
    let gw = TestGateway::with_plugins(&recorder_manifest(GRANTS))
        .await
        .unwrap();
    let registry = gw.gateway.registry.clone();
    let v1 = registry.get("recorder").unwrap().manifest.clone();
    let v2 = gw.gateway.load_version(&tagged(&v1, "v2")).await.unwrap();
    registry
        .start_canary(v2, 30.0, CanaryPolicy::default())
        .unwrap();

    let customers: Vec<String> = (0..300).map(|i| format!("shopper-{i}")).collect();
    views(&gw, &customers, json!({})).await;
    views(&gw, &customers, json!({})).await;
    let seen = tags_by_customer(&gw, 600).await;
    let mut on_canary = 0;
    for customer in &customers {
        let expected = if key_bucket(customer) < 3000 {
            "v2"
        } else {
            "v1"
        };
        assert_eq!(seen[customer], [expected, expected], "{customer}");
        on_canary += usize::from(expected == "v2");
    }
    // The share the hash gives these 300 names: 30 % ± 3σ (σ ≈ 8).
    assert!(
        (66..=114).contains(&on_canary),
        "{on_canary} of 300 on the canary"
    );
    let listed = gw.get("/v1/plugins").await.unwrap().json;
    assert_eq!(listed[0]["canary"]["percent"], 30.0, "{listed}");
    assert_eq!(
        listed[0]["canary"]["stats"]["ok"],
        json!(2 * on_canary),
        "{listed}"
    );

    assert_eq!(
        registry.promote("recorder").unwrap().manifest.config["tag"],
        "v2"
    );
    views(&gw, &customers[..50], json!({})).await;
    let seen = tags_by_customer(&gw, 650).await;
    for customer in &customers[..50] {
        assert_eq!(seen[customer].last().unwrap(), "v2", "{customer}");
    }
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_that_traps_is_rolled_back_and_the_live_version_handles_its_events() {
    let gw = TestGateway::with_plugins(&recorder_manifest(&format!(
        "{GRANTS}\n[plugins.retry]\nmax_attempts = 20\ninitial_backoff_ms = 50\nmax_backoff_ms = 200"
    )))
    .await
    .unwrap();
    let registry = gw.gateway.registry.clone();
    let v1 = registry.get("recorder").unwrap().manifest.clone();
    let v2 = gw.gateway.load_version(&tagged(&v1, "v2")).await.unwrap();
    let policy = CanaryPolicy {
        max_error_rate: 0.2,
        window_secs: 30,
        min_events: 4,
    };
    registry.start_canary(v2.clone(), 50.0, policy).unwrap();

    let customers: Vec<String> = (0..40).map(|i| format!("buyer-{i}")).collect();
    let ids = views(&gw, &customers, json!({"trap_in": "v2"})).await;
    eventually("the canary is rolled back", || async {
        Ok(registry
            .deployment("recorder")
            .unwrap()
            .canary
            .is_none()
            .then_some(()))
    })
    .await
    .unwrap();
    let audit = gw.wait_for_events("audit", 40).await.unwrap();
    let mut handled: Vec<&str> = audit
        .iter()
        .map(|e| e["event"]["data"]["id"].as_str().unwrap())
        .collect();
    handled.sort_unstable();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(handled, expected, "every event handled exactly once");
    assert!(audit.iter().all(|e| e["event"]["data"]["tag"] == "v1"));
    assert!(v2.stats.read().trap >= 4, "{:?}", v2.stats.read());
    assert!(gw.events("dlq.recorder").await.unwrap().is_empty());
    // The host noted the traps in the plugin's log, under the canary's id.
    let logs = gw.gateway.loader.logs().read("recorder", 0, 1000);
    assert!(
        logs.iter()
            .any(|l| l.source == "host" && l.version == v2.id && l.message.contains("trapped")),
        "{logs:?}"
    );
    let history = &registry.deployment("recorder").unwrap().history;
    let last = &history.back().unwrap().what;
    assert!(
        last.contains("rolled back canary") && last.contains("automatically"),
        "{last}"
    );
    // The recorder is global to the test process: at least this one.
    let rollbacks = gw
        .metric("streamplug_canary_rollbacks_total{plugin=\"recorder\"}")
        .await
        .unwrap();
    assert!(rollbacks >= 1.0, "{rollbacks}");
    gw.stop().await;
}
