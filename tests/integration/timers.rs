//! Durable timers (`streamplug:plugin/timer`): a timer scheduled while
//! handling an event comes back as a `streamplug.timer` event for the same
//! key when due, once, with the effects of handling it; a cancelled one
//! never does; a plugin has at most `limits.max_timers` pending, shown in
//! `GET /v1/plugins`; a failing timer is retried and dead-lettered like an
//! event; a pending timer is handled by the version live when it is due
//! (a hot swap) and survives a SIGKILL of the gateway, on both logs.

use rstest::rstest;
use serde_json::{Value, json};
use streamplug_tests::{
    Backend, ChildGateway, Stores, TEST_KEY, TestGateway, config_on, eventually, free_port,
    keyed_client, recorder_manifest,
};

const LIMITS: &str = "[plugins.limits]\nmax_timers = 2\n\n[plugins.retry]\nmax_attempts = 2\ninitial_backoff_ms = 20\n";

fn view(customer: &str, id: &str, data: Value) -> Value {
    let mut data = data;
    data["product"] = json!("tent");
    json!({"type": "product.viewed", "customer": customer, "id": id, "data": data})
}

fn schedule(customer: &str, id: &str, name: &str, after_ms: u64, payload: Value) -> Value {
    view(
        customer,
        id,
        json!({"timer": {"name": name, "after_ms": after_ms, "payload": payload}}),
    )
}

/// The recorder's pending timers as `GET /v1/plugins` shows them.
async fn timers(gw: &TestGateway) -> Value {
    let listed = gw.get("/v1/plugins").await.unwrap().json;
    let plugins = listed["plugins"].as_array().or(listed.as_array()).cloned();
    let recorder = plugins
        .unwrap_or_default()
        .into_iter()
        .find(|p| p["name"] == "recorder")
        .unwrap_or_else(|| panic!("{listed}"));
    recorder["timers"].clone()
}

async fn kv_text(gw: &TestGateway, key: &str) -> String {
    eventually(key, || async {
        Ok(gw
            .kv("recorder", key)
            .await?
            .and_then(|v| v.as_str().map(str::to_owned)))
    })
    .await
    .unwrap()
}

