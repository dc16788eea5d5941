//! Installable: the `streamplug` binary, copied out of the checkout, runs
//! the production configuration `streamplug init` writes, with the
//! first-party plugin built into it, as the systemd unit and the container
//! file in deploy/ run it. The unit passes `systemd-analyze verify`; the
//! container file is read by dockerfile-parse (PyPI), an outside parser, and
//! its runtime stage's commands are the ones run here, against a real
//! Kafka-compatible broker and Redis.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use streamplug_tests::broker::Tansu;
use streamplug_tests::redis::Redis;
use streamplug_tests::{
    eventually, free_port, kafka_client, streamplug_binary, venv_tool, view, workspace_root,
};

const UNIT: &str = "deploy/streamplug.service";
const CONTAINERFILE: &str = "deploy/Containerfile";

/// Where the installed program and its files live on a real machine, and
/// where they live in this test.
struct Install {
    root: tempfile::TempDir,
    binary: PathBuf,
}

impl Install {
    /// The binary copied out of the checkout, as `cargo install` or the
    /// image puts it.
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("usr/local/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(root.path().join("etc/streamplug")).unwrap();
        let binary = bin.join("streamplug");
        std::fs::copy(streamplug_binary().unwrap(), &binary).unwrap();
        Self { root, binary }
    }

    /// `text` with the machine's paths moved under this install's root.
    fn map(&self, text: &str) -> String {
        let root = self.root.path().display();
        text.replace("/usr/local/bin/", &format!("{root}/usr/local/bin/"))
            .replace("/etc/streamplug", &format!("{root}/etc/streamplug"))
            .replace("/var/lib/streamplug", &format!("{root}/var/lib/streamplug"))
    }

    /// Run one command line (`streamplug …` or `/usr/local/bin/streamplug
    /// …`) from outside the checkout, with `env`; its output.
    fn command(&self, line: &str, env: &BTreeMap<String, String>) -> Command {
        let line = self.map(line);
        let mut words = line.split_whitespace();
        let program = words.next().unwrap();
        assert!(
            program == "streamplug" || program.ends_with("/usr/local/bin/streamplug"),
            "{line}"
        );
        let mut command = Command::new(&self.binary);
        command
            .args(words)
            .current_dir(self.root.path())
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(env);
        command
    }

    fn run(&self, line: &str, env: &BTreeMap<String, String>) -> String {
        let out = self.command(line, env).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{line}: {text}");
        text
    }
}

/// The unit's `Key=` values, in order.
fn unit_values(unit: &str, key: &str) -> Vec<String> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(&format!("{key}=")))
        .map(str::to_owned)
        .collect()
}

