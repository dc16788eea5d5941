//! The plugins and fixtures the tests load, built from source once per test
//! run (the first test that asks builds them all in one cargo call).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context as _, Result, bail};

use crate::workspace_root;

/// The plugins and fixtures the tests use (workspace package names).
pub const PLUGIN_PACKAGES: &[&str] = &[
    "recommend",
    "support-bot",
    "crm-sync",
    "fixture-recorder",
    "fixture-spin-forever",
    "fixture-memory-hog",
    "fixture-trap",
    "fixture-always-retry",
];

/// Directory of the built components; builds them on first use.
pub fn plugin_dir() -> Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_plugins().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build_plugins() -> Result<PathBuf> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--target", "wasm32-wasip2", "--profile", "plugin"]);
    for p in PLUGIN_PACKAGES {
        cmd.args(["-p", p]);
    }
    let out = cmd.output().context("running cargo to build the plugins")?;
    if !out.status.success() {
        bail!(
            "building plugins failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(root.join("target/wasm32-wasip2/plugin"))
}
