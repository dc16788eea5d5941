//! Deploys survive restarts. For each plugin the store keeps a record of
//! its live version and of the configured version it was deployed over
//! (`<data_dir>/versions/<plugin>.live`). At start, when the configuration
//! still names that same configured version, the recorded live version is
//! deployed again (the configured one becomes its previous); when the
//! configuration changed, the configuration wins. Removing a plugin drops
//! its record, so a restart runs the configured version.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::VersionLoader;
use super::store::{VersionStore, write_atomically};
use crate::registry::Registry;

/// What ran for a plugin when it last changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveRecord {
    /// The live version's id.
    pub live: String,
    /// The id of the version the configuration named then.
    pub configured: String,
}

fn record_path(store: &VersionStore, plugin: &str) -> PathBuf {
    store.dir().join(format!("{plugin}.live"))
}

/// The recorded live version of `plugin`.
pub fn read(store: &VersionStore, plugin: &str) -> Option<LiveRecord> {
    let bytes = std::fs::read(record_path(store, plugin)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn write(store: &VersionStore, plugin: &str, record: Option<&LiveRecord>) {
    let path = record_path(store, plugin);
    let written = match record {
        Some(record) => std::fs::create_dir_all(store.dir())
            .map_err(|e| e.to_string())
            .and_then(|()| {
                write_atomically(&path, &serde_json::to_vec(record).unwrap_or_default())
                    .map_err(|e| e.to_string())
            }),
        None => match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
            _ => Ok(()),
        },
    };
    if let Err(error) = written {
        tracing::warn!(%plugin, %error, "cannot record the live version; a restart runs the configured one");
    }
}

/// Deploy again what was live before the restart, where the configuration
/// did not change since. `configured`: plugin → configured version id.
pub async fn restore(
    registry: &Registry,
    loader: &VersionLoader,
    configured: &HashMap<String, String>,
) {
    for (plugin, configured_id) in configured {
        let Some(record) = read(&loader.store, plugin) else {
            continue;
        };
        if record.configured != *configured_id || record.live == *configured_id {
            continue;
        }
        let restored = match loader.store.get(plugin, &record.live) {
            Ok(stored) => loader
                .load(&stored.manifest)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match restored.map(|v| registry.deploy(v).map_err(|e| e.to_string())) {
            Ok(Ok(())) => {
                tracing::info!(%plugin, version = %record.live, "restored the version deployed before the restart");
            }
            Ok(Err(error)) | Err(error) => {
                tracing::warn!(%plugin, version = %record.live, %error, "cannot restore the deployed version; running the configured one");
            }
        }
    }
}

/// Record the live version of every configured plugin whenever the
/// registry changes, until `stop`; a change made just before the stop is
/// recorded before the task ends (a rollback acknowledged and then a
/// graceful restart must find it).
pub fn spawn_recorder(
    tasks: &mut JoinSet<()>,
    registry: Arc<Registry>,
    store: VersionStore,
    configured: HashMap<String, String>,
    mut stop: watch::Receiver<bool>,
) {
    let mut changes = registry.changes();
    tasks.spawn(async move {
        let mut written: HashMap<String, Option<LiveRecord>> = HashMap::new();
        loop {
            record_changes(&registry, &store, &configured, &mut written).await;
            let stopping = tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    false
                }
                _ = stop.wait_for(|s| *s) => true,
            };
            if stopping {
                record_changes(&registry, &store, &configured, &mut written).await;
                return;
            }
        }
    });
}

/// Write the live record of each configured plugin whose record differs
/// from what was `written` last.
async fn record_changes(
    registry: &Registry,
    store: &VersionStore,
    configured: &HashMap<String, String>,
    written: &mut HashMap<String, Option<LiveRecord>>,
) {
    let snapshot = registry.snapshot();
    for (plugin, configured_id) in configured {
        let record = snapshot.plugins.get(plugin).map(|d| LiveRecord {
            live: d.live.id.clone(),
            configured: configured_id.clone(),
        });
        if written.get(plugin) != Some(&record) {
            let store = store.clone();
            let (name, rec) = (plugin.clone(), record.clone());
            let _ = tokio::task::spawn_blocking(move || write(&store, &name, rec.as_ref())).await;
            written.insert(plugin.clone(), record);
        }
    }
}
