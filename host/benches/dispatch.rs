//! What each step of an event's way through the gateway costs on its own:
//! decoding and encoding its JSON, lowering it into a plugin and lifting the
//! result, the same trivial logic as a Wasm call and as a native function,
//! a fresh pooled instance, and the embedded log's append and read.
//!
//! The plugin is `tests/fixtures/checksum` (an FNV-1a of the data, so the
//! plugin's own work is a few hundred instructions); its `verdict` is also
//! called natively, the baseline the Wasm call is measured against.
//!
//! Needs the fixture built: `make bench` (or `make test-plugins`). Run:
//! `cargo bench -p streamplug --bench dispatch`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use streamplug::config::{RuntimeSettings, Settings};
use streamplug::event::cloudevents::{StructuredEvent, parse_object};
use streamplug::event::{Event, StoredEvent};
use streamplug::harness::memory_kv::MemoryKv;
use streamplug::runtime::bindings::{HandleError, Plugin, PluginPre, WitEvent};
use streamplug::runtime::effects::Effects;
use streamplug::runtime::engine::PluginEngine;
use streamplug::runtime::event_ref::{EventRef, HandleExport, handler_func};
use streamplug::runtime::plugin::{Outcome, PluginVersion, to_wit};
use streamplug::runtime::state::{HostServices, PluginContext, StoreState};
use streamplug::storage::embedded::EmbeddedStore;
use streamplug::storage::{ConsumerCommit, EventLog, KvStore, KvValue, NextOffset, TopicSpec};
use wasmtime::Store;
use wasmtime::component::{Component, Linker, TypedFunc};

/// A ~300-byte ingest request body: a cart change with a few attributes.
const INGEST_JSON: &str = r#"{"type":"cart.item_added","source":"/web/shop","subject":"customer-4711","id":"0192f0c4-7d2e-7000-8000-000000000001","time":"2026-11-23T10:15:00Z","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","data":{"product":"tent-2p-ultralight","quantity":1,"price":249.9,"currency":"EUR","cart":"cart-88"}}"#;

const MANIFEST: &str = r#"
name = "checksum"
subscribe = ["customer-interactions"]
"#;

fn wasm() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-wasip2/plugin/fixture_checksum.wasm");
    assert!(
        path.is_file(),
        "{} is missing: run `make bench` (or `make test-plugins`) first",
        path.display()
    );
    path
}

/// The ingest body as the event the log stores and plugins get.
fn stored() -> StoredEvent {
    let json: Value = serde_json::from_str(INGEST_JSON).unwrap();
    let mut event = parse_object(json, "").unwrap().event;
    event.topic = "customer-interactions".into();
    StoredEvent {
        partition: 0,
        offset: 42,
        seq: 0,
        event,
    }
}

fn event_json(c: &mut Criterion) {
    let mut group = c.benchmark_group("event_json");
    group.throughput(Throughput::Bytes(INGEST_JSON.len() as u64));
    group.bench_function("decode (ingest body to event)", |b| {
        b.iter(|| {
            let json: Value = serde_json::from_str(black_box(INGEST_JSON)).unwrap();
            parse_object(json, "").unwrap()
        });
    });
    let event = stored().event;
    group.bench_function("encode (event to CloudEvents JSON)", |b| {
        b.iter(|| serde_json::to_vec(&StructuredEvent::from(black_box(&event))).unwrap());
    });
    group.finish();
}

