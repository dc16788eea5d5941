//! Schemathesis (PyPI), the API fuzzer the contract tests run: it reads an
//! OpenAPI document, generates requests that follow it and requests that
//! break it, and checks every answer against the document (no 5xx, the
//! documented status codes, content types, headers and schemas; valid
//! input accepted, invalid input refused). `scripts/setup-test.sh`
//! installs it in `target/test-venv`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::workspace_root;

/// One Schemathesis run against a live API.
pub struct Run<'a> {
    /// The API's document, a file.
    pub schema: &'a Path,
    /// Where the API answers, `http://127.0.0.1:PORT`.
    pub base_url: &'a str,
    /// `Authorization: Bearer <token>` on every request.
    pub bearer: &'a str,
    /// Requests per operation and phase.
    pub max_examples: u32,
    /// Fixed, so a failure reproduces (`--seed`).
    pub seed: u64,
    /// Checks left out, with the reason, when the document cannot say what
    /// the check asks for.
    pub exclude_checks: &'a [&'a str],
}

impl Run<'_> {
    /// Run it; its report when every check held, the report as the error
    /// otherwise.
    pub fn passes(&self) -> Result<String> {
        let schemathesis = crate::venv_tool("schemathesis")?;
        // Its cache and reports go under target/, not the checkout.
        let dir = workspace_root().join("target/tmp/schemathesis");
        std::fs::create_dir_all(&dir)?;
        let mut command = Command::new(schemathesis);
        command
            .current_dir(&dir)
            .arg("--config-file")
            .arg(workspace_root().join("tests/schemathesis.toml"))
            .arg("run")
            .arg(self.schema)
            .args(["--url", self.base_url])
            .args([
                "--header",
                &format!("Authorization: Bearer {}", self.bearer),
            ])
            .args(["--checks", "all"])
            .args(["--max-examples", &self.max_examples.to_string()])
            .args(["--seed", &self.seed.to_string()])
            .args(["--workers", "2", "--request-timeout", "35"])
            // A reply wait may hold an ingest request 30 s.
            .args(["--max-response-time", "31"])
            .args(["--suppress-health-check", "all", "--no-color"])
            .env("SCHEMATHESIS_HOOKS", "")
            .env("NO_COLOR", "1");
        if !self.exclude_checks.is_empty() {
            command.args(["--exclude-checks", &self.exclude_checks.join(",")]);
        }
        let out = command.output().context("running schemathesis")?;
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            bail!("schemathesis found failures:\n{report}");
        }
        Ok(report)
    }
}
