//! Bounded version history: each plugin keeps its newest
//! `runtime.keep_versions` stored versions, and every version the registry
//! or a restart may still need (live, previous, canary, shadow, configured,
//! recorded live); the rest are deleted. Compiled components in the
//! gateway's own cache (`<data_dir>/compiled`) that no kept version uses,
//! or that another engine compiled, are removed with them. A cache set with
//! `runtime.cache_dir` may be shared by other gateways, so it is left alone.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::persist;
use super::store::{StoreError, VersionStore};
use crate::registry::Registry;
use crate::runtime::component_cache;
use crate::runtime::engine::PluginEngine;

/// Counter of stored versions deleted by the history bound.
pub const PRUNED_VERSIONS: &str = "streamplug_plugin_versions_pruned_total";
/// Counter of compiled components removed from the cache.
pub const PRUNED_COMPILED: &str = "streamplug_compiled_components_pruned_total";

/// What pruning needs to know.
pub struct Pruner {
    /// The version store.
    pub store: VersionStore,
    /// The registry, for the versions in use.
    pub registry: Arc<Registry>,
    /// Newest versions kept per plugin (`0`: all).
    pub keep: usize,
    /// Plugin → its configured version's id.
    pub configured: HashMap<String, String>,
    /// The gateway's own compiled-component cache, if it prunes one.
    pub compiled: Option<(PluginEngine, PathBuf)>,
}

/// What one pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Stored versions deleted.
    pub versions: usize,
    /// Compiled components removed.
    pub compiled: usize,
}

impl Pruner {
    /// The ids of `plugin`'s versions that must stay whatever their age.
    fn protected(&self, plugin: &str) -> HashSet<String> {
        let mut ids = HashSet::new();
        if let Some(d) = self.registry.snapshot().plugins.get(plugin) {
            ids.insert(d.live.id.clone());
            ids.extend(d.previous.as_ref().map(|v| v.id.clone()));
            ids.extend(d.canary.as_ref().map(|c| c.version.id.clone()));
            ids.extend(d.shadow.as_ref().map(|s| s.version.id.clone()));
        }
        ids.extend(self.configured.get(plugin).cloned());
        if let Some(record) = persist::read(&self.store, plugin) {
            ids.insert(record.live);
            ids.insert(record.configured);
        }
        ids
    }

    /// Prune every plugin's history, then the compiled cache.
    pub fn run_once(&self) -> Result<Pruned, StoreError> {
        let mut pruned = Pruned::default();
        let mut digests = HashSet::new();
        for plugin in self.store.plugins()? {
            let protected = self.protected(&plugin);
            let (deleted, kept) = self.store.prune(&plugin, self.keep, &protected)?;
            for version in &deleted {
                tracing::info!(%plugin, version = %version.id, "deleted an old plugin version");
            }
            pruned.versions += deleted.len();
            digests.extend(kept.into_iter().map(|v| v.digest));
        }
        if let Some((engine, dir)) = &self.compiled {
            pruned.compiled = component_cache::prune(engine.wasmtime(), dir, &digests);
        }
        metrics::counter!(PRUNED_VERSIONS).increment(pruned.versions as u64);
        metrics::counter!(PRUNED_COMPILED).increment(pruned.compiled as u64);
        Ok(pruned)
    }
}

/// Prune at start, whenever the registry changes and every `every`, until
/// `stop`.
pub fn spawn(
    tasks: &mut JoinSet<()>,
    pruner: Pruner,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut changes = pruner.registry.changes();
    let pruner = Arc::new(pruner);
    tasks.spawn(async move {
        loop {
            let pass = pruner.clone();
            match tokio::task::spawn_blocking(move || pass.run_once()).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "pruning plugin versions failed"),
                Err(error) => tracing::warn!(%error, "pruning plugin versions stopped"),
            }
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    });
}
