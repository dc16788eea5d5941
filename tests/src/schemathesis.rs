//! Schemathesis (PyPI), the API fuzzer the contract tests run: it reads an
//! OpenAPI document, generates requests that follow it and requests that
//! break it, and checks every answer against the document (no 5xx, the
//! documented status codes, content types, headers and schemas; valid
//! input accepted, invalid input refused). `scripts/setup-test.sh`
//! installs it in `target/test-venv`.

use std::fmt;
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

/// What a failed run found, as a test's error: its `Debug` is the report's
/// text itself, so a test returning `Result<(), Findings>` ends with the
/// findings, not with a backtrace that hides them.
pub struct Findings(String);

impl fmt::Debug for Findings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Run<'_> {
    /// Run it; its report when every check held, the findings otherwise.
    pub fn passes(&self) -> Result<String, Findings> {
        self.run().map_err(|e| Findings(format!("{e:#}")))
    }

    fn run(&self) -> Result<String> {
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
            // One worker: with two, a generated event and its copy could
            // race (409 while the first is being written) and the stateful
            // phase's order would vary; one keeps a seed's run the same.
            .args(["--workers", "1", "--request-timeout", "35"])
            // A reply wait may hold an ingest request 30 s.
            .args(["--max-response-time", "31"])
            .args(["--suppress-health-check", "all", "--no-color"])
            .env("SCHEMATHESIS_HOOKS", "")
            .env("NO_COLOR", "1");
        if !self.exclude_checks.is_empty() {
            command.args(["--exclude-checks", &self.exclude_checks.join(",")]);
        }
        let stem = self
            .schema
            .file_stem()
            .map_or_else(|| "schema".into(), |s| s.to_string_lossy());
        let junit = dir.join(format!("{stem}.junit.xml"));
        command
            .args(["--report", "junit"])
            .arg("--report-junit-path")
            .arg(&junit);
        let out = command.output().context("running schemathesis")?;
        let report = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let log = dir.join(format!("{stem}.log"));
        std::fs::write(&log, &report)?;
        if !out.status.success() {
            bail!(
                "schemathesis found failures (whole report in {}, JUnit in {}):\n{}",
                log.display(),
                junit.display(),
                failures_first(&report)
            );
        }
        Ok(report)
    }
}

/// The report's failures and summary, which follow its progress lines:
/// what a reader of a failed test needs, first and bounded, so a CI log
/// that keeps only the tail of a panic still shows them.
fn failures_first(report: &str) -> &str {
    const MOST: usize = 12_000;
    let start = report
        .find("FAILURES")
        .or_else(|| report.find("ERRORS"))
        .map_or(0, |i| report[..i].rfind('\n').map_or(0, |n| n + 1));
    let tail = &report[start..];
    if tail.len() <= MOST {
        return tail;
    }
    let mut end = MOST;
    while !tail.is_char_boundary(end) {
        end -= 1;
    }
    &tail[..end]
}
