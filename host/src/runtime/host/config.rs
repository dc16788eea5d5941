//! `streamplug:plugin/config`: the manifest's config values, read-only.

use crate::runtime::bindings::streamplug::plugin::config::Host;
use crate::runtime::state::StoreState;

impl Host for StoreState {
    async fn get(&mut self, key: String) -> Option<String> {
        self.plugin.config.get(&key).cloned()
    }

    async fn get_all(&mut self) -> Vec<(String, String)> {
        self.plugin
            .config
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}
