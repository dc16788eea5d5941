//! Plugin KV values with a time to live: gone when it runs out, on either
//! KV backend and from each SDK, and their bytes leave the plugin's quota
//! once swept.

use rstest::rstest;
use serde_json::json;
use streamplug_tests::{
    Backend, Stores, TestGateway, config_on, eventually, example_manifest, recorder_manifest,
};

/// Bytes the plugin's live keys hold (what its usage should come to).
async fn live_bytes(gw: &TestGateway) -> u64 {
    let kv = &gw.gateway.kv;
    let mut sum = 0;
    for key in kv.list_keys("recorder", "", 10_000).await.unwrap() {
        if let Some(value) = kv.get("recorder", &key).await.unwrap() {
            sum += (key.len() + value.len()) as u64;
        }
    }
    sum
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_set_with_a_time_to_live_expires_and_leaves_the_quota(#[case] backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::start(backend).unwrap();
    let plugins = format!(
        "[storage]\nretention_check_ms = 100\n{}",
        recorder_manifest("")
    );
    let config = config_on(&stores, &dir.path().join("data"), &plugins).unwrap();
    let gw = TestGateway::start(&config).await.unwrap();
    let remember = |ms: u64| {
        json!({"type": "product.viewed", "customer": "c1",
               "data": {"product": "p", "remember_ms": ms}})
    };
    // One value kept ten minutes, one a millisecond: handled in this order
    // (one customer, one partition).
    let sent = gw
        .post(&json!([remember(600_000), remember(1)]))
        .await
        .unwrap();
    assert_eq!(sent.status, 202, "{}", sent.json);
    let ids: Vec<String> = sent.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    gw.wait_for_events("audit", 2).await.unwrap();
    let kept = gw
        .kv("recorder", &format!("remember:{}", ids[0]))
        .await
        .unwrap();
    assert_eq!(kept, Some(json!(600_000)));
    // The short one reads as absent, and is not listed.
    assert_eq!(
        gw.kv("recorder", &format!("remember:{}", ids[1]))
            .await
            .unwrap(),
        None
    );
    let listed = gw
        .gateway
        .kv
        .list_keys("recorder", "remember:", 10)
        .await
        .unwrap();
    assert_eq!(listed, [format!("remember:{}", ids[0])]);
    // The sweep takes its bytes out of the plugin's usage.
    eventually("the expired value's bytes to leave the usage", || async {
        let usage = gw.gateway.kv.usage("recorder").await?;
        Ok((usage == live_bytes(&gw).await).then_some(()))
    })
    .await
    .unwrap();
    gw.stop().await;
}

/// `example`'s manifest with `setting` added to its config.
fn configured(example: &str, setting: &str) -> String {
    example_manifest(example).replace(
        "[plugins.config]\n",
        &format!("[plugins.config]\n{setting}\n"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_and_javascript_sdks_store_values_with_a_time_to_live() {
    // About five seconds, in the examples' unit (days).
    let days = "0.00006";
    let plugins = format!(
        "[topics.risk-alerts]\npartitions = 1\n{}\n{}",
        configured("fraud-flagger", &format!("forget_after_days = \"{days}\"")),
        configured("cart-nudger", &format!("cart_ttl_days = \"{days}\""))
    );
    let gw = TestGateway::with_plugins(&plugins).await.unwrap();
    let order = json!({"type": "order.placed", "customer": "ivy", "data": {
        "order": "i-1", "items": [{"product": "p1", "quantity": 1, "price": 20.0}],
        "total": 20.0, "currency": "EUR"}});
    let cart = json!({"specversion": "1.0", "id": "ivy-cart-1", "source": "/web/shop",
        "type": "cart.item_added", "subject": "ivy", "time": "2026-11-30T10:00:00Z",
        "data": {"product": "tent", "quantity": 1, "price": 199.0}});
    // One at a time: each value is looked for while it lives. Both examples
    // keep their state in the SDKs' packed encoding, which the Rust SDK reads.
    let cases = [
        ("fraud-flagger", "customer:ivy", &order, "/orders", json!(1)),
        (
            "cart-nudger",
            "cart:ivy",
            &cart,
            "/items/tent/price",
            json!(199),
        ),
    ];
    for (plugin, key, event, field, expected) in cases {
        let a = gw.post(event).await.unwrap();
        assert_eq!(a.status, 202, "{}", a.json);
        let kept = eventually(&format!("{plugin} to keep {key}"), || {
            gw.kv_bytes(plugin, key)
        })
        .await
        .unwrap();
        assert_eq!(kept[0], streamplug_sdk::packed::TAG, "{plugin} packs {key}");
        let state: serde_json::Value = streamplug_sdk::packed::decode(&kept).unwrap();
        assert_eq!(state.pointer(field), Some(&expected), "{plugin}: {state}");
        eventually(&format!("{plugin}'s {key} to expire"), || async {
            Ok(gw.kv(plugin, key).await?.is_none().then_some(()))
        })
        .await
        .unwrap();
    }
    gw.stop().await;
}
