//! Offsets of batches that staged nothing: a plugin that handles events
//! without a publish, a push, a KV write or an outbound request commits its
//! position later (within `commit_interval_ms`, with its next batch that
//! has effects, or when it stops), not in a commit of its own per batch.
//! A crash before that delivers those events again; a stop does not.

use std::path::Path;

use serde_json::{Value, json};
use streamplug::storage::EventLog;
use streamplug::storage::embedded::EmbeddedStore;
use streamplug_tests::{
    ChildGateway, Stores, TEST_KEY, TestGateway, config_on, eventually, free_port, keyed_client,
    metrics_text, sample,
};

const TOPIC: &str = "customer-interactions";

/// A plugin that reads every interaction and stages nothing.
fn quiet(name: &str, interval_ms: u64) -> String {
    format!(
        r#"
[[plugins]]
name = "{name}"
wasm = "fixture_checksum.wasm"
subscribe = ["{TOPIC}"]
commit_interval_ms = {interval_ms}
"#
    )
}

fn views(n: usize) -> Value {
    json!((0..n)
        .map(|i| json!({"type": "product.viewed", "customer": "c1", "data": {"product": format!("p{i}")}}))
        .collect::<Vec<_>>())
}

/// The offsets `plugin`'s group committed in the embedded log at `data`,
/// summed over the topic's partitions (the test's events are all in one).
async fn committed(data: &Path, plugin: &str) -> u64 {
    let store = EmbeddedStore::open(data).unwrap();
    let group = format!("streamplug.{plugin}");
    let mut sum = 0;
    for partition in 0..store.partitions(TOPIC).unwrap() {
        sum += store.committed(&group, TOPIC, partition).await.unwrap();
    }
    sum
}

/// A gateway in a child process (its own metrics) with `plugins`.
struct Child {
    gateway: ChildGateway,
    client: reqwest::Client,
}

impl Child {
    async fn start(stores: &Stores, data: &Path, plugins: &str) -> Self {
        let port = free_port().unwrap();
        let config = config_on(stores, data, plugins).unwrap().replacen(
            "listen = \"127.0.0.1:0\"",
            &format!("listen = \"127.0.0.1:{port}\""),
            1,
        );
        Self {
            gateway: ChildGateway::start(&config, port).await.unwrap(),
            client: keyed_client(TEST_KEY).unwrap(),
        }
    }

    async fn post(&self, body: &Value) {
        let answer = self
            .client
            .post(format!("{}/v1/events", self.gateway.url))
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202);
    }

    /// The sample `name` (labels included) of the child's `/metrics`.
    async fn metric(&self, name: &str) -> f64 {
        let text = metrics_text(&self.client, &self.gateway.url).await.unwrap();
        sample(&text, name)
    }

    /// Wait until `plugin` handled `n` events in this process.
    async fn handled(&self, plugin: &str, n: f64) {
        let sample =
            format!("streamplug_plugin_invocations_total{{plugin=\"{plugin}\",outcome=\"ok\"}}");
        eventually(&format!("{plugin} to handle {n} events"), || async {
            Ok((self.metric(&sample).await >= n).then_some(()))
        })
        .await
        .unwrap();
        assert_eq!(self.metric(&sample).await, n, "no event handled twice");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_without_effects_wait_for_the_interval_and_a_crash_before_it_delivers_again() {
    let stores = Stores::start(streamplug_tests::Backend::Embedded).unwrap();
    let data = tempfile::tempdir().unwrap();
    let plugins = quiet("quiet-crash", 600_000);

    let child = Child::start(&stores, data.path(), &plugins).await;
    child.post(&views(5)).await;
    child.handled("quiet-crash", 5.0).await;
    child.gateway.kill();
    assert_eq!(
        committed(data.path(), "quiet-crash").await,
        0,
        "handled, but within the interval: nothing committed"
    );

    // Killed before the interval: the five come again, and are handled.
    let child = Child::start(&stores, data.path(), &plugins).await;
    child.handled("quiet-crash", 5.0).await;
    child.gateway.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_without_effects_are_committed_once_the_interval_passes() {
    let stores = Stores::start(streamplug_tests::Backend::Embedded).unwrap();
    let data = tempfile::tempdir().unwrap();
    let child = Child::start(&stores, data.path(), &quiet("quiet-interval", 50)).await;
    child.post(&views(5)).await;
    child.handled("quiet-interval", 5.0).await;
    // The only worker of this process commits once the interval passed.
    eventually("the position to be committed", || async {
        let commits = child
            .metric("streamplug_stage_seconds_count{stage=\"commit\"}")
            .await;
        Ok((commits >= 1.0).then_some(()))
    })
    .await
    .unwrap();
    child.gateway.kill();
    assert_eq!(committed(data.path(), "quiet-interval").await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_without_effects_are_committed_when_the_gateway_stops() {
    let stores = Stores::start(streamplug_tests::Backend::Embedded).unwrap();
    let data = tempfile::tempdir().unwrap();
    let plugins = quiet("quiet-stop", 600_000);
    let gw = TestGateway::start(&config_on(&stores, data.path(), &plugins).unwrap())
        .await
        .unwrap();
    gw.post(&views(5)).await.unwrap();
    let sample = "streamplug_plugin_invocations_total{plugin=\"quiet-stop\",outcome=\"ok\"}";
    eventually("the plugin to handle the events", || async {
        Ok((gw.metric(sample).await? >= 5.0).then_some(()))
    })
    .await
    .unwrap();
    gw.stop().await;
    assert_eq!(committed(data.path(), "quiet-stop").await, 5);
}
