//! Project templates for `streamplug plugin new`: a ready-to-build plugin in
//! Rust, Python or JavaScript with its manifest, a handler, events to try it
//! on, the expectations they meet, build instructions, the gateway's WIT
//! world and a copy of the language's streamplug helper (so the project
//! builds on its own, outside this repository). The three handlers do the
//! same thing, so one events file and one expectations file serve them all.

use std::fmt;

/// The language of a new plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Rust with the streamplug SDK (`cargo`, `wasm32-wasip2`).
    Rust,
    /// Python with componentize-py.
    Python,
    /// JavaScript with componentize-js.
    Js,
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rust => "Rust",
            Self::Python => "Python",
            Self::Js => "JavaScript",
        })
    }
}

/// One file of a new project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Its path inside the project.
    pub path: String,
    /// Its contents.
    pub contents: String,
}

macro_rules! embed {
    ($($path:literal => $source:literal),* $(,)?) => {
        &[$(($path, include_str!($source))),*]
    };
}

const WIT: &[(&str, &str)] = embed!(
    "wit/command.wit" => "../../wit/command.wit",
    "wit/config.wit" => "../../wit/config.wit",
    "wit/handler.wit" => "../../wit/handler.wit",
    "wit/journal.wit" => "../../wit/journal.wit",
    "wit/kv.wit" => "../../wit/kv.wit",
    "wit/log.wit" => "../../wit/log.wit",
    "wit/producer.wit" => "../../wit/producer.wit",
    "wit/push.wit" => "../../wit/push.wit",
    "wit/query.wit" => "../../wit/query.wit",
    "wit/timer.wit" => "../../wit/timer.wit",
    "wit/types.wit" => "../../wit/types.wit",
    "wit/world.wit" => "../../wit/world.wit",
    "wit/deps/clocks.wit" => "../../wit/deps/clocks.wit",
    "wit/deps/http.wit" => "../../wit/deps/http.wit",
    "wit/deps/io.wit" => "../../wit/deps/io.wit",
);

const COMMON: &[(&str, &str)] = embed!(
    "README.md" => "../templates/common/README.md",
    "plugin.toml" => "../templates/common/plugin.toml",
    "events.jsonl" => "../templates/common/events.jsonl",
    "expect.json" => "../templates/common/expect.json",
    ".gitignore" => "../templates/common/gitignore",
);

const RUST: &[(&str, &str)] = embed!(
    "Cargo.toml" => "../templates/rust/Cargo.toml",
    "src/lib.rs" => "../templates/rust/src/lib.rs",
    "streamplug-sdk/Cargo.toml" => "../templates/rust/sdk-Cargo.toml",
    "streamplug-sdk/src/command.rs" => "../../sdk/src/command.rs",
    "streamplug-sdk/src/config.rs" => "../../sdk/src/config.rs",
    "streamplug-sdk/src/error.rs" => "../../sdk/src/error.rs",
    "streamplug-sdk/src/event.rs" => "../../sdk/src/event.rs",
    "streamplug-sdk/src/http.rs" => "../../sdk/src/http.rs",
    "streamplug-sdk/src/journal.rs" => "../../sdk/src/journal.rs",
    "streamplug-sdk/src/kv.rs" => "../../sdk/src/kv.rs",
    "streamplug-sdk/src/lib.rs" => "../../sdk/src/lib.rs",
    "streamplug-sdk/src/log.rs" => "../../sdk/src/log.rs",
    "streamplug-sdk/src/packed.rs" => "../../sdk/src/packed.rs",
    "streamplug-sdk/src/publish.rs" => "../../sdk/src/publish.rs",
    "streamplug-sdk/src/push.rs" => "../../sdk/src/push.rs",
    "streamplug-sdk/src/query.rs" => "../../sdk/src/query.rs",
    "streamplug-sdk/src/timer.rs" => "../../sdk/src/timer.rs",
    "streamplug-sdk/src/vocabulary.rs" => "../../sdk/src/vocabulary.rs",
);

const PYTHON: &[(&str, &str)] = embed!(
    "app.py" => "../templates/python/app.py",
    "streamplug/__init__.py" => "../../sdk/python/streamplug/__init__.py",
    "streamplug/_bindings.py" => "../../sdk/python/streamplug/_bindings.py",
    "streamplug/command.py" => "../../sdk/python/streamplug/command.py",
    "streamplug/config.py" => "../../sdk/python/streamplug/config.py",
    "streamplug/errors.py" => "../../sdk/python/streamplug/errors.py",
    "streamplug/event.py" => "../../sdk/python/streamplug/event.py",
    "streamplug/export.py" => "../../sdk/python/streamplug/export.py",
    "streamplug/http.py" => "../../sdk/python/streamplug/http.py",
    "streamplug/journal.py" => "../../sdk/python/streamplug/journal.py",
    "streamplug/kv.py" => "../../sdk/python/streamplug/kv.py",
    "streamplug/log.py" => "../../sdk/python/streamplug/log.py",
    "streamplug/packed.py" => "../../sdk/python/streamplug/packed.py",
    "streamplug/publish.py" => "../../sdk/python/streamplug/publish.py",
    "streamplug/push.py" => "../../sdk/python/streamplug/push.py",
    "streamplug/settings.py" => "../../sdk/python/streamplug/settings.py",
    "streamplug/timer.py" => "../../sdk/python/streamplug/timer.py",
    "streamplug/vocabulary.py" => "../../sdk/python/streamplug/vocabulary.py",
);

