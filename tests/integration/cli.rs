//! `streamplug plugin …` against a running gateway's admin API: list,
//! deploy an uploaded component, roll back, canary and promote, pause and
//! resume, logs, and the errors an operator sees.

use streamplug_tests::{TestGateway, plugin_dir, recorder_manifest, streamplug_plugin};

use crate::admin::{TOKEN, manifest};
use crate::lifecycle::{GRANTS, post_views, tags};

/// Run `streamplug plugin ARGS…` against `gw`: what it printed, or the
/// error it ended with.
pub async fn plugin(gw: &TestGateway, args: &[&str]) -> Result<String, String> {
    let admin = format!("http://{}", gw.gateway.admin_addr.unwrap());
    let argv = [&["--admin", &admin, "--token", TOKEN], args].concat();
    let (out, ended) = streamplug_plugin(&argv).await;
    ended.map(|()| out)
}

/// The id in `uploaded recorder <id> (...)`.
fn uploaded_id(output: &str) -> String {
    let line = output
        .lines()
        .find(|l| l.starts_with("uploaded recorder "))
        .unwrap_or_else(|| panic!("no upload line in {output}"));
    line.split_whitespace().nth(2).unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_swap_canary_and_roll_back_with_the_cli() {
    let gw = TestGateway::with_plugins(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n{}",
        recorder_manifest(GRANTS)
    ))
    .await
    .unwrap();
    let listed = plugin(&gw, &["list"]).await.unwrap();
    let header = listed.lines().next().unwrap();
    assert!(
        header.contains("PLUGIN") && header.contains("TRAP"),
        "{listed}"
    );
    assert!(
        listed.lines().nth(1).unwrap().contains("recorder"),
        "{listed}"
    );
    let v1 = gw.gateway.registry.get("recorder").unwrap().id.clone();
    post_views(&gw, 1).await;

    // Deploy a component from a file with its manifest.
    let dir = tempfile::tempdir().unwrap();
    let manifest_file = dir.path().join("recorder.toml");
    std::fs::write(&manifest_file, manifest("[config]\ntag = \"v2\"")).unwrap();
    let wasm = plugin_dir().unwrap().join("fixture_recorder.wasm");
    let (wasm, manifest_file) = (wasm.to_str().unwrap(), manifest_file.to_str().unwrap());
    let out = plugin(
        &gw,
        &[
            "deploy",
            "recorder",
            "--wasm",
            wasm,
            "--manifest",
            manifest_file,
        ],
    )
    .await
    .unwrap();
    let v2 = uploaded_id(&out);
    assert!(
        out.contains(&format!("recorder: {v2} live (running), previous {v1}")),
        "{out}"
    );
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 2).await, ["v1", "v2"]);

    let out = plugin(&gw, &["rollback", "recorder"]).await.unwrap();
    assert!(out.starts_with(&format!("recorder: {v1} live")), "{out}");
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 3).await, ["v1", "v2", "v1"]);

    // A canary of the stored v2 for every key, then promoted.
    let out = plugin(
        &gw,
        &[
            "canary",
            "recorder",
            "--version",
            &v2[..8],
            "--percent",
            "100",
        ],
    )
    .await
    .unwrap();
    assert!(
        out.contains(&format!("canary {v2} on 100.0% of keys")),
        "{out}"
    );
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 4).await.last().unwrap(), "v2");
    let listed = plugin(&gw, &["list"]).await.unwrap();
    assert!(listed.contains(&format!("{v2} (100.0%)")), "{listed}");
    let out = plugin(&gw, &["promote", "recorder"]).await.unwrap();
    assert!(out.starts_with(&format!("recorder: {v2} live")), "{out}");
    let versions = plugin(&gw, &["versions", "recorder"]).await.unwrap();
    let role = |id: &str| {
        versions
            .lines()
            .find(|l| l.contains(id))
            .map(|l| l.split_whitespace().nth(1).unwrap().to_owned())
    };
    assert_eq!(role(&v2).as_deref(), Some("live"), "{versions}");
    assert_eq!(role(&v1).as_deref(), Some("previous"), "{versions}");

    let out = plugin(&gw, &["pause", "recorder"]).await.unwrap();
    assert!(out.contains("(paused)"), "{out}");
    let out = plugin(&gw, &["resume", "recorder"]).await.unwrap();
    assert!(out.contains("(running)"), "{out}");

    // The plugin's own log lines, tagged with the version that wrote them.
    let logs = plugin(&gw, &["logs", "recorder"]).await.unwrap();
    let recorded: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("plugin: recorded "))
        .collect();
    assert_eq!(recorded.len(), 4, "{logs}");
    assert!(
        recorded[1].contains(&v2) && recorded[0].contains(&v1),
        "{logs}"
    );

    // Errors an operator can act on.
    let err = plugin(&gw, &["deploy", "recorder", "--version", "ffffff"])
        .await
        .unwrap_err();
    assert!(err.contains("(404"), "{err}");
    let err = plugin(&gw, &["promote", "recorder"]).await.unwrap_err();
    assert!(err.contains("has no canary to promote"), "{err}");
    let garbage = dir.path().join("garbage.wasm");
    std::fs::write(&garbage, b"\0asm garbage").unwrap();
    let err = plugin(
        &gw,
        &["deploy", "recorder", "--wasm", garbage.to_str().unwrap()],
    )
    .await
    .unwrap_err();
    assert!(err.contains("Plugin version refused (422"), "{err}");
    gw.stop().await;
}

