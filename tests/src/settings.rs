//! The gateway settings tests start from, and the manifests of the plugins
//! several tests load.

use std::path::Path;

use anyhow::Result;

use crate::plugin_dir;
use crate::stores::{Backend, Stores};

/// The secret test tokens are signed with.
pub const JWT_SECRET: &str = "test-secret-0123456789";

/// The API key every [`crate::TestGateway`]'s client sends: every scope.
pub const TEST_KEY: &str = "spk_tests_0123456789abcdefghijklmnopqrstuvwxyzAB";

/// The `[auth]` table tests use unless they bring their own: the test
/// secret, dev tokens, and [`TEST_KEY`] with every scope.
pub fn test_auth() -> String {
    format!(
        "[auth]\njwt_secret = \"{JWT_SECRET}\"\ndev_tokens = true\n\
         [[auth.api_keys]]\nname = \"tests\"\nsha256 = \"{}\"\nscopes = [\"operator\"]\n",
        streamplug::auth::api_keys::hex_digest(TEST_KEY)
    )
}

/// The settings every test starts from on the embedded backend; see
/// [`config_on`].
pub fn config(data_dir: &Path, plugins: &str) -> Result<String> {
    config_on(&Stores::start(Backend::Embedded)?, data_dir, plugins)
}

/// The settings every test starts from: standard routes, an `audit` topic,
/// two partitions per topic, small pools, [`test_auth`], on `stores`.
/// `plugins` is appended TOML; an `[auth]` table in it replaces the test
/// default, and the settings of a `[server]`, `[storage]` or `[runtime]`
/// table in it join the test's.
pub fn config_on(stores: &Stores, data_dir: &Path, plugins: &str) -> Result<String> {
    let auth = if plugins.contains("[auth]") {
        String::new()
    } else {
        test_auth()
    };
    let (server, plugins) = split_table(plugins, "[server]");
    let (storage, plugins) = split_table(&plugins, "[storage]");
    let (runtime, plugins) = split_table(&plugins, "[runtime]");
    Ok(format!(
        r#"
[server]
listen = "127.0.0.1:0"
{server}
[storage]
data_dir = "{data}"
default_partitions = 2
{storage}
[runtime]
plugin_dir = "{plugins_dir}"
cache_dir = "{plugins_dir}/../../tmp/compiled-plugins"
max_instances = 16
{runtime}

[routes]
"page.*" = "customer-interactions"
"product.*" = "customer-interactions"
"cart.*" = "customer-interactions"
"customer.*" = "customer-interactions"
"order.*" = "order-events"
"support.*" = "support-inquiries"
"message.*" = "engagement-events"

[topics.audit]
partitions = 2

{stores}
{auth}
{plugins}
"#,
        stores = stores.toml(),
        data = data_dir.display(),
        plugins_dir = plugin_dir()?.display(),
    ))
}

/// The lines of table `header` (`[server]`) in `toml`, and `toml` without them.
fn split_table(toml: &str, header: &str) -> (String, String) {
    let (mut server, mut rest) = (String::new(), String::new());
    let mut in_server = false;
    for line in toml.lines() {
        if line.trim_start().starts_with('[') {
            in_server = line.trim() == header;
            if in_server {
                continue;
            }
        }
        let out = if in_server { &mut server } else { &mut rest };
        out.push_str(line);
        out.push('\n');
    }
    (server, rest)
}

/// The manifest of `examples/<example>/plugin.toml`.
pub fn example_manifest(example: &str) -> String {
    let path = crate::workspace_path(&format!("examples/{example}/plugin.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The recorder fixture's manifest (consumes `customer-interactions`,
/// publishes to `audit`), with `extra` TOML lines appended to it. The
/// recorder can make outbound requests, so it needs `allowed_hosts`: a
/// discard port on loopback unless `extra` grants its own.
pub fn recorder_manifest(extra: &str) -> String {
    let hosts = if extra.contains("allowed_hosts") {
        ""
    } else {
        "allowed_hosts = [\"http://127.0.0.1:9\"]"
    };
    format!(
        r#"
[[plugins]]
name = "recorder"
wasm = "fixture_recorder.wasm"
subscribe = ["customer-interactions"]
publish = ["audit"]
{hosts}
{extra}
"#
    )
}

/// The recommend plugin's manifest, pushing its recommendations to the
/// customer's sessions on channel `recommendations`.
pub const RECOMMEND_MANIFEST: &str = r#"
[[plugins]]
name = "recommend"
wasm = "recommend.wasm"
subscribe = ["customer-interactions", "order-events"]
types = ["product.viewed", "cart.item_added", "order.placed"]
publish = ["recommendations"]
push_channels = ["recommendations"]
[plugins.config]
top_n = "3"
push_channel = "recommendations"
"#;