const JS: &[(&str, &str)] = embed!(
    "app.js" => "../templates/js/app.js",
    "package.json" => "../templates/js/package.json",
    "streamplug/command.js" => "../../sdk/js/streamplug/command.js",
    "streamplug/config.js" => "../../sdk/js/streamplug/config.js",
    "streamplug/errors.js" => "../../sdk/js/streamplug/errors.js",
    "streamplug/event.js" => "../../sdk/js/streamplug/event.js",
    "streamplug/export.js" => "../../sdk/js/streamplug/export.js",
    "streamplug/journal.js" => "../../sdk/js/streamplug/journal.js",
    "streamplug/index.js" => "../../sdk/js/streamplug/index.js",
    "streamplug/kv.js" => "../../sdk/js/streamplug/kv.js",
    "streamplug/log.js" => "../../sdk/js/streamplug/log.js",
    "streamplug/packed.js" => "../../sdk/js/streamplug/packed.js",
    "streamplug/publish.js" => "../../sdk/js/streamplug/publish.js",
    "streamplug/push.js" => "../../sdk/js/streamplug/push.js",
    "streamplug/settings.js" => "../../sdk/js/streamplug/settings.js",
    "streamplug/timer.js" => "../../sdk/js/streamplug/timer.js",
    "streamplug/vocabulary.d.ts" => "../../sdk/js/streamplug/vocabulary.d.ts",
    "streamplug/vocabulary.js" => "../../sdk/js/streamplug/vocabulary.js",
);

/// Versions of the crates the Rust SDK copy depends on (kept equal to the
/// workspace's by a test).
const WIT_BINDGEN: &str = "0.61.1";
const WASIP2: &str = "2.0.1";
const ENVY: &str = "0.4.2";
const FORM_URLENCODED: &str = "1";
const RMP_SERDE: &str = "1.3";

/// Memory for a component with a language runtime inside.
const RUNTIME_LIMITS: &str = "\n[plugins.limits]\n# The language runtime is inside the component: more memory than Rust needs.\nmemory_mib = 64\n";

/// How a language's project is built.
struct Recipe {
    source: &'static str,
    sdk: &'static str,
    install: &'static str,
    build: String,
    wasm: String,
    limits: &'static str,
}

fn recipe(lang: Lang, module: &str) -> Recipe {
    match lang {
        Lang::Rust => Recipe {
            source: "src/lib.rs",
            sdk: "streamplug-sdk/",
            install: "Needs Rust and its WebAssembly target: `rustup target add wasm32-wasip2`.",
            build: "cargo build --target wasm32-wasip2 --release".into(),
            wasm: format!("target/wasm32-wasip2/release/{module}.wasm"),
            limits: "",
        },
        Lang::Python => Recipe {
            source: "app.py",
            sdk: "streamplug/",
            install: "Needs componentize-py from PyPI:\n\n```sh\npython3 -m venv .venv && .venv/bin/pip install componentize-py==0.25.1\n```",
            build: format!(
                ".venv/bin/componentize-py -d wit -w plugin componentize app -p . -o {module}.wasm"
            ),
            wasm: format!("{module}.wasm"),
            limits: RUNTIME_LIMITS,
        },
        Lang::Js => Recipe {
            source: "app.js",
            sdk: "streamplug/",
            install: "Needs Node.js; `npm install` installs componentize-js (see `package.json`). A plugin that calls `fetch` drops `http` from the build's `-d` and lists its hosts in the manifest's `allowed_hosts`.",
            build: "npm run build".into(),
            wasm: format!("{module}.wasm"),
            limits: RUNTIME_LIMITS,
        },
    }
}

/// The componentize-js command of a JavaScript project's `npm run build`.
fn js_build_command(module: &str) -> String {
    format!(
        "componentize-js --wit wit --world-name plugin -d http fetch-event -o {module}.wasm app.js"
    )
}

/// Whether `name` can name a plugin (1-64 lowercase letters, digits, `-`,
/// starting with a letter).
pub fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase()) && crate::config::is_valid_plugin_name(name)
}

