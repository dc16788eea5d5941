//! The plugin registry: a copy-on-write snapshot of the loaded plugin
//! versions behind `arc-swap`. Readers (the dispatch workers) load the
//! snapshot without locking; a swap publishes a new snapshot atomically, and
//! an event in flight finishes on the version it started with.

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::runtime::plugin::PluginVersion;

/// The plugin versions live at one moment.
#[derive(Default)]
pub struct Snapshot {
    /// Plugin name → its live version.
    pub plugins: BTreeMap<String, Arc<PluginVersion>>,
}

/// The live plugin versions.
#[derive(Default)]
pub struct Registry {
    current: ArcSwap<Snapshot>,
}

impl Registry {
    /// A registry holding `versions`.
    pub fn new(versions: impl IntoIterator<Item = Arc<PluginVersion>>) -> Self {
        let plugins = versions
            .into_iter()
            .map(|v| (v.manifest.name.clone(), v))
            .collect();
        Self {
            current: ArcSwap::from_pointee(Snapshot { plugins }),
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// The live version of `name`.
    pub fn get(&self, name: &str) -> Option<Arc<PluginVersion>> {
        self.current.load().plugins.get(name).cloned()
    }

    /// Make `version` the live version of its plugin (copy-on-write).
    pub fn install(&self, version: Arc<PluginVersion>) {
        self.current.rcu(|snapshot| {
            let mut plugins = snapshot.plugins.clone();
            plugins.insert(version.manifest.name.clone(), version.clone());
            Snapshot { plugins }
        });
    }
}
