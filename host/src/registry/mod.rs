//! The plugin registry: a copy-on-write snapshot of what runs for each
//! plugin (its live version, the one before it, a canary, whether it is
//! paused) behind `arc-swap`. Readers (the dispatch workers, once per event
//! attempt) load the snapshot without locking; a change publishes a new
//! snapshot atomically, so an event in flight finishes on the version it
//! started with and the next event of the stream goes to the new one.
//! Changes are serialised by a mutex and announced on a watch channel.

pub mod canary_watch;
mod deployment;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use arc_swap::ArcSwap;
use tokio::sync::watch;

pub use canary_watch::{CANARY_ROLLBACKS, CanaryWatch};
pub use deployment::{Canary, CanaryPolicy, Change, Deployment, Shadow, Versioned, key_bucket};

use crate::runtime::plugin::PluginVersion;

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
    /// Stop a shadow that is not running.
    #[error("{0} has no shadow")]
    NoShadow(String),
    /// Promote without a canary.
    #[error("{0} has no canary to promote")]
    NoCanary(String),
    /// A deploy while a canary runs.
    #[error("{plugin} has canary {canary} running: promote it or roll it back first")]
    CanaryRunning {
        /// Plugin.
        plugin: String,
        /// The canary's version id.
        canary: String,
    },
    /// A canary of the version that is already live.
    #[error("{plugin}: version {version} is already live")]
    AlreadyLive {
        /// Plugin.
        plugin: String,
        /// Version id.
        version: String,
    },
    /// A canary share outside 0..=100 %.
    #[error("a canary takes between 0.01 and 100 percent of the keys, not {0}")]
    Share(String),
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

/// Refuse `new` unless it consumes what `d` consumes.
fn same_subscriptions<V: Versioned>(d: &Deployment<V>, new: &V) -> Result<(), RegistryError> {
    let (running, wanted) = (&d.live.manifest().subscribe, &new.manifest().subscribe);
    if running == wanted {
        Ok(())
    } else {
        Err(RegistryError::Subscriptions {
            plugin: d.live.manifest().name.clone(),
            running: running.clone(),
            new: wanted.clone(),
        })
    }
}

/// Refuse `new` as a canary or shadow of `d` unless it consumes the same
/// topics and is not the live version itself.
fn beside_live<V: Versioned>(d: &Deployment<V>, new: &V) -> Result<(), RegistryError> {
    same_subscriptions(d, new)?;
    if d.live.id() == new.id() {
        return Err(RegistryError::AlreadyLive {
            plugin: new.manifest().name.clone(),
            version: new.id().to_owned(),
        });
    }
    Ok(())
}