/// The recorder with the admin API on, `tag` in its config.
fn admin_recorder(tag: &str) -> String {
    format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{TOKEN}\"\n{}",
        recorder_manifest(&GRANTS.replace("tag = \"v1\"", &format!("tag = \"{tag}\"")))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_survives_a_restart_until_the_configuration_changes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let start = |tag: &'static str| {
        let toml = streamplug_tests::config(&data, &admin_recorder(tag)).unwrap();
        async move { TestGateway::start(&toml).await.unwrap() }
    };
    let gw = start("v1").await;
    let v1 = gw.gateway.registry.get("recorder").unwrap().id.clone();
    let manifest_file = dir.path().join("recorder.toml");
    std::fs::write(&manifest_file, manifest("[config]\ntag = \"v2\"")).unwrap();
    let wasm = plugin_dir().unwrap().join("fixture_recorder.wasm");
    let out = plugin(
        &gw,
        &[
            "deploy",
            "recorder",
            "--wasm",
            wasm.to_str().unwrap(),
            "--manifest",
            manifest_file.to_str().unwrap(),
        ],
    )
    .await
    .unwrap();
    let v2 = uploaded_id(&out);
    gw.stop().await;

    // Same configuration: the deployed version runs again, v1 before it.
    let gw = start("v1").await;
    // (A version holds the store open: none may outlive its gateway.)
    let d = gw.gateway.registry.deployment("recorder").unwrap();
    let ids = (d.live.id.clone(), d.previous.unwrap().id.clone());
    drop(d.live);
    assert_eq!(ids, (v2.clone(), v1.clone()));
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 1).await, ["v2"]);
    plugin(&gw, &["rollback", "recorder"]).await.unwrap();
    gw.stop().await;

    // Rolled back before the restart: the configured version.
    let gw = start("v1").await;
    assert_eq!(gw.gateway.registry.get("recorder").unwrap().id, v1);
    plugin(&gw, &["deploy", "recorder", "--version", &v2])
        .await
        .unwrap();
    gw.stop().await;

    // Another configuration: it wins over the earlier deploy.
    let gw = start("v3").await;
    let tag = gw.gateway.registry.get("recorder").unwrap().manifest.config["tag"].clone();
    assert_eq!(tag, "v3");
    assert!(
        gw.gateway
            .registry
            .deployment("recorder")
            .unwrap()
            .previous
            .is_none()
    );
    gw.stop().await;
}
