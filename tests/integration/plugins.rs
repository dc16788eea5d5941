//! Dispatch to plugins: every event once, in per-key order, effects
//! committed only with success, capabilities only as granted.

use rstest::rstest;
use serde_json::json;
use streamplug_tests::{
    Backend, RECOMMEND_MANIFEST, TestGateway, eventually, recorder_manifest, view,
};

fn recorder() -> String {
    recorder_manifest(
        "[plugins.retry]
max_attempts = 3
initial_backoff_ms = 10",
    )
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_the_plugin_once_in_per_key_order(#[case] backend: Backend) {
    let gw = TestGateway::on(backend, &recorder()).await.unwrap();
    let mut ids = Vec::new();
    for round in 0..5 {
        let batch: Vec<_> = (0..40)
            .map(|i| view(&format!("c{}", i % 7), &format!("p{round}-{i}")))
            .collect();
        ids.extend(gw.post_batch(&batch).await.unwrap());
    }
    let audit = gw.wait_for_events("audit", ids.len()).await.unwrap();
    assert_eq!(audit.len(), ids.len(), "no event may be handled twice");
    for id in &ids {
        assert_eq!(
            gw.kv("recorder", &format!("seen:{id}")).await.unwrap(),
            Some(json!(1)),
            "{id}"
        );
    }
    for c in 0..7 {
        let offsets = gw.recorded_order(&format!("c{c}")).await.unwrap();
        assert!(!offsets.is_empty(), "c{c}: nothing recorded");
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "c{c}: {offsets:?}");
    }
    // Published events carry their cause.
    assert!(
        audit
            .iter()
            .all(|e| ids.contains(&e["event"]["causationid"].as_str().unwrap().to_owned()))
    );
    gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommend_publishes_related_products_after_views(#[case] backend: Backend) {
    let gw = TestGateway::on(backend, RECOMMEND_MANIFEST).await.unwrap();
    for p in ["tent", "stove", "lamp"] {
        assert_eq!(gw.post(&view("alice", p)).await.unwrap().status, 202);
    }
    gw.wait_for_events("recommendations", 2).await.unwrap();
    assert_eq!(gw.post(&view("bob", "tent")).await.unwrap().status, 202);
    let recs = gw.wait_for_events("recommendations", 3).await.unwrap();
    let bob = recs
        .iter()
        .find(|r| r["event"]["subject"] == "bob")
        .unwrap();
    let products: Vec<&str> = bob["event"]["data"]["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["product"].as_str().unwrap())
        .collect();
    assert_eq!(products, ["lamp", "stove"], "{bob}");
    // After buying the stove, alice is not offered it any more. Orders and
    // views travel on different topics (no order between them), so wait for
    // the order to be taken into account before the next view.
    let order = json!({"type": "order.placed", "customer": "alice",
        "data": {"order": "o1", "items": [{"product": "stove", "quantity": 1, "price": 40.0}], "total": 40.0, "currency": "EUR"}});
    let order_id = gw.post(&order).await.unwrap().json["events"][0]["id"].clone();
    recommendation_for(&gw, &order_id).await;
    let view_id = gw.post(&view("alice", "tent")).await.unwrap().json["events"][0]["id"].clone();
    let after = recommendation_for(&gw, &view_id).await;
    let products = after["event"]["data"]["products"].to_string();
    assert!(
        !products.contains("stove") && products.contains("lamp"),
        "{products}"
    );
    gw.stop().await;
}

/// Wait for the recommendation the event `id` triggered.
async fn recommendation_for(gw: &TestGateway, id: &serde_json::Value) -> serde_json::Value {
    eventually(&format!("a recommendation for {id}"), || async {
        let recs = gw.events("recommendations").await?;
        Ok(recs
            .into_iter()
            .find(|r| r["event"]["data"]["trigger"]["event"] == *id))
    })
    .await
    .unwrap()
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_capabilities_are_error_values_and_the_event_still_succeeds(
    #[case] backend: Backend,
) {
    // A local server the plugin is not granted: it must never be called.
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        async { "hello" }
    });
    let server = streamplug_tests::local_server::LocalServer::start(app)
        .await
        .unwrap();

    let gw = TestGateway::on(backend, &recorder()).await.unwrap();
    let a = gw
        .post(&json!({"type": "product.viewed", "customer": "c1",
            "data": {"product": "p", "publish_to": "secret-topic", "http": format!("{}/steal", server.url)}}))
        .await
        .unwrap();
    let id = a.json["events"][0]["id"].as_str().unwrap().to_owned();
    gw.wait_for_events("audit", 1).await.unwrap();
    let publish = gw
        .kv("recorder", &format!("publish:{id}"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        publish.as_str().unwrap().contains("TopicNotGranted"),
        "{publish}"
    );
    let http = gw
        .kv("recorder", &format!("http:{id}"))
        .await
        .unwrap()
        .unwrap();
    let error = http["error"].as_str().unwrap();
    assert!(
        error.contains("not granted") && error.contains("127.0.0.1"),
        "{http}"
    );
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert!(gw.events("dlq.recorder").await.unwrap().is_empty());
    drop(server);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_beyond_the_event_bounds_is_an_error_value() {
    let gw = TestGateway::with_plugins(&recorder()).await.unwrap();
    let mut ids = Vec::new();
    for (headers, bytes) in [(40, 1), (1, 4096), (3, 10)] {
        let a = gw
            .post(&json!({"type": "product.viewed", "customer": "c1",
                "data": {"product": "p", "publish_headers": headers, "header_bytes": bytes}}))
            .await
            .unwrap();
        ids.push(a.json["events"][0]["id"].as_str().unwrap().to_owned());
    }
    let results = eventually("the three publish results", || async {
        let mut out = Vec::new();
        for id in &ids {
            match gw.kv("recorder", &format!("publish:{id}")).await? {
                Some(v) => out.push(v.as_str().unwrap_or_default().to_owned()),
                None => return Ok(None),
            }
        }
        Ok(Some(out))
    })
    .await
    .unwrap();
    assert!(
        results[0].contains("InvalidEvent") && results[0].contains("extension attributes"),
        "{}",
        results[0]
    );
    assert!(
        results[1].contains("InvalidEvent") && results[1].contains("/h0"),
        "{}",
        results[1]
    );
    assert!(results[2].starts_with("Ok"), "{}", results[2]);
    gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_attempt_leaves_no_effects_and_ends_in_the_dead_letter_topic(
    #[case] backend: Backend,
) {
    let gw = TestGateway::on(backend, &recorder()).await.unwrap();
    let a = gw
        .post(&json!({"type": "product.viewed", "customer": "c1", "data": {"product": "p", "fail": true}}))
        .await
        .unwrap();
    let id = a.json["events"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(gw.post(&view("c1", "after")).await.unwrap().status, 202);
    let dlq = gw.wait_for_events("dlq.recorder", 1).await.unwrap();
    let dead = &dlq[0]["event"];
    assert_eq!(dead["id"], id);
    assert_eq!(dead["deadletterattempts"], "3");
    assert_eq!(dead["deadletterplugin"], "recorder");
    assert_eq!(dead["deadlettertopic"], "customer-interactions");
    assert!(
        dead["deadletterreason"]
            .as_str()
            .unwrap()
            .contains("asked to fail"),
        "{dead}"
    );
    // The event after it was handled; the failed one left no KV and no publish.
    let audit = gw.wait_for_events("audit", 1).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        gw.kv("recorder", &format!("seen:{id}")).await.unwrap(),
        None
    );
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_whose_init_fails_is_refused_with_a_clear_error() {
    let plugin = format!("{}\n[plugins.config]\nfail_init = \"yes\"\n", recorder());
    let err = TestGateway::with_plugins(&plugin).await.err().unwrap();
    let text = format!("{err:#}");
    assert!(
        text.contains("recorder") && text.contains("fail_init is set"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_value_a_plugin_cannot_read_refuses_it_naming_the_key() {
    // A misspelt key, and a number that is not one: each read into the
    // plugin's typed configuration by the SDK before its init runs.
    for (line, named) in [
        ("top = \"3\"", "unknown field `top`"),
        ("top_n = \"three\"", "provided by top_n"),
    ] {
        let manifest = RECOMMEND_MANIFEST.replace("top_n = \"3\"", line);
        assert_ne!(manifest, RECOMMEND_MANIFEST);
        let err = TestGateway::with_plugins(&manifest).await.err().unwrap();
        let text = format!("{err:#}");
        assert!(text.contains("recommend") && text.contains(named), "{text}");
    }
}
