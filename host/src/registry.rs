//! The plugin registry: a copy-on-write snapshot of what runs for each
//! plugin (its live version, the one before it, whether it is paused)
//! behind `arc-swap`. Readers (the dispatch workers, once per event) load
//! the snapshot without locking; a change publishes a new snapshot
//! atomically, so an event in flight finishes on the version it started
//! with and the next event of the stream goes to the new one. Changes are
//! serialised by a mutex and announced on a watch channel.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use tokio::sync::watch;

use crate::config::PluginManifest;
use crate::runtime::plugin::PluginVersion;

/// A plugin version as the registry sees it: something with a manifest.
pub trait Versioned {
    /// The manifest it was loaded with.
    fn manifest(&self) -> &PluginManifest;
}

impl Versioned for PluginVersion {
    fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }
}

/// What runs for one plugin.
pub struct Deployment<V = PluginVersion> {
    /// The version events go to.
    pub live: Arc<V>,
    /// The version the last deploy replaced: what a rollback returns to.
    pub previous: Option<Arc<V>>,
    /// Paused: its workers take no new batch until it is resumed.
    pub paused: bool,
}

impl<V> Clone for Deployment<V> {
    fn clone(&self) -> Self {
        Self {
            live: self.live.clone(),
            previous: self.previous.clone(),
            paused: self.paused,
        }
    }
}

/// The deployments at one moment.
pub struct Snapshot<V = PluginVersion> {
    /// Plugin name → what runs for it.
    pub plugins: BTreeMap<String, Deployment<V>>,
}

/// Why a registry change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No plugin of that name is deployed.
    #[error("no plugin named {0} is deployed")]
    Unknown(String),
    /// Rollback without an earlier version.
    #[error("{0} has no previous version to roll back to")]
    NoPrevious(String),
    /// The new version would consume other topics than the running one.
    #[error(
        "{plugin}: a new version must subscribe to the same topics as the running one ({running:?}, not {new:?}); remove the plugin and add it again to change them"
    )]
    Subscriptions {
        /// Plugin.
        plugin: String,
        /// Topics of the running version.
        running: Vec<String>,
        /// Topics of the refused version.
        new: Vec<String>,
    },
}

/// The deployed plugins.
pub struct Registry<V = PluginVersion> {
    current: ArcSwap<Snapshot<V>>,
    writer: Mutex<()>,
    changed: watch::Sender<u64>,
}

