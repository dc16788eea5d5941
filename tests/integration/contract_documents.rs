//! The published documents pass the validators of their own specifications,
//! tools nobody here wrote: openapi-spec-validator (PyPI) for the OpenAPI
//! 3.1 documents of the public and admin APIs, and the AsyncAPI
//! initiative's @asyncapi/parser (npm) for docs/asyncapi.json.

use std::process::Command;

use serde_json::Value;
use streamplug_tests::{venv_tool, workspace_root};

#[test]
fn the_openapi_documents_pass_openapi_spec_validator() {
    for doc in ["docs/openapi.json", "docs/admin-openapi.json"] {
        let out = Command::new(venv_tool("openapi-spec-validator").unwrap())
            .arg(workspace_root().join(doc))
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && report.contains("OK"),
            "{doc}: {report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_asyncapi_document_passes_the_asyncapi_parser() {
    let contract = workspace_root().join("tests/contract");
    assert!(
        contract.join("node_modules/@asyncapi/parser").is_dir(),
        "tests/contract/node_modules is missing; run `make test`, which installs it"
    );
    let out = Command::new("node")
        .arg(contract.join("asyncapi.mjs"))
        .arg(workspace_root().join("docs/asyncapi.json"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{report}");
    assert_eq!(report["version"], "3.0.0");
    assert_eq!(report["errors"], serde_json::json!([]), "{report}");
    assert_eq!(report["warnings"], serde_json::json!([]), "{report}");
    assert!(report["channels"].as_u64().unwrap() >= 2, "{report}");
}
