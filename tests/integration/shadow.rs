//! Shadow mode: a candidate gets a copy of the live events and runs with
//! its effects captured. A shadow that behaves like the live version shows
//! no difference; one that tags its audit events differently shows exactly
//! that; and none of a shadow's publishes, pushes, KV writes or HTTP
//! requests happens.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::routing::get;
use serde_json::{Value, json};
use streamplug_tests::local_server::LocalServer;
use streamplug_tests::{TestGateway, eventually, view};

use crate::admin::TOKEN;
use crate::cli::plugin;

/// A server that counts the requests it gets.
async fn counting_server() -> (LocalServer, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/ping",
        get(move || async move {
            counter.fetch_add(1, Ordering::SeqCst);
            "pong"
        }),
    );
    (LocalServer::start(app).await.unwrap(), hits)
}

/// Views by `n` new customers whose handling GETs `url` and pushes once.
async fn views(gw: &TestGateway, from: usize, n: usize, url: &str) -> Vec<String> {
    let batch: Vec<Value> = (from..from + n)
        .map(|i| {
            let mut v = view(&format!("s{i}"), "p1");
            v["data"]["http"] = json!(url);
            v["data"]["push"] = json!(1);
            v
        })
        .collect();
    let a = gw.post(&json!(batch)).await.unwrap();
    assert_eq!(a.status, 202, "{}", a.json);
    a.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Wait until the shadow of the recorder compared `n` events; its counts.
async fn compared(gw: &TestGateway, n: u64) -> (u64, u64, u64) {
    eventually("the shadow to compare the events", || async {
        let d = gw.gateway.registry.deployment("recorder").unwrap();
        let counts = d.shadow.unwrap().report.counts();
        Ok((counts.0 >= n).then_some(counts))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shadow_shows_how_its_effects_differ_and_executes_none_of_them() {
    let (server, hits) = counting_server().await;
    let origin = server.url.replace("127.0.0.1", "localhost");
    let grants = format!(
        "push_channels = [\"test\"]\nallowed_hosts = [\"{origin}\"]\nprivate_hosts = [\"localhost\"]"
    );
    let gw = TestGateway::with_plugins(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n{}\n[plugins.config]\ntag = \"v1\"",
        streamplug_tests::recorder_manifest(&grants)
    ))
    .await
    .unwrap();
    let url = format!("{origin}/ping");
    let registry = gw.gateway.registry.clone();
    let live = registry.get("recorder").unwrap();

    // The same code with an unused setting: another version, same effects.
    let mut alike = live.manifest.clone();
    alike.config.insert("unused".into(), "x".into());
    let alike = gw.gateway.load_version(&alike).await.unwrap();
    registry.start_shadow(alike, 100.0).unwrap();
    let mut ids = views(&gw, 0, 5, &url).await;
    assert_eq!(compared(&gw, 5).await, (5, 5, 0));
    registry.stop_shadow("recorder").unwrap();

    // A version that tags its audit events v2, uploaded as a shadow.
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("v2.toml");
    std::fs::write(
        &manifest,
        format!("subscribe = [\"customer-interactions\"]\npublish = [\"audit\"]\n{grants}\n[config]\ntag = \"v2\""),
    )
    .unwrap();
    let wasm = streamplug_tests::plugin_dir()
        .unwrap()
        .join("fixture_recorder.wasm");
    let out = plugin(
        &gw,
        &[
            "shadow",
            "recorder",
            "--wasm",
            wasm.to_str().unwrap(),
            "--manifest",
            manifest.to_str().unwrap(),
        ],
    )
    .await
    .unwrap();
    assert!(
        out.contains("shadow ") && out.contains("on 100.0% of keys"),
        "{out}"
    );
    ids.extend(views(&gw, 5, 5, &url).await);
    assert_eq!(compared(&gw, 5).await, (5, 0, 5));

    let report = gw
        .gateway
        .registry
        .deployment("recorder")
        .unwrap()
        .shadow
        .unwrap()
        .report
        .view("v2");
    let report = serde_json::to_value(report).unwrap();
    let difference = &report["differences"][0];
    let (l, s) = (&difference["live"], &difference["shadow"]);
    assert_eq!(l["publishes"][0]["data"]["tag"], "v1", "{difference}");
    assert_eq!(s["publishes"][0]["data"]["tag"], "v2", "{difference}");
    assert_eq!(s["pushes"], l["pushes"], "same pushes: {difference}");
    assert_eq!(s["pushes"][0]["channel"], "test");
    assert_eq!(
        l["http"][0]["sent"], true,
        "the live request was sent: {difference}"
    );
    assert_eq!(s["http"][0]["url"], json!(url));
    assert_eq!(
        s["http"][0]["sent"], false,
        "the shadow's was not: {difference}"
    );
    assert_eq!(
        s["http"][0]["status"], 200,
        "it got the live answer: {difference}"
    );
    assert_eq!(
        s["kv"], l["kv"],
        "the same KV writes, the HTTP outcome included"
    );
    let shown = plugin(&gw, &["diff", "recorder", "--limit", "1"])
        .await
        .unwrap();
    assert!(
        shown.contains("5 events compared, 0 the same, 5 different"),
        "{shown}"
    );
    assert!(
        shown.contains(r#""tag":"v2""#) && shown.contains(&format!("http    GET {url}")),
        "{shown}"
    );

    // Nothing of the shadows happened: only the live version's effects.
    assert_eq!(gw.wait_for_events("audit", 10).await.unwrap().len(), 10);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        10,
        "only the live version's requests were sent"
    );
    assert_eq!(gw.events("customer-pushes").await.unwrap().len(), 10);
    for id in &ids {
        assert_eq!(
            gw.kv("recorder", &format!("seen:{id}")).await.unwrap(),
            Some(json!(1))
        );
    }
    let out = plugin(&gw, &["shadow-stop", "recorder"]).await.unwrap();
    assert!(
        out.contains("stopped") && out.contains("5 different"),
        "{out}"
    );
    assert!(registry.deployment("recorder").unwrap().shadow.is_none());
    gw.stop().await;
}
