//! Validation of a candidate version: its manifest is checked like the
//! configuration's and may only use topics the gateway has; its component
//! must target the host's WIT world, import nothing its manifest does not
//! grant, compile, link, and accept its config in `init`. Only then can the
//! registry deploy it.

use std::sync::Arc;

use super::store::{StoreError, StoredVersion, VersionStore};
use crate::config::{ConfigError, PluginManifest, Settings};
use crate::registry::Registry;
use crate::runtime::RuntimeError;
use crate::runtime::engine::PluginEngine;
use crate::runtime::log_book::LogBook;
use crate::runtime::plugin::PluginVersion;
use crate::runtime::state::HostServices;

/// Why a candidate version was refused.
#[derive(Debug, thiserror::Error)]
pub enum VersionError {
    /// The manifest is invalid, or uses topics the gateway does not have.
    #[error(transparent)]
    Manifest(#[from] ConfigError),
    /// The component did not compile, link or initialise.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// The version store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Loads and validates plugin versions for a running gateway.
pub struct VersionLoader {
    engine: PluginEngine,
    services: HostServices,
    settings: Settings,
    /// Every version, on disk (`<data_dir>/versions`).
    pub store: VersionStore,
}

impl VersionLoader {
    /// A loader for the gateway started with `settings`.
    pub fn new(engine: PluginEngine, services: HostServices, settings: Settings) -> Self {
        let store = VersionStore::new(settings.storage.data_dir.join("versions"));
        Self {
            engine,
            services,
            settings,
            store,
        }
    }

    /// The plugins' recent log lines.
    pub fn logs(&self) -> Arc<LogBook> {
        self.services.logs.clone()
    }

    /// Keep each configured plugin's running version in the store (read
    /// again only the first time).
    pub fn keep_configured(&self, registry: &Registry) {
        for manifest in &self.settings.plugins {
            let known = registry
                .get(&manifest.name)
                .is_some_and(|v| self.store.contains(&manifest.name, &v.id));
            if known {
                continue;
            }
            let stored = std::fs::read(self.settings.wasm_path(manifest))
                .map_err(|e| e.to_string())
                .and_then(|wasm| {
                    self.store
                        .put(manifest, &wasm, "config")
                        .map_err(|e| e.to_string())
                });
            if let Err(error) = stored {
                tracing::warn!(plugin = %manifest.name, %error, "cannot keep the configured version in the version store");
            }
        }
    }

    /// Validate and load the version `manifest` describes (its component
    /// resolved against `runtime.plugin_dir`). It is not live until the
    /// registry deploys it.
    pub async fn load(
        &self,
        manifest: &PluginManifest,
    ) -> Result<Arc<PluginVersion>, VersionError> {
        let settings = &self.settings;
        settings.validate_plugin(manifest)?;
        let known = settings.all_topics();
        if let Some(topic) = manifest
            .publish
            .iter()
            .chain(&manifest.subscribe)
            .cloned()
            .chain(std::iter::once(manifest.dead_letter_topic()))
            .find(|t| !known.contains(t))
        {
            return Err(ConfigError::Invalid {
                setting: format!("plugins.{}", manifest.name),
                reason: format!("topic `{topic}` does not exist on this gateway"),
            }
            .into());
        }
        let wasm = settings.wasm_path(manifest);
        let version = PluginVersion::load(&self.engine, manifest, &wasm, &self.services).await?;
        version.warn_ungranted();
        Ok(version)
    }

    /// Keep `component` with `manifest` in the store (from `source`), then
    /// validate and load it. A refused version is not kept (unless it was
    /// stored before).
    pub async fn store_and_load(
        &self,
        manifest: &PluginManifest,
        component: Vec<u8>,
        source: &'static str,
    ) -> Result<(StoredVersion, Arc<PluginVersion>), VersionError> {
        let store = self.store.clone();
        let manifest = manifest.clone();
        let (stored, created) =
            tokio::task::spawn_blocking(move || store.put(&manifest, &component, source))
                .await
                .map_err(|e| StoreError::Io {
                    path: self.settings.storage.data_dir.join("versions"),
                    source: std::io::Error::other(e),
                })??;
        match self.load(&stored.manifest).await {
            Ok(version) => Ok((stored, version)),
            Err(e) => {
                if created {
                    let _ = self.store.delete(&stored);
                }
                Err(e)
            }
        }
    }
}
