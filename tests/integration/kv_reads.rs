//! A batch asks the store for each committed KV value once: the recommender
//! reads a customer's profile and its tables, then writes them back, and
//! events of one batch touch the same keys. The next batch reads the store
//! again, so it sees what was committed in between.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use streamplug::config::{RuntimeSettings, Settings};
use streamplug::event::{Event, StoredEvent};
use streamplug::harness::memory_kv::MemoryKv;
use streamplug::runtime::effects::Effects;
use streamplug::runtime::engine::PluginEngine;
use streamplug::runtime::plugin::{Outcome, PluginVersion};
use streamplug::runtime::state::HostServices;
use streamplug::storage::{ConsumerCommit, KvStore, StorageError};

/// A [`MemoryKv`] that counts the reads it answers.
#[derive(Default)]
struct CountingKv {
    inner: MemoryKv,
    gets: Mutex<BTreeMap<String, usize>>,
    usages: Mutex<usize>,
}

impl CountingKv {
    fn take_counts(&self) -> (BTreeMap<String, usize>, usize) {
        let gets = std::mem::take(&mut *self.gets.lock().unwrap());
        let usages = std::mem::take(&mut *self.usages.lock().unwrap());
        (gets, usages)
    }
}

#[async_trait]
impl KvStore for CountingKv {
    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        *self.gets.lock().unwrap().entry(key.to_owned()).or_default() += 1;
        self.inner.get(namespace, key).await
    }
    async fn list_keys(
        &self,
        ns: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        self.inner.list_keys(ns, prefix, limit).await
    }
    async fn usage(&self, namespace: &str) -> Result<u64, StorageError> {
        *self.usages.lock().unwrap() += 1;
        self.inner.usage(namespace).await
    }
    async fn apply(&self, commit: &ConsumerCommit) -> Result<(), StorageError> {
        self.inner.apply(commit).await
    }
    async fn position(&self, g: &str, t: &str, p: u32) -> Result<Option<u64>, StorageError> {
        self.inner.position(g, t, p).await
    }
    async fn expire(&self, now_ms: u64, budget: usize) -> Result<u64, StorageError> {
        self.inner.expire(now_ms, budget).await
    }
}

fn view(offset: u64, customer: &str, product: &str) -> StoredEvent {
    StoredEvent {
        partition: 0,
        offset,
        seq: 0,
        event: Event {
            id: Event::new_id(),
            source: "/test".into(),
            ty: "product.viewed".into(),
            subject: Some(customer.into()),
            time: Some(Event::now()),
            topic: "customer-interactions".into(),
            key: Some(customer.into()),
            content_type: Some("application/json".into()),
            data: format!(r#"{{"product":"{product}"}}"#).into_bytes(),
            headers: vec![],
        },
    }
}

/// Handle `events` as one batch; the batch's effects.
async fn batch(version: &PluginVersion, events: &[StoredEvent]) -> Effects {
    let mut effects = Effects::default();
    for event in events {
        let (outcome, handled) = version.handle(event, effects).await;
        assert_eq!(outcome, Outcome::Ok);
        effects = handled;
        effects.accept_current();
    }
    effects
}

#[tokio::test]
async fn a_batch_reads_each_committed_value_once_and_the_next_batch_reads_again() {
    let settings = Settings::from_toml(streamplug::config::EMBEDDED_DEFAULT).unwrap();
    let manifest = settings
        .plugins
        .iter()
        .find(|p| p.name == "recommend")
        .unwrap()
        .clone();
    let wasm = streamplug_tests::plugin_dir()
        .unwrap()
        .join("recommend.wasm");
    let engine = PluginEngine::new(&RuntimeSettings::default()).unwrap();
    let kv = Arc::new(CountingKv::default());
    let services = HostServices::standalone(kv.clone());
    let version = PluginVersion::load(&engine, &manifest, &wasm, &services)
        .await
        .unwrap();

    // One batch: the same customer views three products; every event reads
    // and rewrites the profile and the tables it shares with the others.
    let first = [
        view(0, "c1", "tent"),
        view(1, "c1", "stove"),
        view(2, "c1", "mat"),
    ];
    let effects = batch(&version, &first).await;
    let (gets, usages) = kv.take_counts();
    assert!(gets.contains_key("cust:c1"), "{gets:?}");
    let twice: Vec<_> = gets.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "read from the store more than once: {twice:?}"
    );
    assert!(usages <= 1, "usage read {usages} times in one batch");
    kv.inner.write("recommend", &effects.accepted.kv);

    // The next batch asks the store again, and sees the committed profile:
    // its recommendation is based on the three products viewed before.
    let effects = batch(&version, &[view(3, "c1", "lamp")]).await;
    let (gets, _) = kv.take_counts();
    assert_eq!(gets.get("cust:c1"), Some(&1), "{gets:?}");
    let recommendation = &effects.accepted.publishes[0];
    let data: serde_json::Value = serde_json::from_slice(&recommendation.data).unwrap();
    assert_eq!(
        data["based_on"],
        serde_json::json!(["lamp", "mat", "stove", "tent"])
    );
}
