//! What a hot swap costs a stream: the latency of one event through the
//! gateway (append to the embedded log → worker → plugin → committed
//! publish seen by a tail of the output topic) right after a deploy, against
//! the same without one; and the registry operations themselves.
//!
//! Needs the test plugins built: `make bench` (or `make test-plugins`).
//! Run: `cargo bench -p streamplug --bench hot_swap`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use streamplug::config::Settings;
use streamplug::event::Event;
use streamplug::gateway::Gateway;
use streamplug::runtime::plugin::PluginVersion;
use streamplug::storage::PartitionStream;

fn plugin_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/plugin");
    assert!(
        dir.join("fixture_recorder.wasm").is_file(),
        "{} has no fixture_recorder.wasm: run `make test-plugins` first",
        dir.display()
    );
    dir
}

fn settings(data_dir: &std::path::Path) -> Settings {
    Settings::from_toml(&format!(
        r#"
[server]
listen = "127.0.0.1:0"
[storage]
data_dir = "{data}"
default_partitions = 1
[runtime]
plugin_dir = "{plugins}"
[routes]
"product.*" = "customer-interactions"
[topics.audit]
partitions = 1
[[plugins]]
name = "recorder"
wasm = "fixture_recorder.wasm"
subscribe = ["customer-interactions"]
publish = ["audit"]
push_channels = ["test"]
allowed_hosts = ["http://127.0.0.1:9"]
[plugins.config]
tag = "v1"
"#,
        data = data_dir.display(),
        plugins = plugin_dir().display(),
    ))
    .unwrap()
}

fn view(i: u64) -> Event {
    Event {
        id: Event::new_id(),
        source: "/bench".into(),
        ty: "product.viewed".into(),
        subject: Some("c1".into()),
        time: Some(Event::now()),
        topic: "customer-interactions".into(),
        key: Some("c1".into()),
        content_type: Some("application/json".into()),
        data: format!(r#"{{"product":"p{i}"}}"#).into_bytes(),
        headers: vec![],
    }
}

/// Append one event and wait for the plugin's publish of it.
async fn one_event(gateway: &Gateway, audit: &mut dyn PartitionStream, i: u64) -> Duration {
    let start = Instant::now();
    gateway.log.append(vec![view(i)]).await.unwrap();
    let got = audit.next_batch(1).await.unwrap();
    assert_eq!(got.len(), 1);
    start.elapsed()
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gateway = rt.block_on(Gateway::start(settings(dir.path()))).unwrap();
    let registry = gateway.registry.clone();
    let v1 = registry.get("recorder").unwrap();
    let mut m2 = v1.manifest.clone();
    m2.config.insert("tag".into(), "v2".into());
    let v2: Arc<PluginVersion> = rt.block_on(gateway.load_version(&m2)).unwrap();
    let mut audit = rt
        .block_on(gateway.log.clone().tail("audit"))
        .unwrap()
        .pop()
        .unwrap();

    let mut group = c.benchmark_group("swap");
    let mut i = 0;
    group.bench_function("event_without_swap", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    i += 1;
                    total += one_event(&gateway, audit.as_mut(), i).await;
                }
                total
            })
        });
    });
    group.bench_function("event_right_after_swap", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    i += 1;
                    let next = if i.is_multiple_of(2) { &v1 } else { &v2 };
                    let start = Instant::now();
                    registry.deploy(next.clone()).unwrap();
                    total += start.elapsed() + one_event(&gateway, audit.as_mut(), i).await;
                }
                total
            })
        });
    });
    group.bench_function("event_right_after_redeploying_the_same_version", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    i += 1;
                    let start = Instant::now();
                    registry.deploy(v1.clone()).unwrap();
                    total += start.elapsed() + one_event(&gateway, audit.as_mut(), i).await;
                }
                total
            })
        });
    });
    group.bench_function("registry_deploy", |b| {
        let mut n = 0u64;
        b.iter(|| {
            n += 1;
            registry
                .deploy(if n.is_multiple_of(2) {
                    v1.clone()
                } else {
                    v2.clone()
                })
                .unwrap();
        });
    });
    group.bench_function("registry_route", |b| {
        b.iter(|| registry.route("recorder", "customer-42").unwrap());
    });
    group.finish();
    rt.block_on(gateway.shutdown());
}

criterion_group! {
    name = swap;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(5));
    targets = benches
}
criterion_main!(swap);