fn dispatch(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = PluginEngine::new(&RuntimeSettings::default()).unwrap();
    let wasm = wasm();
    let manifest = streamplug::harness::manifest(MANIFEST, &wasm).unwrap();
    let services = HostServices::standalone(Arc::new(MemoryKv::default()));
    let event = stored();

    // The bare call on a store of our own: lowering the event, the call,
    // lifting the result; no pool, no limits reset, no effects.
    let component = Component::from_file(engine.wasmtime(), &wasm).unwrap();
    let pre = PluginPre::new(engine.linker().instantiate_pre(&component).unwrap()).unwrap();
    let context = Arc::new(PluginContext::new(&manifest, "bench".into(), &services).unwrap());
    let mut store = Store::new(
        engine.wasmtime(),
        StoreState::new(context.clone(), 64 << 20),
    );
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = rt
        .block_on(pre.instance_pre().instantiate_async(&mut store))
        .unwrap();
    let bindings = Plugin::new(&mut store, &instance).unwrap();
    let in_place = HandleExport::of(&mut store, &instance).unwrap();
    let handler = bindings.streamplug_plugin_handler();
    rt.block_on(handler.call_init(&mut store, &[]))
        .unwrap()
        .unwrap();

    let mut group = c.benchmark_group("dispatch");
    group.bench_function("native function (the baseline)", |b| {
        b.iter(|| {
            let e = &black_box(&event).event;
            fixture_checksum::verdict(&e.ty, &e.data).unwrap()
        });
    });
    group.bench_function("to_wit (the event record, host side)", |b| {
        b.iter(|| to_wit(black_box(&event)));
    });
    group.bench_function("wasm call (the stored event lowered in place)", |b| {
        b.iter(|| {
            rt.block_on(in_place.call(&mut store, black_box(&event)))
                .unwrap()
                .unwrap()
        });
    });
    group.bench_function("wasm call (to_wit, lower, call, lift)", |b| {
        b.iter(|| {
            let wit = to_wit(black_box(&event));
            rt.block_on(handler.call_handle(&mut store, &wit))
                .unwrap()
                .unwrap()
        });
    });
    // The call split up: the WIT record built once (lowering, call, lifting),
    // an event with nothing to lower (the fixed cost of an async call), and
    // the `block_on` that drives every call here.
    let record = to_wit(&event);
    group.bench_function("wasm call, record built once (lower, call, lift)", |b| {
        b.iter(|| {
            rt.block_on(handler.call_handle(&mut store, black_box(&record)))
                .unwrap()
                .unwrap()
        });
    });
    let empty = WitEvent {
        id: String::new(),
        source: String::new(),
        type_: record.type_.clone(),
        subject: None,
        time: None,
        topic: String::new(),
        key: None,
        content_type: None,
        data: Vec::new(),
        headers: Vec::new(),
        partition: 0,
        offset: 0,
    };
    group.bench_function("wasm call, empty event (the call's fixed cost)", |b| {
        b.iter(|| {
            rt.block_on(handler.call_handle(&mut store, black_box(&empty)))
                .unwrap()
                .unwrap()
        });
    });
    // The same calls made synchronously, to see what a synchronous call
    // path would save: an instance of the component on a linker whose
    // imports all trap (the checksum's `init` and `handle` call none), so
    // nothing needs a fiber, with the same engine (pool, epoch checks).
    let mut sync_linker = Linker::<StoreState>::new(engine.wasmtime());
    sync_linker
        .define_unknown_imports_as_traps(&component)
        .unwrap();
    let mut sync_store = Store::new(engine.wasmtime(), StoreState::new(context, 64 << 20));
    sync_store.set_epoch_deadline(u64::MAX / 2);
    let sync_instance = sync_linker
        .instantiate(&mut sync_store, &component)
        .unwrap();
    handler_func(&mut sync_store, &sync_instance, "init")
        .unwrap()
        .typed::<(&[(String, String)],), (Result<(), String>,)>(&sync_store)
        .unwrap()
        .call(&mut sync_store, (&[],))
        .unwrap()
        .0
        .unwrap();
    let sync_handle: TypedFunc<(EventRef<'_>,), (Result<(), HandleError>,)> =
        handler_func(&mut sync_store, &sync_instance, "handle")
            .unwrap()
            .typed(&sync_store)
            .unwrap();
    // The empty event above, as a stored event.
    let mut nothing = event.clone();
    let e = &mut nothing.event;
    (e.id, e.source, e.topic, e.data, e.headers) = Default::default();
    (e.subject, e.time, e.key, e.content_type) = Default::default();
    for (name, stored) in [
        ("wasm call, synchronous (in place, no fiber)", &event),
        ("wasm call, synchronous, empty event (no fiber)", &nothing),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let (result,) = sync_handle
                    .call(&mut sync_store, (EventRef::of(black_box(stored)),))
                    .unwrap();
                result.unwrap()
            });
        });
    }
    group.bench_function("block_on (a ready future)", |b| {
        b.iter(|| rt.block_on(async { black_box(1) }));
    });
    let version = rt
        .block_on(PluginVersion::load(&engine, &manifest, &wasm, &services))
        .unwrap();
    group.bench_function("PluginVersion::handle (warm pool, limits, effects)", |b| {
        b.to_async(&rt).iter(|| async {
            let (outcome, _) = version.handle(&event, Effects::default()).await;
            assert_eq!(outcome, Outcome::Ok);
        });
    });
    group.finish();

    let mut group = c.benchmark_group("instantiate");
    group.bench_function("fresh pooled instance + init (InstancePre)", |b| {
        b.to_async(&rt)
            .iter(|| async { version.cold_start().await.unwrap() });
    });
    group.finish();
}

