//! `serve --watch` (`runtime.watch`): when the `.wasm` file of a configured
//! plugin changes, store it, validate it like an upload and deploy it. A
//! build that is refused (it does not compile, link or initialise, or
//! imports what the manifest does not grant) leaves the running version
//! serving; the reason goes to the log and the plugin's log book. Changes
//! are debounced, so a file written in several steps is read once, whole.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::VersionLoader;
use crate::config::{PluginManifest, Settings};
use crate::registry::Registry;
use crate::runtime::log_book::LineOf;

/// Quiet time after the last change of a file before it is read.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// Why the watch could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {dir} for plugin changes: {source}")]
pub struct WatchError {
    dir: PathBuf,
    source: notify::Error,
}

/// Watch the `.wasm` files of the configured plugins until `stop`.
pub fn spawn(
    tasks: &mut JoinSet<()>,
    settings: &Settings,
    registry: Arc<Registry>,
    loader: Arc<VersionLoader>,
    stop: watch::Receiver<bool>,
) -> Result<(), WatchError> {
    // File → the configured manifest of its plugin. Directories are watched
    // (not files) so a build that replaces the file is seen too.
    let mut files: HashMap<PathBuf, PluginManifest> = HashMap::new();
    let mut dirs = BTreeSet::new();
    // A built-in plugin changes with the binary, not a file.
    for manifest in settings
        .plugins
        .iter()
        .filter(|m| crate::builtin::name_in(&m.wasm).is_none())
    {
        let wasm = settings.wasm_path(manifest);
        let (Some(dir), Some(name)) = (wasm.parent(), wasm.file_name()) else {
            continue;
        };
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        files.insert(dir.join(name), manifest.clone());
        dirs.insert(dir);
    }
    let (changed, mut changes) = mpsc::unbounded_channel();
    let watched: Vec<PathBuf> = files.keys().cloned().collect();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        if event.kind.is_access() {
            return;
        }
        for path in event.paths.iter().filter(|p| watched.contains(p)) {
            let _ = changed.send(path.clone());
        }
    })
    .map_err(|source| WatchError {
        dir: PathBuf::new(),
        source,
    })?;
    for dir in &dirs {
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|source| WatchError {
                dir: dir.clone(),
                source,
            })?;
        tracing::info!(dir = %dir.display(), "watching plugin files for changes");
    }
    let mut stop = stop;
    tasks.spawn(async move {
        let _watcher = watcher;
        loop {
            let first = tokio::select! {
                path = changes.recv() => match path { Some(p) => p, None => return },
                _ = stop.wait_for(|s| *s) => return,
            };
            let mut paths = BTreeSet::from([first]);
            while let Ok(Some(path)) = tokio::time::timeout(DEBOUNCE, changes.recv()).await {
                paths.insert(path);
            }
            for path in paths {
                if let Some(manifest) = files.get(&path) {
                    reload(&registry, &loader, manifest, &path).await;
                }
            }
        }
    });
    Ok(())
}

/// Store, validate and deploy the component at `path` as a version of
/// `manifest`'s plugin, unless it is what runs already.
async fn reload(
    registry: &Registry,
    loader: &VersionLoader,
    manifest: &PluginManifest,
    path: &Path,
) {
    let plugin = manifest.name.as_str();
    let Some(live) = registry.get(plugin) else {
        return;
    };
    let note = |level: &'static str, version: &str, message: &str| {
        let of = LineOf {
            plugin,
            version,
            event: "",
            source: "host",
        };
        loader.logs().record(of, level, message);
    };
    let component = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(%plugin, path = %path.display(), error = %e, "cannot read the changed plugin file");
            return;
        }
    };
    let digest = crate::runtime::component_cache::digest(&component);
    if live.id == super::version_id(&digest, manifest) {
        return;
    }
    match loader.store_and_load(manifest, component, "watch").await {
        Ok((stored, version)) => match registry.deploy(version) {
            Ok(()) => {
                tracing::info!(%plugin, version = %stored.id, path = %path.display(), "plugin reloaded");
                note(
                    "info",
                    &stored.id,
                    &format!("reloaded from {}", path.display()),
                );
            }
            Err(e) => {
                tracing::warn!(%plugin, error = %e, "reloaded plugin not deployed");
                note("warn", &stored.id, &format!("not deployed: {e}"));
            }
        },
        Err(e) => {
            tracing::warn!(%plugin, path = %path.display(), error = %e, "changed plugin refused; the running version keeps serving");
            note(
                "error",
                &live.id,
                &format!("{} refused, {} keeps serving: {e}", path.display(), live.id),
            );
        }
    }
}
