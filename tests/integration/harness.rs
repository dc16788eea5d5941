//! `streamplug plugin test`, the offline harness, on a plugin of each
//! language: the Python and JavaScript examples against the events and
//! expectations in their directories (and a JavaScript run that misses one),
//! and crm-sync (Rust) with its Salesforce answers from a fixtures file
//! (outbound HTTP from Python and JavaScript is in `harness_http.rs`, the
//! errors a plugin author meets in `author_errors.rs`). No gateway, broker
//! or server runs.

use std::path::{Path, PathBuf};

use serde_json::Value;
use streamplug_tests::{plugin_dir, streamplug_plugin};

pub fn repo(path: &str) -> String {
    format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))
}

pub fn wasm(file: &str) -> String {
    plugin_dir().unwrap().join(file).display().to_string()
}

/// Run `streamplug plugin test ARGS…` with the tests' compiled-component
/// cache: what it printed, and how it ended.
pub async fn plugin_test(args: &[&str]) -> (String, Result<(), String>) {
    let cache = plugin_dir().unwrap().join("../../tmp/compiled-plugins");
    let cache = cache.display().to_string();
    streamplug_plugin(&[&["test", "--cache-dir", &cache], args].concat()).await
}

/// A file under the test's own temporary directory.
pub fn scratch(name: &str, text: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("harness");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

pub fn example(name: &str, wasm_file: &str, file: &str) -> Vec<String> {
    let dir = repo(&format!("examples/{name}"));
    vec![
        wasm(wasm_file),
        "--manifest".into(),
        format!("{dir}/plugin.toml"),
        "--events".into(),
        format!("{dir}/events.jsonl"),
        "--expect".into(),
        format!("{dir}/{file}"),
    ]
}

pub fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Build `dir/app.js` into `dir/p.wasm` with the componentize-js `make
/// test` installed, against the WIT at `wit`, disabling `features`.
pub fn componentize_js(dir: &Path, wit: &str, features: &[&str]) {
    let mut tool = std::process::Command::new(repo("sdk/js/node_modules/.bin/componentize-js"));
    tool.args(["--wit", wit, "--world-name", "plugin", "-d"])
        .args(features)
        .args(["-o", "p.wasm", "app.js"]);
    build_in(dir, tool);
}

/// Build `dir/app.py` into `dir/p.wasm` with the componentize-py `make
/// test` installed and the Python SDK, against the repository's WIT world
/// `world`.
pub fn componentize_py(dir: &Path, world: &str) {
    let mut tool = std::process::Command::new(repo("target/py-plugins/bin/componentize-py"));
    tool.args(["-d", &repo("wit"), "-w", world, "componentize", "app"])
        .args(["-p", &repo("sdk/python"), "-p", ".", "-o", "p.wasm"]);
    build_in(dir, tool);
}

/// Run a toolchain `tool` in `dir`; its errors fail the test.
fn build_in(dir: &Path, mut tool: std::process::Command) {
    let built = tool.current_dir(dir).output().unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_plugin_runs_offline_and_meets_its_expectations() {
    let args = example("fraud-flagger", "fraud_flagger.wasm", "expect.json");
    let (out, ended) = plugin_test(&strs(&args)).await;
    assert_eq!(ended, Ok(()), "{out}");
    assert!(out.contains("#4 order.placed mallory (line 5, m-4): ok\n    publish risk-alerts order.flagged key=mallory {\"currency\":\"EUR\",\"customer\":\"mallory\",\"order\":\"m-4\",\"reasons\":[\"4 orders within an hour (limit 3)\"]"), "{out}");
    assert!(
        out.contains("    log     warn  order m-4 of mallory flagged"),
        "{out}"
    );
    assert!(out.contains("#12 product.viewed alice (line 13, line-13): not handled: the manifest does not subscribe to `customer-interactions`"), "{out}");
    assert!(out.contains("events: 12, ok: 11, not ok: 0, not handled: 1; publishes: 3, pushes: 0, KV writes: 11, HTTP requests: 0"), "{out}");
    assert!(out.contains("expectations: all 48 hold"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_plugin_that_misses_an_expectation_fails_the_run() {
    let args = example("cart-nudger", "cart_nudger.wasm", "expect.json");
    let (out, ended) = plugin_test(&strs(&args)).await;
    assert_eq!(ended, Ok(()), "{out}");
    assert!(out.contains("expectations: all 57 hold"), "{out}");

    // The author thinks alice waited 40 minutes; she waited 44.
    let expect = std::fs::read_to_string(repo("examples/cart-nudger/expect.json")).unwrap();
    let wrong = expect.replacen("\"idle_minutes\": 44", "\"idle_minutes\": 40", 1);
    assert_ne!(wrong, expect);
    let mut args = example("cart-nudger", "cart_nudger.wasm", "expect.json");
    args[6] = scratch("cart-nudger-wrong.json", &wrong);
    let (out, ended) = plugin_test(&strs(&args)).await;
    assert_eq!(
        ended,
        Err("1 of 57 expectations do not hold".into()),
        "{out}"
    );
    assert!(out.contains("expectations: 1 of 57 do not hold:\n    events[3].publishes[0].data.idle_minutes: expected 40, got 44"), "{out}");

    // The same as JSON: the report, and what did not hold.
    args.push("--json".into());
    let (out, ended) = plugin_test(&strs(&args)).await;
    assert!(ended.is_err());
    let report: Value = serde_json::from_str(&out).unwrap();
    let reminder = &report["events"][3];
    assert_eq!(
        (reminder["outcome"].as_str(), reminder["id"].as_str()),
        (Some("ok"), Some("alice-45"))
    );
    assert_eq!(
        reminder["pushes"][0]["channel"], "notifications",
        "{reminder}"
    );
    assert_eq!(report["kv"]["cart:alice"]["reminded"], true, "{report}");
    assert!(report["kv"].get("cart:bob").is_none(), "{report}");
    let mismatches = &report["expectations"]["mismatches"];
    assert_eq!(
        mismatches[0]["at"], "events[3].publishes[0].data.idle_minutes",
        "{mismatches}"
    );
    assert_eq!(
        (&mismatches[0]["expected"], &mismatches[0]["actual"]),
        (&Value::from(40), &Value::from(44))
    );
}

pub fn crm_sync(fixtures: bool) -> Vec<String> {
    let mut args: Vec<String> = vec![
        wasm("crm_sync.wasm"),
        "--manifest".into(),
        repo("tests/harness/crm-sync.toml"),
        "--events".into(),
        repo("tests/harness/crm-sync.events.jsonl"),
        "--json".into(),
    ];
    if fixtures {
        args.extend([
            "--fixtures".into(),
            repo("tests/harness/crm-sync.fixtures.json"),
        ]);
    }
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_plugin_gets_its_http_answers_from_fixtures_and_sends_nothing() {
    let (out, ended) = plugin_test(&strs(&crm_sync(true))).await;
    assert_eq!(ended, Ok(()), "{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let events = report["events"].as_array().unwrap();
    let outcomes: Vec<&str> = events
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["ok", "ok", "ok", "retry"], "{report}");
    let contact = &events[0]["http"][0];
    assert_eq!(
        contact["url"],
        "https://trailshop.my.salesforce.com/services/data/v64.0/composite"
    );
    assert_eq!(
        (&contact["status"], &contact["sent"]),
        (&Value::from(200), &Value::from(false))
    );
    let body = contact["body"].as_str().unwrap();
    assert!(
        body.contains("/sobjects/Contact/") && !body.contains("/sobjects/Task/"),
        "{body}"
    );
    assert!(
        events[1]["http"][0]["body"]
            .as_str()
            .unwrap()
            .contains("Where is my tent?"),
        "{report}"
    );
    assert_eq!(events[3]["http"][0]["status"], 403);
    assert_eq!(
        events[3]["reason"],
        "Salesforce answered 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded."
    );
    assert_eq!(report["kv"]["profile:alice"]["email"], "alice@example.com");

    // Without fixtures every request is answered 503, which the plugin retries.
    let (out, _) = plugin_test(&strs(&crm_sync(false))).await;
    let report: Value = serde_json::from_str(&out).unwrap();
    let first = &report["events"][0];
    assert_eq!(
        (&first["outcome"], &first["http"][0]["status"]),
        (&Value::from("retry"), &Value::from(503)),
        "{first}"
    );
    assert!(
        report["kv"].as_object().unwrap().is_empty(),
        "a retried event writes nothing: {report}"
    );
}