/// Audit events the recorder published about `customer`'s events.
async fn audited(gw: &TestGateway, customer: &str) -> Vec<Value> {
    gw.events("audit")
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e["event"]["data"]["key"] == customer)
        .collect()
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_fires_once_for_its_key_unless_cancelled_within_the_limit(
    #[case] backend: Backend,
) {
    let gw = TestGateway::on(backend, &recorder_manifest(LIMITS))
        .await
        .unwrap();
    let events = [
        schedule("alice", "a-1", "expire", 2500, json!({"why": "no payment"})),
        schedule("alice", "a-2", "remind", 600_000, json!({})),
        // The third pending timer is one too many; the same name again
        // replaces the pending one.
        schedule("alice", "a-3", "extra", 600_000, json!({})),
        schedule("alice", "a-4", "remind", 500_000, json!({})),
        view("alice", "a-5", json!({"cancel_timer": "remind"})),
        view("alice", "a-6", json!({"cancel_timer": "never-set"})),
    ];
    for e in &events {
        let a = gw.post(e).await.unwrap();
        assert_eq!(a.status, 202, "{}", a.json);
    }
    assert_eq!(kv_text(&gw, "timer:a-1").await, "Ok(())");
    assert_eq!(
        kv_text(&gw, "timer:a-3").await,
        "Err(TimerError::TooMany(2))"
    );
    assert_eq!(kv_text(&gw, "timer:a-4").await, "Ok(())");
    assert_eq!(kv_text(&gw, "cancel:a-5").await, "Ok(true)");
    assert_eq!(kv_text(&gw, "cancel:a-6").await, "Ok(false)");
    let a = gw
        .post(&schedule(
            "bob",
            "b-1",
            "flaky",
            2000,
            json!({"fail": true}),
        ))
        .await
        .unwrap();
    assert_eq!(a.status, 202);
    assert_eq!(kv_text(&gw, "timer:b-1").await, "Ok(())");
    let pending = timers(&gw).await;
    assert_eq!(pending["pending"], 2, "{pending}");
    assert_eq!(pending["limit"], 2, "{pending}");
    assert!(pending["next_due"].is_string(), "{pending}");

    // A hot swap while it waits: the version live when it is due handles it.
    let registry = gw.gateway.registry.clone();
    let mut v2 = registry.get("recorder").unwrap().manifest.clone();
    v2.config.insert("tag".into(), "v2".into());
    registry
        .deploy(gw.gateway.load_version(&v2).await.unwrap())
        .unwrap();

    // alice's timer fires once, as an event for her key.
    let fired = eventually("alice's timer", || async {
        gw.kv("recorder", "fired:alice:expire").await
    })
    .await
    .unwrap();
    assert_eq!(fired, 1);
    // bob's fails twice (his payload asks it to) and is dead-lettered.
    let dlq = gw.wait_for_events("dlq.recorder", 1).await.unwrap();
    let dead = &dlq[0]["event"];
    assert_eq!(dead["type"], "streamplug.timer", "{dead}");
    assert_eq!(dead["timername"], "flaky", "{dead}");
    assert_eq!(dead["subject"], "bob", "{dead}");
    assert_eq!(dead["deadletterattempts"], "2", "{dead}");
    assert_eq!(dead["data"], json!({"fail": true}), "{dead}");
    eventually("no timer pending", || async {
        Ok((timers(&gw).await["pending"] == 0).then_some(()))
    })
    .await
    .unwrap();

    // Later events of the key see nothing fire again.
    let a = gw.post(&view("alice", "a-7", json!({}))).await.unwrap();
    assert_eq!(a.status, 202);
    let order = eventually("a-7 handled", || async {
        Ok(gw.kv("recorder", "seen:a-7").await?.map(drop))
    });
    order.await.unwrap();
    assert_eq!(
        gw.kv("recorder", "fired:alice:expire").await.unwrap(),
        Some(json!(1))
    );
    assert!(
        gw.kv("recorder", "fired:alice:remind")
            .await
            .unwrap()
            .is_none()
    );
    // a-1..a-7 and the one timer: one audit event each, the timer's by v2.
    let alice = audited(&gw, "alice").await;
    assert_eq!(alice.len(), 8, "{alice:?}");
    let fired: Vec<&Value> = alice
        .iter()
        .map(|e| &e["event"]["data"])
        .filter(|d| !d["id"].as_str().unwrap_or_default().starts_with("a-"))
        .collect();
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0]["tag"], "v2", "{fired:?}");
    assert_eq!(gw.events("dlq.recorder").await.unwrap().len(), 1);
    gw.stop().await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_timer_fires_after_the_gateway_is_killed_and_restarted(#[case] backend: Backend) {
    let stores = Stores::start(backend).unwrap();
    let data = tempfile::tempdir().unwrap();
    let port = free_port().unwrap();
    let config = config_on(&stores, data.path(), &recorder_manifest(LIMITS))
        .unwrap()
        .replacen(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
            1,
        );
    let child = ChildGateway::start(&config, port).await.unwrap();
    let client = keyed_client(TEST_KEY).unwrap();
    let r = client
        .post(format!("{}/v1/events", child.url))
        .json(&schedule(
            "dora",
            "d-1",
            "expire",
            3000,
            json!({"order": "o-9"}),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    // Committed: the plugin says the timer is pending.
    eventually("the timer to be pending", || async {
        let listed: Value = client
            .get(format!("{}/v1/plugins", child.url))
            .send()
            .await?
            .json()
            .await?;
        let plugins = listed["plugins"].as_array().or(listed.as_array()).cloned();
        Ok(plugins
            .unwrap_or_default()
            .iter()
            .any(|p| p["name"] == "recorder" && p["timers"]["pending"] == 1)
            .then_some(()))
    })
    .await
    .unwrap();
    child.kill();

    let gw = TestGateway::start(&config).await.unwrap();
    let fired = eventually("the timer after the restart", || async {
        gw.kv("recorder", "fired:dora:expire").await
    })
    .await
    .unwrap();
    assert_eq!(fired, 1);
    eventually("no timer pending", || async {
        Ok((timers(&gw).await["pending"] == 0).then_some(()))
    })
    .await
    .unwrap();
    // The scheduling event and the timer, each handled once.
    assert_eq!(audited(&gw, "dora").await.len(), 2);
    gw.stop().await;
}