fn embedded_log(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = EmbeddedStore::open(dir.path()).unwrap();
    let settings = Settings::from_toml(streamplug::config::EMBEDDED_DEFAULT).unwrap();
    let topics: Vec<TopicSpec> = settings
        .all_topics()
        .into_iter()
        .map(|t| TopicSpec::new(t, 1))
        .collect();
    rt.block_on(log.create_topics(&topics)).unwrap();
    let event = stored().event;

    let mut group = c.benchmark_group("embedded_log");
    group.sample_size(20);
    for batch in [1usize, 100] {
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(format!("append {batch} (one fsynced commit)"), |b| {
            b.to_async(&rt).iter_batched(
                || vec![event.clone(); batch],
                |events| async { log.append(events).await.unwrap() },
                BatchSize::SmallInput,
            );
        });
    }
    // As HTTP ingest appends: each event's (source, id) looked up and
    // recorded for the idempotency window.
    let window = std::time::Duration::from_secs(86_400);
    group.throughput(Throughput::Elements(100));
    group.bench_function("append_once 100 (one fsynced commit)", |b| {
        b.to_async(&rt).iter_batched(
            || {
                (0..100)
                    .map(|_| Event {
                        id: Event::new_id(),
                        ..event.clone()
                    })
                    .collect::<Vec<_>>()
            },
            |events| async { log.append_once(events, window).await.unwrap() },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("read 100", |b| {
        b.to_async(&rt).iter(|| async {
            let read = log.read("customer-interactions", 0, 0, 100).await.unwrap();
            assert_eq!(read.len(), 100);
        });
    });
    // A product view's KV reads: a dozen 700-byte tables out of 200, one
    // read transaction each (what `get_many` did before the embedded store
    // answered it in one) against one for all.
    let tables: Vec<String> = (0..200).map(|i| format!("co:p{i}")).collect();
    let commit = ConsumerCommit {
        kv_namespace: "recommend".into(),
        kv_writes: tables
            .iter()
            .map(|k| (k.clone(), Some(KvValue::lasting(vec![7; 700]))))
            .collect(),
        ..ConsumerCommit::default()
    };
    rt.block_on(log.apply(&commit)).unwrap();
    let keys: Vec<&str> = tables.iter().step_by(16).map(String::as_str).collect();
    group.throughput(Throughput::Elements(keys.len() as u64));
    group.bench_function("kv get, 13 keys one at a time", |b| {
        b.to_async(&rt).iter(|| async {
            for key in &keys {
                assert!(log.get("recommend", key).await.unwrap().is_some());
            }
        });
    });
    group.bench_function("kv get_many, 13 keys in one read", |b| {
        b.to_async(&rt).iter(|| async {
            let values = log.get_many("recommend", &keys).await.unwrap();
            assert!(values.iter().all(Option::is_some));
        });
    });
    group.finish();
}

/// Opening a store whose partition holds 64 MiB in 16 MiB segments: with
/// the sealed segments' index files, and without them (each sealed segment
/// scanned, as before index files existed).
fn embedded_log_open(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let segment_bytes = 16 << 20;
    {
        let log = EmbeddedStore::open_with(dir.path(), segment_bytes).unwrap();
        rt.block_on(log.create_topics(&[TopicSpec::new("t", 1)]))
            .unwrap();
        let mut event = stored().event;
        event.topic = "t".into();
        event.data = vec![b'x'; 900];
        let mut bytes = 0;
        while bytes < 64 << 20 {
            rt.block_on(log.append(vec![event.clone(); 1000])).unwrap();
            bytes += 1000 * 1000;
        }
    }
    let part = dir.path().join("records").join("t-0");
    let indexes = || {
        std::fs::read_dir(&part)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "index"))
            .collect::<Vec<_>>()
    };
    assert!(indexes().len() >= 3, "sealed segments have index files");
    let mut group = c.benchmark_group("embedded_log");
    group.sample_size(10);
    group.bench_function("open 64 MiB, sealed segments indexed", |b| {
        b.iter(|| drop(EmbeddedStore::open_with(dir.path(), segment_bytes).unwrap()));
    });
    group.bench_function("open 64 MiB, every segment scanned", |b| {
        b.iter_batched(
            || {
                indexes()
                    .iter()
                    .for_each(|p| std::fs::remove_file(p).unwrap())
            },
            |()| drop(EmbeddedStore::open_with(dir.path(), segment_bytes).unwrap()),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

/// What the log's writer encodes for every group (the write-ahead log's
/// frame, the segment's record) and readers decode: an event with a
/// recommendation-sized payload, and a plugin's commit of the six tables a
/// product view rewrites (each ~700 bytes) with its publish.
fn log_encoding(c: &mut Criterion) {
    let mut event = stored().event;
    event.data = vec![b'x'; 640];
    let commit = ConsumerCommit {
        group: "recommend".into(),
        offsets: vec![NextOffset {
            topic: "customer-interactions".into(),
            partition: 0,
            next: 43,
        }],
        publish: vec![event.clone()],
        kv_namespace: "recommend".into(),
        kv_writes: (0..6)
            .map(|i| (format!("co:p{i}"), Some(KvValue::lasting(vec![7; 700]))))
            .collect(),
    };
    let mut group = c.benchmark_group("log_encoding");
    let mut out = Vec::with_capacity(8 << 10);
    group.bench_function("event record encode (640-byte data)", |b| {
        b.iter(|| {
            out.clear();
            postcard::to_io(black_box(&event), &mut out).unwrap();
        });
    });
    let record = postcard::to_stdvec(&event).unwrap();
    group.bench_function("event record decode (640-byte data)", |b| {
        b.iter(|| postcard::from_bytes::<Event>(black_box(&record)).unwrap());
    });
    group.bench_function("commit frame encode (six 700-byte KV values)", |b| {
        b.iter(|| {
            out.clear();
            postcard::to_io(black_box(&commit), &mut out).unwrap();
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    event_json,
    dispatch,
    log_encoding,
    embedded_log,
    embedded_log_open
);
criterion_main!(benches);
