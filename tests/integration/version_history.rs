//! A bounded version history: each plugin keeps its newest
//! `runtime.keep_versions` versions and every version still in use or
//! named by the configuration; older uploads are deleted by themselves.

use serde_json::{Value, json};
use streamplug_tests::{TestGateway, eventually, plugin_dir, recorder_manifest};

use crate::admin::{Admin, TOKEN, manifest};
use crate::lifecycle::GRANTS;

/// The tags (`config.tag`) of the stored versions, oldest first, once they
/// are `expected`.
async fn kept(admin: &Admin, expected: &[&str]) -> Vec<String> {
    eventually(&format!("the versions kept to be {expected:?}"), || async {
        let (_, versions) = admin.get("/plugins/recorder/versions").await;
        let tags: Vec<String> = versions
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["config"]["tag"].as_str().unwrap_or("").to_owned())
            .collect();
        Ok((tags == expected).then_some(tags))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_uploads_are_deleted_but_live_previous_and_configured_versions_stay() {
    let gw = TestGateway::with_plugins(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n\
         [runtime]\nkeep_versions = 2\n[storage]\nretention_check_ms = 100\n{}",
        recorder_manifest(GRANTS)
    ))
    .await
    .unwrap();
    let admin = Admin::of(&gw);
    let wasm = std::fs::read(plugin_dir().unwrap().join("fixture_recorder.wasm")).unwrap();
    let mut ids = std::collections::HashMap::new();
    for tag in ["v2", "v3", "v4", "v5"] {
        let (status, uploaded) = admin
            .upload(
                wasm.clone(),
                &manifest(&format!("[config]\ntag = \"{tag}\"")),
            )
            .await;
        assert_eq!(status, 201, "{uploaded}");
        ids.insert(tag, uploaded["id"].as_str().unwrap().to_owned());
    }
    // The configured (and live) version and the newest two.
    kept(&admin, &["v1", "v4", "v5"]).await;

    // v4 goes live: v1 is its previous, still configured; two more uploads
    // push v5 out, not the live one.
    let (status, deployed) = admin
        .post("/plugins/recorder/deploy", json!({"version": ids["v4"]}))
        .await;
    assert_eq!(status, 200, "{deployed}");
    for tag in ["v6", "v7"] {
        let (status, uploaded): (u16, Value) = admin
            .upload(
                wasm.clone(),
                &manifest(&format!("[config]\ntag = \"{tag}\"")),
            )
            .await;
        assert_eq!(status, 201, "{uploaded}");
    }
    kept(&admin, &["v1", "v4", "v6", "v7"]).await;
    // A deleted version cannot be deployed any more; the answer says so.
    let (status, refused) = admin
        .post("/plugins/recorder/deploy", json!({"version": ids["v2"]}))
        .await;
    assert_eq!(status, 404, "{refused}");
    gw.stop().await;
}
