//! The independent clients the interop tests run: kafka-python and Python
//! `websockets`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::workspace_root;

/// Python with kafka-python and websockets, from the virtualenv `scripts/setup-test.sh`
/// creates under `target/test-venv`.
pub fn interop_python() -> Result<PathBuf> {
    venv_tool("python")
}

/// The program `name` of the test virtualenv (`target/test-venv/bin`):
/// python, schemathesis, openapi-spec-validator.
pub fn venv_tool(name: &str) -> Result<PathBuf> {
    let tool = workspace_root().join("target/test-venv/bin").join(name);
    if !tool.is_file() {
        bail!(
            "{} is missing; run `make test`, which installs it",
            tool.display()
        );
    }
    Ok(tool)
}

/// Run `tests/interop/kafka_client.py` with `args`; its standard output.
pub fn kafka_client(args: &[&str]) -> Result<String> {
    interop_script("kafka_client.py", args)
}

/// Run `tests/interop/ws_client.py` (Python `websockets`) against `url`:
/// the close code and reason it read, as JSON (`{"failed": …}` when the
/// library failed the connection instead).
pub fn websockets_close(url: &str) -> Result<serde_json::Value> {
    let out = Command::new(interop_python()?)
        .arg(workspace_root().join("tests/interop/ws_client.py"))
        .arg(url)
        .output()
        .context("running the websockets client")?;
    serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "websockets client: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Run the interop script `tests/interop/<script>` with `args`; its
/// standard output.
fn interop_script(script: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(interop_python()?)
        .arg(workspace_root().join("tests/interop").join(script))
        .args(args)
        .output()
        .with_context(|| format!("running {script}"))?;
    if !out.status.success() {
        bail!("{script} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?)
}