impl<V: Versioned> Registry<V> {
    /// A registry running `versions`, none paused.
    pub fn new(versions: impl IntoIterator<Item = Arc<V>>) -> Self {
        let plugins = versions
            .into_iter()
            .map(|live| (live.manifest().name.clone(), Deployment::new(live)))
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

    /// The version of `name` that an event with routing key `key` goes to
    /// now: the canary's when it takes the key, the live one otherwise.
    pub fn route(&self, name: &str, key: &str) -> Option<Arc<V>> {
        self.current
            .load()
            .plugins
            .get(name)
            .map(|d| d.version_for(key).clone())
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
    /// replaces for [`Registry::rollback`]. The plugin must be deployed,
    /// run no canary, and the version must consume the same topics.
    pub fn deploy(&self, version: Arc<V>) -> Result<(), RegistryError> {
        let name = version.manifest().name.clone();
        self.change(&name, |d| {
            same_subscriptions(d, &version)?;
            if let Some(canary) = &d.canary {
                return Err(RegistryError::CanaryRunning {
                    plugin: name.clone(),
                    canary: canary.version.id().to_owned(),
                });
            }
            d.previous = Some(std::mem::replace(&mut d.live, version.clone()));
            d.note(format!("deployed {}", version.id()));
            Ok(())
        })
    }

    /// Send `percent` of the keys of its plugin to `version`, the rest
    /// staying on the live version. Starting the canary of the version that
    /// is already the canary changes its share and policy and keeps its
    /// window.
    pub fn start_canary(
        &self,
        version: Arc<V>,
        percent: f64,
        policy: CanaryPolicy,
    ) -> Result<(), RegistryError> {
        let name = version.manifest().name.clone();
        let basis_points = share(percent)?;
        self.change(&name, |d| {
            beside_live(d, &version)?;
            // The same canary again keeps its window; another replaces it.
            let (version, started, started_at) =
                match d.canary.take().filter(|c| c.version.id() == version.id()) {
                    Some(c) => (c.version, c.started, c.started_at),
                    None => (
                        version.clone(),
                        (Instant::now(), version.stats()),
                        crate::clock::now_rfc3339(),
                    ),
                };
            let id = version.id().to_owned();
            d.canary = Some(Canary {
                version,
                basis_points,
                policy,
                started,
                started_at,
            });
            d.note(format!("canary {id} on {percent}% of keys"));
            Ok(())
        })
    }

    /// Give `version` a copy of the events of `percent` of its plugin's keys
    /// in shadow mode (replacing any shadow before it).
    pub fn start_shadow(&self, version: Arc<V>, percent: f64) -> Result<(), RegistryError> {
        let name = version.manifest().name.clone();
        let basis_points = share(percent)?;
        self.change(&name, |d| {
            beside_live(d, &version)?;
            d.note(format!("shadow {} on {percent}% of keys", version.id()));
            d.shadow = Some(Shadow {
                version,
                basis_points,
                started_at: crate::clock::now_rfc3339(),
                report: Arc::default(),
            });
            Ok(())
        })
    }

    /// End the shadow of `name`; the shadow, with its final report.
    pub fn stop_shadow(&self, name: &str) -> Result<Shadow<V>, RegistryError> {
        let mut stopped = None;
        self.change(name, |d| {
            let shadow = d
                .shadow
                .take()
                .ok_or_else(|| RegistryError::NoShadow(name.to_owned()))?;
            d.note(format!("stopped shadow {}", shadow.version.id()));
            stopped = Some(shadow);
            Ok(())
        })?;
        stopped.ok_or_else(|| RegistryError::NoShadow(name.to_owned()))
    }

    /// The shadow of `name` that gets a copy of the events of `key`.
    pub fn shadow_for(&self, name: &str, key: &str) -> Option<Shadow<V>> {
        self.current
            .load()
            .plugins
            .get(name)
            .and_then(|d| d.shadow_for(key).cloned())
    }

    /// Make the canary of `name` the live version (the live one becomes the
    /// previous); the version now live.
    pub fn promote(&self, name: &str) -> Result<Arc<V>, RegistryError> {
        let mut promoted = None;
        self.change(name, |d| {
            let canary = d
                .canary
                .take()
                .ok_or_else(|| RegistryError::NoCanary(name.to_owned()))?;
            d.previous = Some(std::mem::replace(&mut d.live, canary.version));
            d.note(format!("promoted canary {}", d.live.id()));
            promoted = Some(d.live.clone());
            Ok(())
        })?;
        promoted.ok_or_else(|| RegistryError::Unknown(name.to_owned()))
    }

    /// Undo the last change of `name`: end its canary when one runs (every
    /// key goes back to the live version), otherwise swap the live version
    /// with the previous one. The version now live.
    pub fn rollback(&self, name: &str) -> Result<Arc<V>, RegistryError> {
        let mut now_live = None;
        self.change(name, |d| {
            if let Some(canary) = d.canary.take() {
                d.note(format!("rolled back canary {}", canary.version.id()));
            } else {
                let previous = d
                    .previous
                    .take()
                    .ok_or_else(|| RegistryError::NoPrevious(name.to_owned()))?;
                d.previous = Some(std::mem::replace(&mut d.live, previous));
                d.note(format!("rolled back to {}", d.live.id()));
            }
            now_live = Some(d.live.clone());
            Ok(())
        })?;
        now_live.ok_or_else(|| RegistryError::Unknown(name.to_owned()))
    }

    /// End the canary of `name` if it still is version `id`, noting why;
    /// whether it was ended.
    pub fn end_canary(&self, name: &str, id: &str, why: &str) -> bool {
        self.change(name, |d| match &d.canary {
            Some(c) if c.version.id() == id => {
                d.canary = None;
                d.note(format!("rolled back canary {id} automatically: {why}"));
                Ok(())
            }
            _ => Err(RegistryError::NoCanary(name.to_owned())),
        })
        .is_ok()
    }

    /// Pause or resume `name`.
    pub fn set_paused(&self, name: &str, paused: bool) -> Result<(), RegistryError> {
        self.change(name, |d| {
            d.paused = paused;
            d.note((if paused { "paused" } else { "resumed" }).to_owned());
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

/// `percent` of the keys in basis points.
fn share(percent: f64) -> Result<u32, RegistryError> {
    if (0.01..=100.0).contains(&percent) {
        Ok((percent * 100.0).round() as u32)
    } else {
        Err(RegistryError::Share(percent.to_string()))
    }
}

#[cfg(test)]
mod tests;