/// The files of a new plugin `name` in `lang`.
pub fn project(name: &str, lang: Lang) -> Vec<File> {
    let module = name.replace('-', "_");
    let recipe = recipe(lang, &module);
    let wasm_dir = recipe
        .wasm
        .rsplit_once('/')
        .map_or(".", |(dir, _)| dir)
        .to_owned();
    let wasm_file = recipe
        .wasm
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let componentize_js = js_build_command(&module);
    let values: [(&str, &str); 16] = [
        ("name", name),
        ("language", &lang.to_string()),
        ("source", recipe.source),
        ("sdk", recipe.sdk),
        ("install", recipe.install),
        ("build", &recipe.build),
        ("componentize_js", &componentize_js),
        ("wasm", &recipe.wasm),
        ("wasm_dir", &wasm_dir),
        ("wasm_file", &wasm_file),
        ("limits", recipe.limits),
        ("wit_bindgen", WIT_BINDGEN),
        ("wasip2", WASIP2),
        ("envy", ENVY),
        ("form_urlencoded", FORM_URLENCODED),
        ("rmp_serde", RMP_SERDE),
    ];
    let language_files = match lang {
        Lang::Rust => RUST,
        Lang::Python => PYTHON,
        Lang::Js => JS,
    };
    COMMON
        .iter()
        .chain(WIT)
        .chain(language_files)
        .map(|(path, template)| {
            let mut contents = (*template).to_owned();
            for (key, value) in &values {
                contents = contents.replace(&format!("{{{{{key}}}}}"), value);
            }
            File {
                path: (*path).to_owned(),
                contents,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    fn files_in(dir: &str, ext: &str) -> BTreeSet<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
        std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|f| f.ends_with(ext))
            .collect()
    }

    fn embedded(list: &[(&str, &str)], prefix: &str) -> BTreeSet<String> {
        list.iter()
            .filter_map(|(p, _)| p.strip_prefix(prefix).map(str::to_owned))
            .collect()
    }

    #[test]
    fn every_sdk_and_wit_file_is_in_the_templates() {
        assert_eq!(embedded(WIT, "wit/deps/"), files_in("wit/deps", ".wit"));
        let top: BTreeSet<_> = embedded(WIT, "wit/")
            .into_iter()
            .filter(|f| !f.contains('/'))
            .collect();
        assert_eq!(top, files_in("wit", ".wit"));
        assert_eq!(
            embedded(RUST, "streamplug-sdk/src/"),
            files_in("sdk/src", ".rs")
        );
        assert_eq!(
            embedded(PYTHON, "streamplug/"),
            files_in("sdk/python/streamplug", ".py")
        );
        let mut js = files_in("sdk/js/streamplug", ".js");
        js.extend(files_in("sdk/js/streamplug", ".d.ts"));
        assert_eq!(embedded(JS, "streamplug/"), js);
    }

    #[test]
    fn the_rust_sdk_copy_depends_on_the_workspaces_versions() {
        let root = include_str!("../../Cargo.toml");
        assert!(root.contains(&format!("wit-bindgen = \"{WIT_BINDGEN}\"")));
        assert!(root.contains(&format!("wasip2 = \"{WASIP2}\"")));
        assert!(root.contains(&format!("envy = \"{ENVY}\"")));
        assert!(root.contains(&format!("form_urlencoded = \"{FORM_URLENCODED}\"")));
        assert!(root.contains(&format!("rmp-serde = \"{RMP_SERDE}\"")));
    }

    #[test]
    fn the_rust_sdk_copy_has_every_dependency_of_the_sdk() {
        let sdk = include_str!("../../sdk/Cargo.toml");
        let copy = include_str!("../templates/rust/sdk-Cargo.toml");
        let names = |toml: &str| -> Vec<String> {
            let deps = toml.split("[dependencies]").nth(1).unwrap_or_default();
            let deps = deps.split("\n[").next().unwrap_or_default();
            deps.lines()
                .filter_map(|l| l.split_once(['=', '.']))
                .map(|(name, _)| name.trim().to_owned())
                .filter(|name| !name.is_empty() && !name.starts_with('#'))
                .collect()
        };
        let copied = names(copy);
        for dep in names(sdk) {
            assert!(copied.contains(&dep), "the SDK copy lacks `{dep}`");
        }
    }

    #[test]
    fn placeholders_are_all_filled() {
        for lang in [Lang::Rust, Lang::Python, Lang::Js] {
            let files = project("view-counter", lang);
            for f in &files {
                assert!(!f.contents.contains("{{"), "{lang}: {} has {{{{", f.path);
            }
            let manifest = &files
                .iter()
                .find(|f| f.path == "plugin.toml")
                .unwrap()
                .contents;
            let table = crate::config::plugin_table(manifest).unwrap();
            assert_eq!(table["name"].as_str(), Some("view-counter"));
        }
        let js = project("view-counter", Lang::Js);
        let package = &js
            .iter()
            .find(|f| f.path == "package.json")
            .unwrap()
            .contents;
        let package: serde_json::Value = serde_json::from_str(package).unwrap();
        assert_eq!(
            package["scripts"]["build"],
            js_build_command("view_counter")
        );
    }

    #[test]
    fn names_follow_the_plugin_rules() {
        assert!(valid_name("view-counter2"));
        assert!(!valid_name("View"));
        assert!(!valid_name("2fast"));
        assert!(!valid_name(""));
        assert!(!valid_name("a_b"));
    }
}
