//! Plugin lifecycle through the gateway's registry: a new version takes the
//! next event and a rollback the one after; a paused plugin holds its events
//! and loses none; a version that fails `init`, names a topic the gateway
//! does not have or imports what it is not granted is refused while the
//! live one keeps serving; a removed plugin stops consuming.

use std::time::Duration;

use serde_json::Value;
use streamplug_tests::{TestGateway, recorder_manifest, view};

/// The `tag` of every `audit.seen` so far, in order of the events' offsets
/// (one customer, so one partition).
pub async fn tags(gw: &TestGateway, n: usize) -> Vec<String> {
    let mut audit = gw.wait_for_events("audit", n).await.unwrap();
    audit.sort_by_key(|e| e["event"]["data"]["offset"].as_u64());
    audit
        .iter()
        .map(|e| {
            e["event"]["data"]["tag"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

pub async fn post_views(gw: &TestGateway, n: usize) {
    for i in 0..n {
        let a = gw.post(&view("alice", &format!("p{i}"))).await.unwrap();
        assert_eq!(a.status, 202, "{}", a.json);
    }
}

/// The recorder imports push and outbound HTTP: a candidate must be
/// granted both.
pub const GRANTS: &str = "push_channels = [\"test\"]\nallowed_hosts = [\"http://127.0.0.1:9\"]\n[plugins.config]\ntag = \"v1\"";

/// Long enough for a running plugin to have handled an event; used only to
/// show that a paused or removed one did not.
const SETTLE: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_swap_roll_back_pause_and_are_refused_without_disturbing_the_live_one() {
    let gw = TestGateway::with_plugins(&recorder_manifest(GRANTS))
        .await
        .unwrap();
    let registry = gw.gateway.registry.clone();
    let v1 = registry.get("recorder").unwrap().manifest.clone();
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 1).await, ["v1"]);

    let mut v2 = v1.clone();
    v2.config.insert("tag".into(), "v2".into());
    registry
        .deploy(gw.gateway.load_version(&v2).await.unwrap())
        .unwrap();
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 2).await, ["v1", "v2"]);

    assert_eq!(
        registry.rollback("recorder").unwrap().manifest.config["tag"],
        "v1"
    );
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 3).await, ["v1", "v2", "v1"]);

    // Paused: events are accepted and wait; resumed: all of them, once.
    registry.set_paused("recorder", true).unwrap();
    post_views(&gw, 4).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(gw.events("audit").await.unwrap().len(), 3);
    let listed = gw.get("/v1/plugins").await.unwrap().json;
    assert_eq!(listed[0]["state"], "paused", "{listed}");
    registry.set_paused("recorder", false).unwrap();
    assert_eq!(tags(&gw, 7).await.len(), 7);

    // Refused candidates leave the live version serving.
    let mut failing = v1.clone();
    failing.config.insert("fail_init".into(), "yes".into());
    let err = gw.gateway.load_version(&failing).await.unwrap_err();
    assert!(err.to_string().contains("init failed"), "{err}");
    let mut unknown_topic = v1.clone();
    unknown_topic.publish.push("nowhere".into());
    let err = gw.gateway.load_version(&unknown_topic).await.unwrap_err();
    assert!(
        err.to_string().contains("`nowhere` does not exist"),
        "{err}"
    );
    // Outbound HTTP imported without hosts loads (warned), unlike those.
    let mut ungranted = v1.clone();
    ungranted.allowed_hosts.clear();
    assert!(gw.gateway.load_version(&ungranted).await.is_ok());
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 8).await.last().unwrap(), "v1");

    let listed = gw.get("/v1/plugins").await.unwrap().json;
    let stats = &listed[0]["stats"];
    assert_eq!(stats["ok"], Value::from(7), "{listed}");

    // Removed: no more consumption.
    registry.remove("recorder").unwrap();
    post_views(&gw, 2).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(gw.events("audit").await.unwrap().len(), 8);
    gw.stop().await;
}
