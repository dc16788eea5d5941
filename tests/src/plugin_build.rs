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
    once(&BUILT, || {
        let mut args = vec!["build", "--target", "wasm32-wasip2", "--profile", "plugin"];
        for p in plugin_packages() {
            args.extend(["-p", p]);
        }
        cargo(&args, &[], "the plugins")?;
        Ok(workspace_root().join("target/wasm32-wasip2/plugin"))
    })
}

/// The `streamplug` binary (debug), built on first use: the program an
/// operator installs, for tests that run it as one.
pub fn streamplug_binary() -> Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    once(&BUILT, || {
        // The components the binary embeds: the ones built for the tests.
        let plugins = plugin_dir()?;
        cargo(
            &["build", "-p", "streamplug", "--bin", "streamplug"],
            &[("STREAMPLUG_PREBUILT_PLUGINS", plugins.as_os_str())],
            "streamplug",
        )?;
        Ok(workspace_root().join("target/debug/streamplug"))
    })
}

/// What `build` made, built by the first caller; every later caller gets
/// the same answer (the error too).
fn once(
    built: &'static OnceLock<Result<PathBuf, String>>,
    build: impl FnOnce() -> Result<PathBuf>,
) -> Result<PathBuf> {
    built
        .get_or_init(|| build().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

/// Run `cargo args…` in the workspace with `env`; `what` names what it builds.
fn cargo(args: &[&str], env: &[(&str, &std::ffi::OsStr)], what: &str) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(workspace_root())
        .args(args)
        .envs(env.iter().copied())
        .output()
        .with_context(|| format!("running cargo to build {what}"))?;
    if !out.status.success() {
        bail!(
            "building {what} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
