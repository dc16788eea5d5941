//! Which partitions this instance consumes for each plugin right now, as
//! its consumer groups assigned them (shown by `GET /v1/plugins`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};

/// Partitions owned per plugin.
#[derive(Debug, Default)]
pub struct Ownership {
    owned: Mutex<BTreeMap<String, BTreeSet<(String, u32)>>>,
}

impl Ownership {
    pub(super) fn assigned(&self, plugin: &str, topic: &str, partition: u32) {
        self.owned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(plugin.to_owned())
            .or_default()
            .insert((topic.to_owned(), partition));
    }

    pub(super) fn released(&self, plugin: &str, topic: &str, partition: u32) {
        if let Some(set) = self
            .owned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(plugin)
        {
            set.remove(&(topic.to_owned(), partition));
        }
    }

    /// `plugin`'s partitions on this instance, by topic.
    pub fn of(&self, plugin: &str) -> BTreeMap<String, Vec<u32>> {
        let mut by_topic: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        if let Some(set) = self
            .owned
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(plugin)
        {
            for (topic, partition) in set {
                by_topic.entry(topic.clone()).or_default().push(*partition);
            }
        }
        by_topic
    }
}