impl<V: Versioned> Registry<V> {
    /// A registry running `versions`, none paused.
    pub fn new(versions: impl IntoIterator<Item = Arc<V>>) -> Self {
        let plugins = versions
            .into_iter()
            .map(|live| {
                let deployment = Deployment {
                    live,
                    previous: None,
                    paused: false,
                };
                (deployment.live.manifest().name.clone(), deployment)
            })
            .collect();
        Self {
            current: ArcSwap::from_pointee(Snapshot { plugins }),
            writer: Mutex::new(()),
            changed: watch::channel(0).0,
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot<V>> {
        self.current.load_full()
    }

    /// The live version of `name`.
    pub fn get(&self, name: &str) -> Option<Arc<V>> {
        self.current
            .load()
            .plugins
            .get(name)
            .map(|d| d.live.clone())
    }

    /// What runs for `name`.
    pub fn deployment(&self, name: &str) -> Option<Deployment<V>> {
        self.current.load().plugins.get(name).cloned()
    }

    /// A receiver that sees every change (its value is a change counter).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Make `version` the live version of its plugin, keeping the one it
    /// replaces for [`Registry::rollback`]. The plugin must be deployed and
    /// the version must consume the same topics.
    pub fn deploy(&self, version: Arc<V>) -> Result<(), RegistryError> {
        let name = version.manifest().name.clone();
        self.change(&name, |d| {
            let (running, new) = (&d.live.manifest().subscribe, &version.manifest().subscribe);
            if running != new {
                return Err(RegistryError::Subscriptions {
                    plugin: name.clone(),
                    running: running.clone(),
                    new: new.clone(),
                });
            }
            d.previous = Some(std::mem::replace(&mut d.live, version.clone()));
            Ok(())
        })
    }

    /// Swap the live version of `name` with the previous one; the version
    /// now live.
    pub fn rollback(&self, name: &str) -> Result<Arc<V>, RegistryError> {
        let mut now_live = None;
        self.change(name, |d| {
            let previous = d
                .previous
                .take()
                .ok_or_else(|| RegistryError::NoPrevious(name.to_owned()))?;
            d.previous = Some(std::mem::replace(&mut d.live, previous));
            now_live = Some(d.live.clone());
            Ok(())
        })?;
        now_live.ok_or_else(|| RegistryError::Unknown(name.to_owned()))
    }

    /// Pause or resume `name`.
    pub fn set_paused(&self, name: &str, paused: bool) -> Result<(), RegistryError> {
        self.change(name, |d| {
            d.paused = paused;
            Ok(())
        })
    }

    /// Stop running `name`: its workers finish their batch and its
    /// consumers leave the group.
    pub fn remove(&self, name: &str) -> Result<(), RegistryError> {
        self.update(|plugins| {
            plugins
                .remove(name)
                .map(drop)
                .ok_or_else(|| RegistryError::Unknown(name.to_owned()))
        })
    }

    /// Apply `edit` to the deployment of `name` and publish the result.
    fn change(
        &self,
        name: &str,
        edit: impl FnOnce(&mut Deployment<V>) -> Result<(), RegistryError>,
    ) -> Result<(), RegistryError> {
        self.update(|plugins| {
            let deployment = plugins
                .get_mut(name)
                .ok_or_else(|| RegistryError::Unknown(name.to_owned()))?;
            edit(deployment)
        })
    }

    /// Copy the snapshot, apply `edit`, publish the copy if it succeeded.
    fn update(
        &self,
        edit: impl FnOnce(&mut BTreeMap<String, Deployment<V>>) -> Result<(), RegistryError>,
    ) -> Result<(), RegistryError> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut plugins = self.current.load().plugins.clone();
        edit(&mut plugins)?;
        self.current.store(Arc::new(Snapshot { plugins }));
        self.changed.send_modify(|n| *n += 1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fake {
        manifest: PluginManifest,
        tag: &'static str,
    }

    impl Versioned for Fake {
        fn manifest(&self) -> &PluginManifest {
            &self.manifest
        }
    }

    fn version(name: &str, topics: &str, tag: &'static str) -> Arc<Fake> {
        let manifest = toml::from_str(&format!(
            "name = \"{name}\"\nwasm = \"{name}.wasm\"\nsubscribe = [{topics}]"
        ))
        .unwrap();
        Arc::new(Fake { manifest, tag })
    }

    fn live(registry: &Registry<Fake>, name: &str) -> &'static str {
        registry.get(name).unwrap().tag
    }

    #[test]
    fn deploy_keeps_the_previous_version_and_rollback_swaps_them() {
        let registry = Registry::new([version("rec", "\"a\"", "v1")]);
        let mut changes = registry.changes();
        let before = registry.snapshot();
        registry.deploy(version("rec", "\"a\"", "v2")).unwrap();
        assert!(changes.has_changed().unwrap());
        changes.mark_unchanged();
        // A reader holding the old snapshot keeps its version.
        assert_eq!(before.plugins["rec"].live.tag, "v1");
        assert_eq!(live(&registry, "rec"), "v2");
        assert_eq!(registry.rollback("rec").unwrap().tag, "v1");
        assert_eq!(live(&registry, "rec"), "v1");
        // Rolling back again returns to v2: the two swap.
        assert_eq!(registry.rollback("rec").unwrap().tag, "v2");
        assert!(changes.has_changed().unwrap());
    }

    #[test]
    fn refusals_leave_the_registry_untouched() {
        let registry = Registry::new([version("rec", "\"a\"", "v1")]);
        assert_eq!(
            registry.rollback("rec").unwrap_err(),
            RegistryError::NoPrevious("rec".into())
        );
        let err = registry
            .deploy(version("rec", "\"a\", \"b\"", "v2"))
            .unwrap_err();
        assert!(err.to_string().contains("same topics"), "{err}");
        assert_eq!(
            registry
                .deploy(version("other", "\"a\"", "v1"))
                .unwrap_err(),
            RegistryError::Unknown("other".into())
        );
        assert_eq!(live(&registry, "rec"), "v1");
        assert!(registry.deployment("rec").unwrap().previous.is_none());
        assert_eq!(*registry.changes().borrow(), 0);
    }

    #[test]
    fn pause_resume_and_remove() {
        let registry = Registry::new([version("rec", "\"a\"", "v1")]);
        registry.set_paused("rec", true).unwrap();
        assert!(registry.deployment("rec").unwrap().paused);
        registry.set_paused("rec", false).unwrap();
        assert!(!registry.deployment("rec").unwrap().paused);
        registry.remove("rec").unwrap();
        assert!(registry.get("rec").is_none());
        assert_eq!(
            registry.remove("rec").unwrap_err(),
            RegistryError::Unknown("rec".into())
        );
    }
}
