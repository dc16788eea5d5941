//! What serving an event on a plugin costs: a warm instance against a fresh
//! one, the recommender's and the customer view's events once their state
//! has grown, and loading a compiled component from the cache against
//! compiling it.
//!
//! Needs the plugins built: `make bench` (or `make plugins` first).
//! Run: `cargo bench -p streamplug --bench plugin_runtime`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use streamplug::config::{PluginManifest, RuntimeSettings, Settings};
use streamplug::event::{Event, StoredEvent};
use streamplug::harness::memory_kv::MemoryKv;
use streamplug::runtime::component_cache;
use streamplug::runtime::effects::Effects;
use streamplug::runtime::engine::PluginEngine;
use streamplug::runtime::plugin::{Outcome, PluginVersion};
use streamplug::runtime::state::HostServices;
use streamplug::storage::KvStore;
use streamplug::storage::embedded::EmbeddedStore;

fn plugin_path() -> PathBuf {
    built("recommend.wasm")
}

/// The built plugin `file`.
fn built(file: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-wasip2/plugin")
        .join(file);
    assert!(
        path.is_file(),
        "{} is missing: run `make plugins` first",
        path.display()
    );
    path
}

/// The `i`th product view: customer `i % 1000`, whose successive views go
/// through the catalogue's 200 products in a customer-specific order (so
/// customers share co-views without all seeing the same sequence).
fn view(i: u64) -> StoredEvent {
    let customer = format!("c{}", i % 1000);
    let product = (i % 1000 * 7 + i / 1000 * 37) % 200;
    StoredEvent {
        partition: 0,
        offset: i,
        seq: 0,
        event: Event {
            id: Event::new_id(),
            source: "/bench".into(),
            ty: "product.viewed".into(),
            subject: Some(customer.clone()),
            time: Some(Event::now()),
            topic: "customer-interactions".into(),
            key: Some(customer),
            content_type: Some("application/json".into()),
            data: format!(r#"{{"product":"p{product}","category":"outdoor","price":19.9}}"#)
                .into_bytes(),
            headers: vec![],
        },
    }
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings::from_toml(streamplug::config::EMBEDDED_DEFAULT).unwrap();
    let manifest = settings.plugins[0].clone();
    let engine = PluginEngine::new(&RuntimeSettings::default()).unwrap();
    let kv: Arc<dyn KvStore> = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let services = HostServices::standalone(kv);
    let wasm = plugin_path();
    let version = rt
        .block_on(PluginVersion::load(&engine, &manifest, &wasm, &services))
        .unwrap();

    let mut group = c.benchmark_group("recommend");
    let mut i = 0u64;
    group.bench_function("handle_event_warm_instance", |b| {
        b.to_async(&rt).iter(|| {
            i += 1;
            let event = view(i);
            let version = version.clone();
            async move {
                let (outcome, _) = version.handle(&event, Effects::default()).await;
                assert_eq!(outcome, Outcome::Ok);
            }
        });
    });
    // The same events with each event's KV writes committed (in memory), as
    // the gateway does: the recommender's state (profiles, co-view tables,
    // popularity) grows to what 1,000 customers and 200 products make it,
    // and each event reads, parses and writes it back. The runs above
    // discard their staged writes, so their state stays empty.
    let (stateful, memory, mut j) = grown(&rt, &engine, &manifest, &wasm, &services);
    group.bench_function("handle_event_with_state_committed", |b| {
        b.iter(|| {
            j += 1;
            handle_and_commit(&rt, &stateful, &memory, "recommend", &view(j));
        });
    });
    group.bench_function("fresh_instance_and_init", |b| {
        b.to_async(&rt).iter(|| {
            let version = version.clone();
            async move { version.cold_start().await.unwrap() }
        });
    });
    group.finish();

    // The other plugin every product view reaches in the embedded default:
    // the customer's live view (read, fold the event in, write back, push
    // the whole view), over the same events once the views have grown.
    let manifest = settings
        .plugins
        .iter()
        .find(|p| p.name == "customer-view")
        .unwrap()
        .clone();
    let wasm = built("customer_view.wasm");
    let (views, memory, mut k) = grown(&rt, &engine, &manifest, &wasm, &services);
    let mut group = c.benchmark_group("customer_view");
    group.bench_function("handle_event_with_state_committed", |b| {
        b.iter(|| {
            k += 1;
            handle_and_commit(&rt, &views, &memory, "customer-view", &view(k));
        });
    });
    group.finish();

    let bytes = std::fs::read(&wasm).unwrap();
    let digest = component_cache::digest(&bytes);
    let cache = tempfile::tempdir().unwrap();
    component_cache::load_or_compile(&engine_of(&engine), &bytes, &digest, Some(cache.path()))
        .unwrap();
    let mut group = c.benchmark_group("recommend_component");
    group.sample_size(10);
    group.bench_function("compile", |b| {
        b.iter(|| {
            component_cache::load_or_compile(&engine_of(&engine), &bytes, &digest, None).unwrap()
        });
    });
    group.bench_function("load_from_cache", |b| {
        b.iter(|| {
            component_cache::load_or_compile(
                &engine_of(&engine),
                &bytes,
                &digest,
                Some(cache.path()),
            )
            .unwrap()
        });
    });
    group.finish();
}

/// When set, the recommender's state is grown by `recommend.wasm` and the
/// component at this path is measured on it (docs/BENCHMARKS.md, "A
/// product view, stage by stage").
const MEASURE_ENV: &str = "STREAMPLUG_BENCH_MEASURE_RECOMMEND";

/// `manifest`'s plugin loaded from `wasm` on an in-memory KV, its state
/// grown by the first 20,000 product views (each one's writes committed, so
/// the measurement sees it grown); with its KV and the last event's number.
fn grown(
    rt: &tokio::runtime::Runtime,
    engine: &PluginEngine,
    manifest: &PluginManifest,
    wasm: &Path,
    services: &HostServices,
) -> (Arc<PluginVersion>, Arc<MemoryKv>, u64) {
    let memory = Arc::new(MemoryKv::default());
    let services = HostServices {
        kv: memory.clone(),
        ..services.clone()
    };
    let version = rt
        .block_on(PluginVersion::load(engine, manifest, wasm, &services))
        .unwrap();
    let mut i = 0u64;
    for _ in 0..20_000 {
        i += 1;
        handle_and_commit(rt, &version, &memory, &manifest.name, &view(i));
    }
    // Another build measured on the state this one grew: what a part of
    // the handler costs, from a build that returns before it.
    if let Some(other) = std::env::var_os(MEASURE_ENV).filter(|_| manifest.name == "recommend") {
        let other = Path::new(&other);
        let version = rt.block_on(PluginVersion::load(engine, manifest, other, &services));
        return (version.unwrap(), memory, i);
    }
    (version, memory, i)
}

/// Handle `event` and commit its KV writes to `memory` under `namespace`.
fn handle_and_commit(
    rt: &tokio::runtime::Runtime,
    version: &PluginVersion,
    memory: &MemoryKv,
    namespace: &str,
    event: &StoredEvent,
) {
    let (outcome, effects) = rt.block_on(version.handle(event, Effects::default()));
    assert_eq!(outcome, Outcome::Ok);
    memory.write(namespace, &effects.current.kv);
}

fn engine_of(engine: &PluginEngine) -> wasmtime::Engine {
    engine.wasmtime().clone()
}

criterion_group!(plugin_runtime, benches);
criterion_main!(plugin_runtime);
