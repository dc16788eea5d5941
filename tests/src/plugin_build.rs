//! The plugins and fixtures the tests load, built from source once per test
//! run (the first test that asks builds them all in one cargo call).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context as _, Result, bail};

use crate::workspace_root;

/// The plugins and fixtures the tests use (workspace package names), from
/// `tests/plugins.txt`, the list `make test-plugins` builds too.
pub fn plugin_packages() -> impl Iterator<Item = &'static str> {
    include_str!("../plugins.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

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
    for p in plugin_packages() {
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

/// The `streamplug` binary (debug), built on first use: the program an
/// operator installs, for tests that run it as one.
pub fn streamplug_binary() -> Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build_binary().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build_binary() -> Result<PathBuf> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "-p", "streamplug", "--bin", "streamplug"])
        // The components the binary embeds: the ones just built for the tests.
        .env("STREAMPLUG_PREBUILT_PLUGINS", plugin_dir()?)
        .output()
        .context("running cargo to build streamplug")?;
    if !out.status.success() {
        bail!(
            "building streamplug failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(root.join("target/debug/streamplug"))
}
