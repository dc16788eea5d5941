//! API fuzzing from the contract: Schemathesis reads the published OpenAPI
//! documents (docs/openapi.json, docs/admin-openapi.json) and sends a live
//! gateway the requests they allow and requests they do not; every answer
//! must be what the document says (no 5xx, documented statuses, content
//! types and schemas), valid requests accepted and invalid ones refused.
//! The examples are bounded and the seed fixed so CI stays in time and a
//! failure reproduces; longer runs with other seeds are in docs/FUZZING.md.

use streamplug_tests::schemathesis::{Findings, Run};
use streamplug_tests::{TEST_KEY, TestGateway, recorder_manifest, workspace_root};
use streamplug_wire::event::vocabulary::{Kind, Vocabulary};

const ADMIN_TOKEN: &str = "admin-fuzz-token-0123456789";

/// The recorder again, as the processor of every standard command (read
/// from the vocabulary, so a new one is covered): a valid command is
/// answered 200 (or 202 when the wait is short).
fn processor() -> String {
    let commands: Vec<&str> = Vocabulary::standard()
        .types()
        .iter()
        .filter(|t| t.kind == Kind::Command)
        .map(|t| t.name.as_str())
        .collect();
    format!(
        r#"
[[plugins]]
name = "processor"
wasm = "fixture_recorder.wasm"
subscribe = ["commands"]
commands = {commands:?}
publish = ["audit"]
allowed_hosts = ["http://127.0.0.1:9"]
"#
    )
}

async fn gateway() -> TestGateway {
    TestGateway::with_plugins(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{ADMIN_TOKEN}\"\n{}{}",
        recorder_manifest(""),
        processor()
    ))
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_the_public_api_as_its_document_says() -> Result<(), Findings> {
    let gw = gateway().await;
    let schema = workspace_root().join("docs/openapi.json");
    let run = Run {
        schema: &schema,
        base_url: &gw.url,
        bearer: TEST_KEY,
        max_examples: 25,
        seed: 1,
        exclude_checks: &[],
    };
    let report = tokio::task::block_in_place(|| run.passes());
    gw.stop().await;
    report.map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_the_admin_api_as_its_document_says() -> Result<(), Findings> {
    let gw = gateway().await;
    let schema = workspace_root().join("docs/admin-openapi.json");
    let base_url = format!("http://{}", gw.gateway.admin_addr.unwrap());
    let run = Run {
        schema: &schema,
        base_url: &base_url,
        bearer: ADMIN_TOKEN,
        max_examples: 25,
        seed: 1,
        exclude_checks: &[],
    };
    let report = tokio::task::block_in_place(|| run.passes());
    // It may pause, roll back or remove the plugin (its links lead from the
    // listing to the plugin's name); whatever it sent, the gateway serves.
    let health = gw.get("/healthz").await.unwrap();
    gw.stop().await;
    assert_eq!(health.status, 200, "{}", health.json);
    report.map(drop)
}
