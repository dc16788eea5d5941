//! The same plugin in three languages: the `streamplug plugin new` template
//! (count a product's views in KV, publish the count) built from Rust,
//! Python (componentize-py) and JavaScript (componentize-js). For each:
//! handling one event on a warm instance, and a fresh instance (instantiate
//! and `init`), with KV in memory so the language is what differs.
//!
//! Needs the three components: `make bench` (or
//! `scripts/build-bench-plugins.sh`). Run:
//! `cargo bench -p streamplug --bench polyglot`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use streamplug::config::RuntimeSettings;
use streamplug::event::{Event, StoredEvent};
use streamplug::harness::memory_kv::MemoryKv;
use streamplug::runtime::effects::Effects;
use streamplug::runtime::engine::PluginEngine;
use streamplug::runtime::plugin::{Outcome, PluginVersion};
use streamplug::runtime::state::HostServices;
use streamplug::scaffold::{self, Lang};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn view() -> StoredEvent {
    StoredEvent {
        partition: 0,
        offset: 0,
        seq: 0,
        event: Event {
            id: Event::new_id(),
            source: "/bench".into(),
            ty: "product.viewed".into(),
            subject: Some("alice".into()),
            time: Some(Event::now()),
            topic: "customer-interactions".into(),
            key: Some("alice".into()),
            content_type: Some("application/json".into()),
            data: br#"{"product":"tent","category":"outdoor","price":199.0}"#.to_vec(),
            headers: vec![],
        },
    }
}

fn load(
    rt: &tokio::runtime::Runtime,
    engine: &PluginEngine,
    lang: Lang,
    id: &str,
) -> Arc<PluginVersion> {
    let name = format!("view-counter-{id}");
    let wasm = root().join(format!(
        "target/bench-plugins/{}.wasm",
        name.replace('-', "_")
    ));
    assert!(
        wasm.is_file(),
        "{} is missing: run `make bench` (scripts/build-bench-plugins.sh)",
        wasm.display()
    );
    let files = scaffold::project(&name, lang);
    let manifest_text = &files
        .iter()
        .find(|f| f.path == "plugin.toml")
        .unwrap()
        .contents;
    let manifest = streamplug::harness::manifest(manifest_text, &wasm).unwrap();
    let services = HostServices {
        cache_dir: Some(root().join("target/tmp/compiled-plugins")),
        ..HostServices::standalone(Arc::new(MemoryKv::default()))
    };
    let started = Instant::now();
    let version = rt
        .block_on(PluginVersion::load(engine, &manifest, &wasm, &services))
        .unwrap();
    let size = std::fs::metadata(&wasm).unwrap().len();
    eprintln!(
        "{id}: {:.1} MB component, loaded (compiled or from the cache, first instance) in {:.2?}",
        size as f64 / 1e6,
        started.elapsed()
    );
    version
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = PluginEngine::new(&RuntimeSettings::default()).unwrap();
    let event = view();
    for (lang, id) in [
        (Lang::Rust, "rust"),
        (Lang::Python, "python"),
        (Lang::Js, "js"),
    ] {
        let version = load(&rt, &engine, lang, id);
        let (outcome, _) = rt.block_on(version.handle(&event, Effects::default()));
        assert_eq!(outcome, Outcome::Ok);
        let mut group = c.benchmark_group(format!("view-counter/{id}"));
        group.bench_function("handle one event (warm instance)", |b| {
            b.to_async(&rt).iter(|| async {
                let (outcome, _) = version.handle(&event, Effects::default()).await;
                assert_eq!(outcome, Outcome::Ok);
            });
        });
        group.sample_size(20);
        group.bench_function("fresh instance (instantiate + init)", |b| {
            b.to_async(&rt)
                .iter(|| async { version.cold_start().await.unwrap() });
        });
        group.finish();
    }
}

criterion_group!(polyglot, benches);
criterion_main!(polyglot);
