//! What the guarantees of "one customer, one story" cost: reading a
//! plugin's events merged from two topics against reading as many from one
//! (the embedded log's sequence-number merge), and handling an event whose
//! plugin records one journal step (an fsynced write of the step's result
//! before the handler goes on) against one that records none.
//!
//! Needs the recorder fixture built: `make bench` (or `make test-plugins`).
//! Run: `cargo bench -p streamplug --bench ordering`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use streamplug::config::RuntimeSettings;
use streamplug::event::{Event, StoredEvent};
use streamplug::runtime::effects::{Effects, Trigger};
use streamplug::runtime::engine::PluginEngine;
use streamplug::runtime::plugin::{Outcome, PluginVersion};
use streamplug::runtime::state::HostServices;
use streamplug::storage::embedded::EmbeddedStore;
use streamplug::storage::{Assignment, EventLog, TopicSpec};

/// Events read per measured iteration.
const EVENTS: usize = 10_000;

fn event(topic: &str, i: usize, data: &str) -> Event {
    Event {
        id: Event::new_id(),
        source: "/bench".into(),
        ty: "product.viewed".into(),
        subject: Some(format!("c{}", i % 100)),
        time: None,
        topic: topic.into(),
        key: Some(format!("c{}", i % 100)),
        content_type: Some("application/json".into()),
        data: data.as_bytes().to_vec(),
        headers: vec![],
    }
}

/// Read every event of `topics` (partition 0) through a fresh group stream.
async fn read_all(store: &Arc<EmbeddedStore>, topics: &[String], group: &str) -> usize {
    let mut membership = store.clone().join(group, topics).await.unwrap();
    let Some(Assignment::Assigned(mut streams)) = membership.next().await else {
        panic!("no assignment");
    };
    let stream = &mut streams[0];
    let mut read = 0;
    while read < EVENTS {
        read += stream.next_batch(64).await.unwrap().len();
    }
    read
}

/// A multi-threaded runtime and a fresh embedded store (in `dir`).
fn runtime_and_store(dir: &tempfile::TempDir) -> (tokio::runtime::Runtime, Arc<EmbeddedStore>) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    (rt, Arc::new(EmbeddedStore::open(dir.path()).unwrap()))
}

fn merge(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (rt, store) = runtime_and_store(&dir);
    rt.block_on(async {
        store
            .create_topics(&[
                TopicSpec::new("one", 1),
                TopicSpec::new("a", 1),
                TopicSpec::new("b", 1),
            ])
            .await
            .unwrap();
        let data = r#"{"product":"tent"}"#;
        for chunk in 0..EVENTS / 500 {
            let single = (0..500)
                .map(|i| event("one", chunk * 500 + i, data))
                .collect();
            store.append(single).await.unwrap();
            let split = (0..500)
                .map(|i| event(if i % 2 == 0 { "a" } else { "b" }, chunk * 500 + i, data))
                .collect();
            store.append(split).await.unwrap();
        }
    });
    let one = ["one".to_owned()];
    let two = ["a".to_owned(), "b".to_owned()];
    let mut group = c.benchmark_group("merge");
    group.sample_size(20);
    group.throughput(Throughput::Elements(EVENTS as u64));
    group.bench_function("one topic (no merge)", |b| {
        b.to_async(&rt).iter(|| read_all(&store, &one, "g1"));
    });
    group.bench_function("two topics merged by sequence", |b| {
        b.to_async(&rt).iter(|| read_all(&store, &two, "g2"));
    });
    group.finish();
}

fn wasm() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-wasip2/plugin/fixture_recorder.wasm");
    assert!(
        path.is_file(),
        "{} is missing: run `make bench` (or `make test-plugins`) first",
        path.display()
    );
    path
}

fn journal(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (rt, store) = runtime_and_store(&dir);
    let engine = PluginEngine::new(&RuntimeSettings::default()).unwrap();
    let manifest = streamplug::harness::manifest(
        "name = \"recorder\"\nsubscribe = [\"customer-interactions\"]\npublish = [\"audit\"]",
        &wasm(),
    )
    .unwrap();
    let services = HostServices::standalone(store);
    let version = rt
        .block_on(PluginVersion::load(&engine, &manifest, &wasm(), &services))
        .unwrap();
    let stored = |data: &str| {
        let event = event("customer-interactions", 1, data);
        StoredEvent {
            partition: 0,
            offset: 0,
            seq: 0,
            event,
        }
    };
    let mut group = c.benchmark_group("journal");
    group.sample_size(20);
    for (name, data) in [
        ("handle, no step", r#"{"product":"tent"}"#),
        (
            "handle, one step recorded (fsync)",
            r#"{"product":"tent","journal":"notify"}"#,
        ),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                // A new event each time: a step is recorded once per event.
                let event = stored(data);
                let effects = Effects {
                    trigger: Trigger::of(&event.event),
                    ..Effects::default()
                };
                let (outcome, _) = version.handle(&event, effects).await;
                assert_eq!(outcome, Outcome::Ok);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, merge, journal);
criterion_main!(benches);
