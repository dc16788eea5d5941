//! `serve --watch` (`runtime.watch`): a rebuilt plugin file goes live
//! through the validated swap; a broken one is refused and the running
//! version keeps serving.

use std::path::Path;

use streamplug_tests::{TestGateway, config, eventually, plugin_dir};

use crate::lifecycle::{post_views, tags};

/// `component` with a custom section appended: the same code, another
/// build (another digest).
fn rebuilt(component: &[u8], build: u8) -> Vec<u8> {
    let name = b"build";
    let payload_len = 1 + name.len() + 1;
    let mut out = component.to_vec();
    out.extend([
        0,
        u8::try_from(payload_len).unwrap(),
        u8::try_from(name.len()).unwrap(),
    ]);
    out.extend(name);
    out.push(build);
    out
}

/// The latest host note about `plugin` containing `text`.
fn noted(gw: &TestGateway, plugin: &str, text: &str) -> Option<String> {
    gw.gateway
        .loader
        .logs()
        .read(plugin, 0, 1000)
        .into_iter()
        .rev()
        .find(|l| l.source == "host" && l.message.contains(text))
        .map(|l| l.message)
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_deploys_a_rebuilt_plugin_and_refuses_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("recorder.wasm");
    let original = std::fs::read(plugin_dir().unwrap().join("fixture_recorder.wasm")).unwrap();
    write(&wasm, &original);
    let plugins = format!(
        "[[plugins]]\nname = \"recorder\"\nwasm = \"{}\"\nsubscribe = [\"customer-interactions\"]\npublish = [\"audit\"]\npush_channels = [\"test\"]\nallowed_hosts = [\"http://127.0.0.1:9\"]\n[plugins.config]\ntag = \"v1\"",
        wasm.display()
    );
    let toml = config(&dir.path().join("data"), &plugins)
        .unwrap()
        .replace("max_instances = 16", "max_instances = 16\nwatch = true");
    let gw = TestGateway::start(&toml).await.unwrap();
    let registry = gw.gateway.registry.clone();
    let v1 = registry.get("recorder").unwrap().id.clone();
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 1).await.len(), 1);

    write(&wasm, &rebuilt(&original, 1));
    let v2 = eventually("the rebuilt plugin is live", || async {
        let live = registry.get("recorder").unwrap().id.clone();
        Ok((live != v1).then_some(live))
    })
    .await
    .unwrap();
    // The note follows the deploy (it is written once the new version is
    // live), so it may come a moment after the registry shows the version.
    eventually("the reload is noted in the plugin's log", || async {
        Ok(noted(&gw, "recorder", "reloaded from"))
    })
    .await
    .unwrap();
    let stored = gw.gateway.loader.store.list("recorder").unwrap();
    assert!(
        stored.iter().any(|v| v.id == v2 && v.source == "watch"),
        "{stored:?}"
    );
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 2).await.len(), 2);
    assert_eq!(
        gw.gateway
            .registry
            .deployment("recorder")
            .unwrap()
            .previous
            .unwrap()
            .id,
        v1
    );

    // A broken build: refused, the rebuilt version keeps serving.
    write(&wasm, b"\0asm half-written garbage");
    let refusal = eventually("the broken build is refused", || async {
        Ok(noted(&gw, "recorder", "refused"))
    })
    .await
    .unwrap();
    assert!(
        refusal.contains(&format!("{v2} keeps serving")),
        "{refusal}"
    );
    assert_eq!(registry.get("recorder").unwrap().id, v2);
    post_views(&gw, 1).await;
    assert_eq!(tags(&gw, 3).await.len(), 3);
    gw.stop().await;
}
