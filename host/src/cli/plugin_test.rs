//! `streamplug plugin test`: run a plugin offline on a file of events (see
//! [`crate::harness`]) and print what it did, readably or as JSON; with
//! `--expect`, fail when the expectations do not hold.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{Value, json};

use super::error::PluginCliError;
use crate::harness::{self, Harness, expect};
use crate::runtime::outbound::HttpFixtures;

/// The plugin, its manifest, its events and what to check.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The component.
    #[arg(value_name = "PLUGIN.wasm")]
    pub wasm: PathBuf,
    /// Its manifest: a plugin table, or a configuration fragment with one
    /// `[[plugins]]` table (its `wasm` is ignored).
    #[arg(long, value_name = "FILE.toml")]
    pub manifest: PathBuf,
    /// The events, one per line (JSON Lines, as the ingest API takes them).
    #[arg(long, value_name = "FILE.jsonl")]
    pub events: PathBuf,
    /// Answers to the plugin's HTTP requests (JSON list of
    /// `{method, url, status, headers, body}`; a `url` ending in `*` is a
    /// prefix). Requests without one get a 503. Nothing is ever sent.
    #[arg(long, value_name = "FILE.json")]
    pub fixtures: Option<PathBuf>,
    /// What must hold: a JSON document shaped like the `--json` report with
    /// only the parts to check. Exits non-zero when something does not hold.
    #[arg(long, value_name = "FILE.json")]
    pub expect: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where compiled components are kept between runs.
    #[arg(long, env = "STREAMPLUG_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

fn read(path: &Path) -> Result<String, PluginCliError> {
    std::fs::read_to_string(path).map_err(|source| PluginCliError::File {
        path: path.to_owned(),
        source,
    })
}

fn invalid(path: &Path, reason: impl std::fmt::Display) -> PluginCliError {
    PluginCliError::Invalid(format!("{}: {reason}", path.display()))
}

/// The default cache of compiled components: `~/.cache/streamplug/compiled`.
fn default_cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("streamplug").join("compiled"))
}

/// Run `args`, writing the report to `out`.
pub async fn run(args: TestArgs, out: &mut (dyn Write + Send)) -> Result<(), PluginCliError> {
    let manifest = harness::manifest(&read(&args.manifest)?, &args.wasm)
        .map_err(|e| invalid(&args.manifest, e))?;
    let fixtures = match &args.fixtures {
        Some(path) => HttpFixtures::from_json(&read(path)?).map_err(|e| invalid(path, e))?,
        None => HttpFixtures::default(),
    };
    let expected: Option<Value> = match &args.expect {
        Some(path) => Some(serde_json::from_str(&read(path)?).map_err(|e| invalid(path, e))?),
        None => None,
    };
    let events_text = read(&args.events)?;
    let cache_dir = args.cache_dir.or_else(default_cache_dir);
    let harness = Harness::load(manifest, fixtures, cache_dir)
        .await
        .map_err(|e| PluginCliError::Invalid(e.to_string()))?;
    let events = harness
        .events(&events_text)
        .map_err(|e| invalid(&args.events, e))?;
    let report = harness.run(&events).await;
    let report_json = serde_json::to_value(&report).unwrap_or_default();
    let checked = expected
        .as_ref()
        .map(|e| (expect::count(e), expect::check(e, &report_json)));
    if args.json {
        let mut doc = report_json;
        if let (Some((count, mismatches)), Value::Object(doc)) = (&checked, &mut doc) {
            doc.insert(
                "expectations".into(),
                json!({ "checked": count, "mismatches": mismatches }),
            );
        }
        writeln!(out, "{doc:#}")?;
    } else {
        let shown = checked.as_ref().map(|(n, m)| (*n, m.as_slice()));
        write!(out, "{}", harness::render::text(&report, shown))?;
    }
    match checked {
        Some((count, mismatches)) if !mismatches.is_empty() => Err(PluginCliError::Expectations {
            failed: mismatches.len(),
            checked: count,
        }),
        _ => Ok(()),
    }
}
