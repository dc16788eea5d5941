//! `streamplug plugin new`: a project of each language is created, built
//! with its own instructions (cargo; componentize-py and componentize-js as
//! `make test` installed them) and meets the expectations it ships with under
//! `streamplug plugin test`.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use serde_json::{Value, json};
use streamplug_tests::{TestGateway, plugin_dir, streamplug_plugin};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(dir: &Path, program: &Path, args: &[&str], env: &[(&str, &Path)]) {
    let mut command = Process::new(program);
    command.args(args).current_dir(dir);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed:\n{}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Create `lang`'s project, build it as its README says, and run it on its
/// own events and expectations.
async fn new_build_and_test(lang: &str) {
    let name = format!("view-counter-{lang}");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("templates")
        .join(&name);
    let _ = std::fs::remove_dir_all(&dir);
    let dir_text = dir.display().to_string();
    let (out, ended) = streamplug_plugin(&["new", &name, "--lang", lang, "--dir", &dir_text]).await;
    assert_eq!(ended, Ok(()), "{out}");
    let lang_name = match lang {
        "rust" => "Rust",
        "python" => "Python",
        _ => "JavaScript",
    };
    assert!(
        out.starts_with(&format!("created {lang_name} plugin `{name}`")),
        "{out}"
    );
    let module = name.replace('-', "_");
    let wasm = match lang {
        "rust" => {
            // Its own target directory, kept between runs: later builds only
            // compile the plugin.
            let target = repo().join("target/template-plugins");
            run(
                &dir,
                Path::new("cargo"),
                &["build", "--target", "wasm32-wasip2", "--release"],
                &[("CARGO_TARGET_DIR", &target)],
            );
            target.join(format!("wasm32-wasip2/release/{module}.wasm"))
        }
        "python" => {
            let tool = repo().join("target/py-plugins/bin/componentize-py");
            let out = format!("{module}.wasm");
            run(
                &dir,
                &tool,
                &[
                    "-d",
                    "wit",
                    "-w",
                    "plugin",
                    "componentize",
                    "app",
                    "-p",
                    ".",
                    "-o",
                    &out,
                ],
                &[],
            );
            dir.join(out)
        }
        _ => {
            // What `npm run build` runs, with the toolchain make installed.
            let package: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("package.json")).unwrap())
                    .unwrap();
            let script = package["scripts"]["build"].as_str().unwrap();
            let args: Vec<&str> = script.split_whitespace().collect();
            assert_eq!(args[0], "componentize-js");
            let tool = repo().join("sdk/js/node_modules/.bin/componentize-js");
            run(&dir, &tool, &args[1..], &[]);
            dir.join(format!("{module}.wasm"))
        }
    };
    let cache = plugin_dir()
        .unwrap()
        .join("../../tmp/compiled-plugins")
        .display()
        .to_string();
    let file = |f: &str| dir.join(f).display().to_string();
    let (out, ended) = streamplug_plugin(&[
        "test",
        &wasm.display().to_string(),
        "--manifest",
        &file("plugin.toml"),
        "--events",
        &file("events.jsonl"),
        "--expect",
        &file("expect.json"),
        "--cache-dir",
        &cache,
    ])
    .await;
    assert_eq!(ended, Ok(()), "{out}");
    assert!(out.contains("#2 product.viewed bob (line 3, view-2): ok\n    publish product-stats product.view_count key=bob {\"product\":\"tent\",\"views\":2}"), "{out}");
    assert!(out.contains("expectations: all 18 hold"), "{out}");

    // plugin.toml runs it in a gateway (here on a free port, a fresh data
    // directory and the shared compiled-component cache).
    let data = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    let plugin_dir = wasm.parent().unwrap().display().to_string();
    let config = config
        .lines()
        .map(|l| {
            if l.starts_with("plugin_dir = ") {
                format!("plugin_dir = \"{plugin_dir}\"\ncache_dir = \"{cache}\"")
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n[storage]\ndata_dir = \"{}\"\n{config}",
        data.path().display()
    );
    let mut gw = TestGateway::start(&config).await.unwrap();
    // The project's gateway minted its local key, as its README uses it.
    let key = std::fs::read_to_string(data.path().join("demo-api-key")).unwrap();
    gw.client = streamplug_tests::keyed_client(key.trim()).unwrap();
    for product in ["tent", "tent"] {
        let a = gw.post(&json!({"type": "product.viewed", "customer": "alice", "data": {"product": product}})).await.unwrap();
        assert_eq!(a.status, 202, "{}", a.json);
    }
    let stats = gw.wait_for_events("product-stats", 2).await.unwrap();
    let views: Vec<&Value> = stats.iter().map(|e| &e["event"]["data"]["views"]).collect();
    assert_eq!(views, [&json!(1), &json!(2)], "{stats:?}");
    gw.stop().await;

    // A second project in the same place is refused.
    let (_, ended) = streamplug_plugin(&["new", &name, "--lang", lang, "--dir", &dir_text]).await;
    assert!(ended.unwrap_err().ends_with("exists and is not empty"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_rust_plugin_builds_and_meets_its_expectations() {
    new_build_and_test("rust").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_python_plugin_builds_and_meets_its_expectations() {
    new_build_and_test("python").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_javascript_plugin_builds_and_meets_its_expectations() {
    new_build_and_test("js").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_name_must_follow_the_rules() {
    let (_, ended) = streamplug_plugin(&["new", "View_Counter", "--lang", "js"]).await;
    let err = ended.unwrap_err();
    assert!(
        err.starts_with("`View_Counter` cannot name a plugin"),
        "{err}"
    );
}