/// The container file as dockerfile-parse reads it: its instructions.
fn containerfile() -> Vec<Value> {
    let script = r#"
import json, sys
from dockerfile_parse import DockerfileParser
with open(sys.argv[1], "rb") as f:
    parser = DockerfileParser(fileobj=f)
    print(json.dumps(parser.structure))
"#;
    let out = Command::new(venv_tool("python").unwrap())
        .args(["-c", script])
        .arg(workspace_root().join(CONTAINERFILE))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The instructions of the last stage (after the last `FROM`).
fn runtime_stage(instructions: &[Value]) -> &[Value] {
    let last_from = instructions
        .iter()
        .rposition(|i| i["instruction"] == "FROM")
        .unwrap();
    &instructions[last_from..]
}

/// The `streamplug …` commands a `RUN` line holds (`a && streamplug … && b`).
fn streamplug_commands(run: &str) -> Vec<String> {
    run.split("&&")
        .map(str::trim)
        .filter(|c| c.starts_with("streamplug "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let install = Install::new();
    let unit = std::fs::read_to_string(workspace_root().join(UNIT)).unwrap();
    let path = install.root.path().join("streamplug.service");
    std::fs::write(&path, install.map(&unit)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze (Debian's systemd; scripts/setup-test.sh installs it)");
    // It reports what it ignores on stderr and still exits 0.
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && report.trim().is_empty(), "{report}");
}

#[test]
fn the_container_file_builds_the_binary_and_runs_it_unprivileged() {
    let instructions = containerfile();
    let froms: Vec<&str> = instructions
        .iter()
        .filter(|i| i["instruction"] == "FROM")
        .map(|i| i["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        froms.len(),
        2,
        "a build stage and a runtime stage: {froms:?}"
    );
    let build = instructions
        .iter()
        .find(|i| i["instruction"] == "RUN")
        .unwrap()["value"]
        .as_str()
        .unwrap();
    assert!(
        build.contains("cargo build --release --locked -p streamplug"),
        "{build}"
    );
    let runtime = runtime_stage(&instructions);
    let value = |name: &str| {
        runtime
            .iter()
            .filter(|i| i["instruction"] == name)
            .map(|i| i["value"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(value("USER"), ["streamplug"]);
    assert!(value("COPY").iter().all(|c| c.starts_with("--from=build ")));
    assert_eq!(value("ENTRYPOINT"), [r#"["streamplug"]"#]);
    let cmd: Vec<String> = serde_json::from_str(&value("CMD")[0]).unwrap();
    assert_eq!(
        cmd,
        ["serve", "--config", "/etc/streamplug/streamplug.toml"]
    );
    // No secret in a layer: the image's init writes the configuration only.
    let inits: Vec<String> = value("RUN")
        .iter()
        .flat_map(|r| streamplug_commands(r))
        .collect();
    assert_eq!(inits.len(), 1, "{inits:?}");
    assert!(inits[0].contains("init --config-only"), "{inits:?}");
}

/// A customer's token, signed with the configured secret.
fn customer_token(secret: &str, customer: &str) -> String {
    let claims = json!({ "sub": customer, "exp": 4_000_000_000u64 });
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// `KEY=value` lines of an environment file.
fn env_file(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unit_and_the_image_run_the_production_configuration_outside_the_checkout() {
    let broker = Tansu::start().unwrap();
    let redis = Redis::start().unwrap();
    let install = Install::new();
    let unit = std::fs::read_to_string(workspace_root().join(UNIT)).unwrap();
    let none = BTreeMap::new();

    // The image's init, then the unit's: the same configuration, and the
    // environment file with fresh secrets beside it.
    let image_init = runtime_stage(&containerfile())
        .iter()
        .filter(|i| i["instruction"] == "RUN")
        .flat_map(|i| streamplug_commands(i["value"].as_str().unwrap()))
        .next()
        .unwrap();
    install.run(&image_init, &none);
    let config = install.root.path().join("etc/streamplug/streamplug.toml");
    let from_image = std::fs::read_to_string(&config).unwrap();
    install.run(
        "streamplug init --force --config /etc/streamplug/streamplug.toml \
         --env-file /etc/streamplug/streamplug.env --data-dir /var/lib/streamplug",
        &none,
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), from_image);

    let mut env = env_file(&install.root.path().join("etc/streamplug/streamplug.env"));
    // This machine's cluster is one broker on loopback.
    env.insert("STREAMPLUG_KAFKA_BROKERS".into(), broker.bootstrap.clone());
    env.insert("STREAMPLUG_REDIS_URL".into(), redis.url.clone());
    env.insert(
        "STREAMPLUG_LOG__KAFKA__REPLICATION_FACTOR".into(),
        "1".into(),
    );
    let port = free_port().unwrap();
    env.insert(
        "STREAMPLUG_SERVER__LISTEN".into(),
        format!("127.0.0.1:{port}"),
    );
    env.insert(
        "STREAMPLUG_ADMIN__LISTEN".into(),
        format!("127.0.0.1:{}", free_port().unwrap()),
    );

    // ExecStartPre: the check names a missing secret, then passes.
    let check = &unit_values(&unit, "ExecStartPre")[0];
    let mut without = env.clone();
    without.remove("STREAMPLUG_ADMIN_TOKEN");
    let refused = install.command(check, &without).output().unwrap();
    let reason = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && reason.contains("STREAMPLUG_ADMIN_TOKEN"),
        "{reason}"
    );
    let summary = install.run(check, &env);
    assert!(
        summary.contains("configuration OK") && summary.contains("log kafka, kv redis"),
        "{summary}"
    );

    // ExecStart, which is also the image's ENTRYPOINT and CMD.
    let start = &unit_values(&unit, "ExecStart")[0];
    assert_eq!(
        start.replacen("/usr/local/bin/", "", 1),
        "streamplug serve --config /etc/streamplug/streamplug.toml"
    );
    let mut gateway = Running(
        install
            .command(start, &env)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    eventually("the installed gateway to be ready", || async {
        Ok(client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .ok()
            .filter(|r| r.status().is_success())
            .map(drop))
    })
    .await
    .unwrap();

    // A shopper browses; the built-in recommender answers on Kafka.
    let token = customer_token(&env["STREAMPLUG_JWT_SECRET"], "alice");
    for product in ["tent", "stove", "lamp"] {
        let answer = client
            .post(format!("{url}/v1/events"))
            .bearer_auth(&token)
            .json(&view("alice", product))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 202, "{}", answer.text().await.unwrap());
    }
    let records = kafka_client(&["consume", &broker.bootstrap, "recommendations", "1"]).unwrap();
    let record: Value = serde_json::from_str(records.lines().next().unwrap()).unwrap();
    assert_eq!(record["key"], "alice", "{record}");

    // The backend's key from the environment file is the one it accepts.
    let order = json!({"type": "order.placed", "customer": "alice",
        "data": {"order": "o1", "items": [{"product": "tent", "quantity": 1, "price": 120.0}],
                 "total": 120.0, "currency": "EUR"}});
    let answer = client
        .post(format!("{url}/v1/events"))
        .bearer_auth(&env["STREAMPLUG_BACKEND_KEY"])
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);

    // systemd stops it with SIGTERM (KillSignal): it drains and exits 0.
    assert_eq!(unit_values(&unit, "KillSignal"), ["SIGTERM"]);
    let pid = gateway.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    // Within the unit's TimeoutStopSec (30 s), after which systemd kills.
    let mut exited = None;
    for _ in 0..300 {
        exited = gateway.0.try_wait().unwrap();
        if exited.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exited = exited.expect("the gateway exits within 30 s of SIGTERM");
    assert!(exited.success(), "{exited}");
    assert!(
        install
            .root
            .path()
            .join("var/lib/streamplug/builtin/recommend.wasm")
            .is_file()
    );
}
