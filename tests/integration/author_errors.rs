//! The errors a plugin author meets, from `streamplug plugin test`: a
//! refused config, outbound HTTP without hosts (a warning), an event the gateway would
//! refuse, a trap (the WIT function, the plugin, what it printed, the wasm
//! backtrace), and an import the gateway does not provide.

use std::path::PathBuf;

use crate::harness::{componentize_js, crm_sync, example, plugin_test, repo, scratch, strs, wasm};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_authors_get_errors_that_say_what_went_wrong() {
    // A JavaScript plugin that refuses its config.
    let manifest = std::fs::read_to_string(repo("examples/cart-nudger/plugin.toml")).unwrap();
    let soon = scratch(
        "nudger-soon.toml",
        &manifest.replace("idle_minutes = \"30\"", "idle_minutes = \"soon\""),
    );
    let mut args = example("cart-nudger", "cart_nudger.wasm", "expect.json");
    args[2] = soon;
    let (_, ended) = plugin_test(&strs(&args)).await;
    let err = ended.unwrap_err();
    assert!(err.contains("plugin `cart-nudger`: init failed: Error: config: `soon` is not a number, provided by idle_minutes"), "{err}");

    // A plugin that makes HTTP requests, without hosts to make them to.
    let manifest = std::fs::read_to_string(repo("tests/harness/crm-sync.toml")).unwrap();
    let no_hosts = scratch(
        "crm-no-hosts.toml",
        &manifest.replace("allowed_hosts", "# allowed_hosts"),
    );
    let mut args = crm_sync(true);
    args[2] = no_hosts;
    // It loads (whether it calls out can depend on its config), warned.
    let (out, _) = plugin_test(&strs(&args)).await;
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let warning = report["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.starts_with("it imports `wasi:http/outgoing-handler@0.2.")
            && warning.ends_with(
                "but its manifest grants no `allowed_hosts`: every request it makes will be denied"
            ),
        "{out}"
    );

    // An event the gateway would refuse at ingest.
    let bad = scratch(
        "bad.jsonl",
        "{\"type\":\"support.message\",\"customer\":\"a\",\"data\":{\"text\":\"hi\",\"session\":\"s\"}}\n{\"type\":\"cart.item_added\",\"customer\":\"a\",\"data\":{}}\n",
    );
    let mut args = crm_sync(true);
    args[4] = bad;
    let (_, ended) = plugin_test(&strs(&args)).await;
    let err = ended.unwrap_err();
    assert!(
        err.ends_with("bad.jsonl: line 2: /data/product: \"product\" is a required property"),
        "{err}"
    );

    // A trap: the WIT function, the plugin, what it printed, the backtrace.
    let trap = scratch(
        "trap.toml",
        "name = \"trap\"\nsubscribe = [\"customer-interactions\"]\n",
    );
    let events = scratch(
        "views.jsonl",
        "{\"type\":\"product.viewed\",\"customer\":\"a\",\"id\":\"v-1\",\"data\":{\"product\":\"tent\"}}\n{\"type\":\"product.viewed\",\"customer\":\"a\",\"id\":\"v-2\",\"data\":{\"product\":\"tent\"}}\n",
    );
    let (out, ended) = plugin_test(&[
        &wasm("fixture_trap.wasm"),
        "--manifest",
        &trap,
        "--events",
        &events,
    ])
    .await;
    assert_eq!(ended, Ok(()), "{out}");
    assert!(out.contains("#1 product.viewed a (line 1, v-1): trap: in `streamplug:plugin/handler@0.1.0#handle` of plugin `trap` ("), "{out}");
    assert!(
        out.contains("plugin output: ") && out.contains("fixture trap on event v-1"),
        "{out}"
    );
    assert!(out.contains("fixture_trap::"), "the wasm backtrace: {out}");
    assert!(
        out.contains("#2 product.viewed a (line 2, v-2): trap"),
        "a fresh instance for the next event: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_built_against_an_interface_the_host_lacks_is_named_with_it() {
    // A JavaScript plugin built against a `wit/` with one interface more
    // than the gateway's (an author on a newer or forked world).
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("harness/extra-import");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("wit/deps")).unwrap();
    for entry in std::fs::read_dir(repo("wit/deps")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join("wit/deps").join(path.file_name().unwrap())).unwrap();
    }
    for entry in std::fs::read_dir(repo("wit")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace(
            "    import log;\n",
            "    import log;\n    import metrics;\n",
        );
        std::fs::write(dir.join("wit").join(path.file_name().unwrap()), text).unwrap();
    }
    std::fs::write(
        dir.join("wit/metrics.wit"),
        "package streamplug:plugin@0.1.0;\n\ninterface metrics {\n    count: func(name: string, by: u64);\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("app.js"),
        "import { count } from 'streamplug:plugin/metrics@0.1.0';\n\
         export const handler = { init(config) {}, handle(event) { count('seen', 1n); } };\n",
    )
    .unwrap();
    componentize_js(&dir, "wit", &["http", "fetch-event"]);

    let manifest = scratch(
        "metrics.toml",
        "name = \"counter\"\nsubscribe = [\"customer-interactions\"]\n",
    );
    let events = scratch(
        "one-view.jsonl",
        "{\"type\":\"product.viewed\",\"customer\":\"a\",\"data\":{\"product\":\"tent\"}}\n",
    );
    let wasm = dir.join("p.wasm").display().to_string();
    let (_, ended) = plugin_test(&[&wasm, "--manifest", &manifest, "--events", &events]).await;
    let err = ended.unwrap_err();
    assert!(
        err.starts_with("plugin `counter`: cannot load its imports: "),
        "{err}"
    );
    assert!(err.contains("`streamplug:plugin/metrics@0.1.0`"), "{err}");
    assert!(err.contains("this gateway provides the world `plugin` of streamplug:plugin@0.1.0 (build against its `wit/`)"), "{err}");
}
