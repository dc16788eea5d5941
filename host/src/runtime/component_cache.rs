//! Compiled components cached on disk, keyed by the component's sha256 and
//! the engine's compatibility hash: a Python or JS component compiles once
//! (~20 s here), later starts load it in milliseconds.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

/// The sha256 digest of a component, hex.
pub fn digest(bytes: &[u8]) -> String {
    crate::hash::sha256_hex(bytes)
}

/// The part of a cached file's name that says which engine compiled it.
fn engine_tag(engine: &Engine) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn cache_path(engine: &Engine, dir: &Path, digest: &str) -> PathBuf {
    dir.join(format!("{digest}-{}.cwasm", engine_tag(engine)))
}

/// How old an unfinished write must be before it counts as abandoned.
const ABANDONED: std::time::Duration = std::time::Duration::from_secs(3600);

/// Remove from `dir` the compiled components of digests not in `keep`, those
/// another engine compiled, and writes abandoned for an hour; how many
/// files were removed.
pub fn prune(engine: &Engine, dir: &Path, keep: &std::collections::HashSet<String>) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let current = format!("-{}.cwasm", engine_tag(engine));
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let doomed = if let Some(digest) = name.strip_suffix(&current) {
            !keep.contains(digest)
        } else if name.ends_with(".cwasm") {
            true
        } else {
            name.ends_with(".tmp")
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > ABANDONED))
        };
        if doomed && std::fs::remove_file(entry.path()).is_ok() {
            tracing::debug!(file = %name, "removed a compiled component no version uses");
            removed += 1;
        }
    }
    removed
}

/// Load the compiled form of `bytes` from `dir`, or compile and store it.
pub fn load_or_compile(
    engine: &Engine,
    bytes: &[u8],
    digest: &str,
    dir: Option<&Path>,
) -> Result<Component, String> {
    let Some(dir) = dir else {
        return compile(engine, bytes);
    };
    let path = cache_path(engine, dir, digest);
    if path.is_file() {
        match deserialize(engine, &path) {
            Ok(component) => return Ok(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "discarding unusable compiled component");
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let component = compile(engine, bytes)?;
    if let Err(e) = store(&component, dir, &path) {
        tracing::warn!(path = %path.display(), error = %e, "could not cache compiled component");
    }
    Ok(component)
}

fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component, String> {
    Component::new(engine, bytes).map_err(|e| format!("{e:#}"))
}

fn store(component: &Component, dir: &Path, path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let bytes = component.serialize().map_err(|e| format!("{e:#}"))?;
    // A name of its own: gateways sharing the cache may store the same
    // component at once.
    static STORED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = STORED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("{}-{n}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> Result<Component, String> {
    // SAFETY: the file was written by `store` above from `Component::serialize`
    // of an engine with the same compatibility hash (it is part of the file
    // name), complete before its rename, in the gateway's cache directory
    // (`runtime.cache_dir`, which only streamplug writes); wasmtime
    // additionally checks its header against the engine's configuration.
    unsafe { Component::deserialize_file(engine, path) }.map_err(|e| format!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_removes_unused_and_foreign_components_and_abandoned_writes() {
        let engine = Engine::default();
        let dir = tempfile::tempdir().unwrap();
        let tag = engine_tag(&engine);
        let files = [
            format!("used-{tag}.cwasm"),
            format!("unused-{tag}.cwasm"),
            "used-0000000000000000.cwasm".to_owned(),
            "used.123-0.tmp".to_owned(),
            "notes.txt".to_owned(),
        ];
        for name in &files {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        let keep = ["used".to_owned()].into();
        // A write in progress is left alone; the rest that is not used goes.
        assert_eq!(prune(&engine, dir.path(), &keep), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "notes.txt".to_owned(),
                format!("used-{tag}.cwasm"),
                "used.123-0.tmp".to_owned()
            ]
        );
    }
}
