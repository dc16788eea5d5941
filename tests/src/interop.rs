//! The independent Kafka client (kafka-python) the interop tests run.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::workspace_root;

/// Python with kafka-python, from the virtualenv `scripts/setup-test.sh`
/// creates under `target/test-venv`.
pub fn interop_python() -> Result<PathBuf> {
    let python = workspace_root().join("target/test-venv/bin/python");
    if !python.is_file() {
        bail!(
            "{} is missing; run `make test`, which creates it",
            python.display()
        );
    }
    Ok(python)
}

/// Run `tests/interop/kafka_client.py` with `args`; its standard output.
pub fn kafka_client(args: &[&str]) -> Result<String> {
    let out = Command::new(interop_python()?)
        .arg(workspace_root().join("tests/interop/kafka_client.py"))
        .args(args)
        .output()
        .context("running the kafka-python client")?;
    if !out.status.success() {
        bail!(
            "kafka-python client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}
