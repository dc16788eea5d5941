//! Misbehaving plugins are contained: their events are retried, then
//! dead-lettered with the reason, and every other plugin keeps working.

use rstest::rstest;
use serde_json::json;
use streamplug_tests::{Backend, TestGateway, recorder_manifest, view};

fn misbehaving(name: &str, wasm: &str, limits: &str) -> String {
    format!(
        r#"{recorder}

[[plugins]]
name = "{name}"
wasm = "{wasm}"
subscribe = ["customer-interactions"]
[plugins.retry]
max_attempts = 2
initial_backoff_ms = 10
[plugins.limits]
{limits}
"#,
        recorder = recorder_manifest("")
    )
}

/// Start the gateway with `plugin` beside the recorder, send events, and
/// check the recorder handled them all while `plugin`'s went to its DLQ.
async fn contained(
    backend: Backend,
    name: &str,
    wasm: &str,
    limits: &str,
    reason: &str,
) -> Vec<serde_json::Value> {
    let gw = TestGateway::on(backend, &misbehaving(name, wasm, limits))
        .await
        .unwrap();
    let batch: Vec<_> = (0..4).map(|i| view(&format!("c{i}"), "p")).collect();
    assert_eq!(gw.post(&json!(batch)).await.unwrap().status, 202);
    let dlq = gw.wait_for_events(&format!("dlq.{name}"), 4).await.unwrap();
    for d in &dlq {
        let r = d["event"]["deadletterreason"].as_str().unwrap();
        assert!(r.contains(reason), "{name}: {r}");
        assert_eq!(d["event"]["deadletterattempts"], "2");
    }
    // The other plugin was not held up, and ingest still answers.
    gw.wait_for_events("audit", 4).await.unwrap();
    assert_eq!(gw.post(&view("c9", "p")).await.unwrap().status, 202);
    gw.wait_for_events("audit", 5).await.unwrap();
    assert_eq!(gw.get("/healthz").await.unwrap().status, 200);
    gw.stop().await;
    dlq
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_that_loops_forever_is_stopped_and_gateway_keeps_serving(#[case] backend: Backend) {
    let _ = contained(
        backend,
        "spin",
        "fixture_spin_forever.wasm",
        "cpu_ms = 50\ntimeout_ms = 5000",
        "CPU time limit exceeded",
    )
    .await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_that_allocates_without_bound_is_stopped_at_its_memory_limit(
    #[case] backend: Backend,
) {
    let _ = contained(
        backend,
        "hog",
        "fixture_memory_hog.wasm",
        "memory_mib = 16",
        "growing memory",
    )
    .await;
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_that_traps_is_retried_then_dead_lettered_with_the_trap(#[case] backend: Backend) {
    let dlq = contained(backend, "trap", "fixture_trap.wasm", "", "unreachable").await;
    // The reason carries a wasm backtrace naming the plugin's own function.
    let reason = dlq[0]["event"]["deadletterreason"].as_str().unwrap();
    assert!(reason.contains("fixture_trap::"), "{reason}");
    // It names the WIT function, the plugin and its version.
    assert!(
        reason.contains("trapped: in `streamplug:plugin/handler@0.1.0#handle` of plugin `trap` ("),
        "{reason}"
    );
    // ...and what the guest printed when it panicked.
    assert!(
        reason.contains("plugin output:") && reason.contains("fixture trap on event"),
        "{reason}"
    );
}

#[rstest]
#[case::embedded(Backend::Embedded)]
#[case::kafka(Backend::Kafka)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugin_that_always_asks_for_retry_is_retried_then_dead_lettered(#[case] backend: Backend) {
    let _ = contained(
        backend,
        "retry",
        "fixture_always_retry.wasm",
        "",
        "retry requested: downstream not ready",
    )
    .await;
}
