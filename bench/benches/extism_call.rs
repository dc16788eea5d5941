//! A peer's dispatch, for `host/benches/dispatch.rs` to be read against: the
//! checksum plugin's logic hosted by Extism (`tests/fixtures/checksum-extism`,
//! built with the Extism PDK), called in process on a warm instance with the
//! data of the dispatch bench's event, beside the same logic called natively.
//!
//! Needs the plugin built: `make bench` (or `make peer-plugins`). Run:
//! `cargo bench -p streamplug-bench --bench extism_call`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use extism::{CompiledPlugin, Manifest, Plugin, PluginBuilder, Wasm};

/// The `data` of the dispatch bench's ingest body (what its plugin checksums).
const DATA: &[u8] =
    br#"{"product":"tent-2p-ultralight","quantity":1,"price":249.9,"currency":"EUR","cart":"cart-88"}"#;

fn compiled() -> CompiledPlugin {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-unknown-unknown/plugin/fixture_checksum_extism.wasm");
    let wasm = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `make bench` (or `make peer-plugins`) first",
            path.display()
        )
    });
    CompiledPlugin::new(PluginBuilder::new(Manifest::new([Wasm::data(wasm)]))).unwrap()
}

fn benches(c: &mut Criterion) {
    let compiled = compiled();
    let mut plugin = Plugin::new_from_compiled(&compiled).unwrap();
    let expected = format!(
        "{:016x}",
        fixture_checksum_logic::verdict("event", DATA).unwrap()
    );
    assert_eq!(
        plugin.call::<&[u8], &str>("handle", DATA).unwrap(),
        expected
    );

    let mut group = c.benchmark_group("extism");
    group.bench_function("native function", |b| {
        b.iter(|| fixture_checksum_logic::verdict(black_box("event"), black_box(DATA)));
    });
    group.bench_function("Plugin::call (warm instance)", |b| {
        b.iter(|| {
            let out: &str = plugin.call("handle", black_box(DATA)).unwrap();
            out.len()
        });
    });
    group.bench_function("fresh instance from the compiled plugin + call", |b| {
        b.iter(|| {
            let mut fresh = Plugin::new_from_compiled(&compiled).unwrap();
            let out: &str = fresh.call("handle", black_box(DATA)).unwrap();
            out.len()
        });
    });
    group.finish();
}

criterion_group!(extism_call, benches);
criterion_main!(extism_call);
