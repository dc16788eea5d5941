//! Builds the first-party plugins (recommend, support-bot, crm-sync,
//! customer-registry, order-processor, customer-view) for
//! `wasm32-wasip2` and puts them in `OUT_DIR`, where `src/builtin.rs`
//! embeds them: a `streamplug` installed with `cargo install --path host`
//! runs its embedded default (and any config naming `builtin:<plugin>`)
//! without the checkout's `target/`.
//!
//! - `STREAMPLUG_PREBUILT_PLUGINS=<dir>`: take the components from `dir`
//!   (the Makefile points it at the `plugin` profile's output, which it has
//!   just built) instead of building them again.
//! - Otherwise they are built here by a nested `cargo build` in a target
//!   directory of its own beside this build's (the outer build holds the
//!   lock of its own directory); it needs the `wasm32-wasip2` target
//!   (`rustup target add wasm32-wasip2`).
//! - `STREAMPLUG_EMBED_PLUGINS=0`: embed none (a build for another purpose,
//!   such as the fuzz targets on a nightly toolchain); `builtin:` plugins
//!   are then refused at start with that reason.

// A build script talks to cargo on stdout, and fails by panicking.
#![allow(clippy::print_stdout, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The embedded plugins: workspace package, component file.
const PLUGINS: [(&str, &str); 6] = [
    ("recommend", "recommend.wasm"),
    ("support-bot", "support_bot.wasm"),
    ("crm-sync", "crm_sync.wasm"),
    ("customer-registry", "customer_registry.wasm"),
    ("order-processor", "order_processor.wasm"),
    ("customer-view", "customer_view.wasm"),
];

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ is inside the workspace")
        .to_owned();
    let out = PathBuf::from(env("OUT_DIR"));
    println!("cargo:rerun-if-env-changed=STREAMPLUG_PREBUILT_PLUGINS");
    println!("cargo:rerun-if-env-changed=STREAMPLUG_EMBED_PLUGINS");

    if std::env::var("STREAMPLUG_EMBED_PLUGINS").as_deref() == Ok("0") {
        for (_, file) in PLUGINS {
            write(&out.join(file), &[]);
        }
        return;
    }
    if let Ok(dir) = std::env::var("STREAMPLUG_PREBUILT_PLUGINS") {
        let dir = absolute(&root, Path::new(&dir));
        if PLUGINS.iter().all(|(_, file)| dir.join(file).is_file()) {
            for (_, file) in PLUGINS {
                println!("cargo:rerun-if-changed={}", dir.join(file).display());
                copy(&dir.join(file), &out.join(file));
            }
            return;
        }
        println!(
            "cargo:warning=STREAMPLUG_PREBUILT_PLUGINS={} lacks the first-party plugins; building them",
            dir.display()
        );
    }
    let sources = PLUGINS
        .iter()
        .map(|(package, _)| format!("plugins/{package}"));
    let shared = [
        "plugins/salesforce-client",
        "sdk/src",
        "sdk/Cargo.toml",
        "wit",
        "Cargo.lock",
    ];
    for watched in sources.chain(shared.map(str::to_owned)) {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let target_dir = nested_target_dir(&out);
    let mut cargo = Command::new(env("CARGO"));
    cargo
        .current_dir(&root)
        .args(["build", "--target", "wasm32-wasip2", "--profile", "plugin"])
        .arg("--target-dir")
        .arg(&target_dir);
    for (package, _) in PLUGINS {
        cargo.args(["-p", package]);
    }
    // What the outer build was given is for the host, not for wasm32: its
    // flags (a sanitizer, a target CPU), its wrappers (clippy), its target.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cargo.env_remove(var);
    }
    let status = cargo
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the first-party plugins: {e}"));
    assert!(
        status.success(),
        "building the first-party plugins for wasm32-wasip2 failed (is the target installed? \
         `rustup target add wasm32-wasip2`; or set STREAMPLUG_EMBED_PLUGINS=0 to build without them)"
    );
    let built = target_dir.join("wasm32-wasip2/plugin");
    for (_, file) in PLUGINS {
        copy(&built.join(file), &out.join(file));
    }
}

/// `<target>/embedded-plugins`, `<target>` being this build's target
/// directory (`OUT_DIR` is `<target>[/<triple>]/<profile>/build/<pkg>/out`).
fn nested_target_dir(out: &Path) -> PathBuf {
    let profile_dir = out
        .ancestors()
        .find(|a| a.file_name().is_some_and(|n| n == "build"))
        .and_then(Path::parent)
        .expect("OUT_DIR lies under <profile>/build");
    profile_dir
        .parent()
        .expect("a profile directory has a parent")
        .join("embedded-plugins")
}

fn absolute(root: &Path, dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        dir.to_owned()
    } else {
        root.join(dir)
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name} for build scripts"))
}

fn copy(from: &Path, to: &Path) {
    let bytes =
        std::fs::read(from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display()));
    write(to, &bytes);
}

/// Write only when the bytes differ, so an unchanged component does not
/// rebuild the crate.
fn write(to: &Path, bytes: &[u8]) {
    if std::fs::read(to).is_ok_and(|old| old == bytes) {
        return;
    }
    std::fs::write(to, bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", to.display()));
}
