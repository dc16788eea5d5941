//! Every plugin version the gateway has run or was given, kept on disk:
//! `<dir>/<plugin>/<id>.wasm` and `<id>.json` (component digest, upload
//! time, size, source and manifest). A version is a component together with
//! its manifest; its id is derived from both, so the same component with
//! other config is another version. Files are written to a temporary name
//! and renamed, so a record never points at a half-written component.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::PluginManifest;
use crate::runtime::component_cache::digest;
pub use crate::runtime::version_id::version_id;

/// One stored version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredVersion {
    /// Short id (12 hex digits of the sha256 of the digest and manifest).
    pub id: String,
    /// Plugin name.
    pub plugin: String,
    /// sha256 of the component, hex.
    pub digest: String,
    /// When it was first stored (RFC 3339).
    pub uploaded_at: String,
    /// Component size, bytes.
    pub size: u64,
    /// Where it came from: `config`, `upload` or `watch`.
    pub source: String,
    /// Its manifest; `wasm` is the stored component.
    pub manifest: PluginManifest,
}

/// Why the store could not do something.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing failed.
    #[error("version store: {path}: {source}")]
    Io {
        /// File or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A record that does not parse.
    #[error("version store: {path} is not a version record: {reason}")]
    Corrupt {
        /// The record.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No version with that id (or id prefix).
    #[error("{plugin} has no version `{id}`")]
    Unknown {
        /// Plugin.
        plugin: String,
        /// Id asked for.
        id: String,
    },
    /// An id prefix that matches several versions.
    #[error("`{id}` names several versions of {plugin}; give more of the id")]
    Ambiguous {
        /// Plugin.
        plugin: String,
        /// Prefix asked for.
        id: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The versions on disk.
#[derive(Debug, Clone)]
pub struct VersionStore {
    dir: PathBuf,
}

impl VersionStore {
    /// The store under `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory it keeps versions in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether version `id` of `plugin` is stored.
    pub fn contains(&self, plugin: &str, id: &str) -> bool {
        self.record_path(plugin, id).is_file()
    }

    fn record_path(&self, plugin: &str, id: &str) -> PathBuf {
        self.dir.join(plugin).join(format!("{id}.json"))
    }

    /// Store `wasm` with `manifest` (its `wasm` is replaced by the stored
    /// file); the record, and whether this call created it (storing a
    /// version again returns the existing record).
    pub fn put(
        &self,
        manifest: &PluginManifest,
        wasm: &[u8],
        source: &str,
    ) -> Result<(StoredVersion, bool), StoreError> {
        let component = digest(wasm);
        let id = version_id(&component, manifest);
        let mut manifest = manifest.clone();
        let dir = self.dir.join(&manifest.name);
        let record_path = self.record_path(&manifest.name, &id);
        if record_path.is_file() {
            return Ok((read_record(&record_path)?, false));
        }
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let wasm_path = dir.join(format!("{id}.wasm"));
        write_atomically(&wasm_path, wasm)?;
        manifest.wasm = std::path::absolute(&wasm_path).map_err(io(&wasm_path))?;
        let record = StoredVersion {
            id,
            plugin: manifest.name.clone(),
            digest: component,
            uploaded_at: crate::clock::now_rfc3339(),
            size: wasm.len() as u64,
            source: source.to_owned(),
            manifest,
        };
        let json = serde_json::to_vec_pretty(&record).unwrap_or_default();
        write_atomically(&record_path, &json)?;
        Ok((record, true))
    }

    /// Every version of `plugin`, oldest first.
    pub fn list(&self, plugin: &str) -> Result<Vec<StoredVersion>, StoreError> {
        let dir = self.dir.join(plugin);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&dir)(e)),
        };
        let mut versions = Vec::new();
        for entry in entries {
            let path = entry.map_err(io(&dir))?.path();
            if path.extension().is_some_and(|e| e == "json") {
                versions.push(read_record(&path)?);
            }
        }
        versions.sort_by(|a, b| a.uploaded_at.cmp(&b.uploaded_at).then(a.id.cmp(&b.id)));
        Ok(versions)
    }

    /// The version of `plugin` whose id is or starts with `id`.
    pub fn get(&self, plugin: &str, id: &str) -> Result<StoredVersion, StoreError> {
        let mut matching = self
            .list(plugin)?
            .into_iter()
            .filter(|v| !id.is_empty() && v.id.starts_with(id));
        match (matching.next(), matching.next()) {
            (Some(v), None) => Ok(v),
            (None, _) => Err(StoreError::Unknown {
                plugin: plugin.to_owned(),
                id: id.to_owned(),
            }),
            (Some(_), Some(_)) => Err(StoreError::Ambiguous {
                plugin: plugin.to_owned(),
                id: id.to_owned(),
            }),
        }
    }

    /// The plugins that have stored versions.
    pub fn plugins(&self) -> Result<Vec<String>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        let mut plugins = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io(&self.dir))?;
            if entry.file_type().map_err(io(&self.dir))?.is_dir() {
                plugins.extend(entry.file_name().to_str().map(str::to_owned));
            }
        }
        plugins.sort();
        Ok(plugins)
    }

    /// Delete `plugin`'s versions but its newest `keep` (`0`: all) and
    /// those in `protected`; the deleted ones and the kept ones, oldest
    /// first.
    pub fn prune(
        &self,
        plugin: &str,
        keep: usize,
        protected: &HashSet<String>,
    ) -> Result<(Vec<StoredVersion>, Vec<StoredVersion>), StoreError> {
        let versions = self.list(plugin)?;
        let old = if keep == 0 {
            0
        } else {
            versions.len().saturating_sub(keep)
        };
        let (mut deleted, mut kept) = (Vec::new(), Vec::new());
        for (n, version) in versions.into_iter().enumerate() {
            if n < old && !protected.contains(&version.id) {
                self.delete(&version)?;
                deleted.push(version);
            } else {
                kept.push(version);
            }
        }
        Ok((deleted, kept))
    }

    /// Forget a version (a candidate that failed validation).
    pub fn delete(&self, version: &StoredVersion) -> Result<(), StoreError> {
        let dir = self.dir.join(&version.plugin);
        for ext in ["json", "wasm"] {
            let path = dir.join(format!("{}.{ext}", version.id));
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(&path)(e)),
            }
        }
        Ok(())
    }
}

fn read_record(path: &Path) -> Result<StoredVersion, StoreError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(tag: &str) -> PluginManifest {
        toml::from_str(&format!(
            "name = \"rec\"\nwasm = \"rec.wasm\"\nsubscribe = [\"a\"]\n[config]\ntag = \"{tag}\""
        ))
        .unwrap()
    }

    #[test]
    fn versions_are_kept_with_digest_and_found_by_id_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let store = VersionStore::new(dir.path());
        let (v1, created) = store.put(&manifest("v1"), b"component", "config").unwrap();
        assert!(created && store.contains("rec", &v1.id));
        assert_eq!(v1.digest, digest(b"component"));
        assert_eq!(v1.size, 9);
        assert!(v1.manifest.wasm.is_absolute() && v1.manifest.wasm.is_file());
        // Same component, other config: another version.
        let (v2, _) = store.put(&manifest("v2"), b"component", "upload").unwrap();
        assert_ne!(v1.id, v2.id);
        // Storing again keeps the first record.
        let (again, created) = store.put(&manifest("v1"), b"component", "upload").unwrap();
        assert!(!created);
        assert_eq!(
            (
                again.id.as_str(),
                again.uploaded_at.as_str(),
                again.source.as_str()
            ),
            (v1.id.as_str(), v1.uploaded_at.as_str(), "config")
        );
        let ids: Vec<String> = store
            .list("rec")
            .unwrap()
            .into_iter()
            .map(|v| v.id)
            .collect();
        assert_eq!(ids.len(), 2);
        assert_eq!(
            store.get("rec", &v2.id[..6]).unwrap().manifest.config["tag"],
            "v2"
        );
        assert!(matches!(
            store.get("rec", "zzz"),
            Err(StoreError::Unknown { .. })
        ));
        assert!(matches!(
            store.get("rec", ""),
            Err(StoreError::Unknown { .. })
        ));
        store.delete(&v2).unwrap();
        assert_eq!(store.list("rec").unwrap().len(), 1);
        assert!(!store.contains("rec", &v2.id));
        assert!(store.list("other").unwrap().is_empty());
    }

    #[test]
    fn pruning_keeps_the_newest_and_the_protected_versions() {
        let dir = tempfile::tempdir().unwrap();
        let store = VersionStore::new(dir.path());
        let ids: Vec<String> = (0..5)
            .map(|i| {
                let (v, _) = store
                    .put(&manifest(&format!("v{i}")), b"c", "upload")
                    .unwrap();
                // Upload times are kept to the millisecond.
                std::thread::sleep(std::time::Duration::from_millis(2));
                v.id
            })
            .collect();
        let protected: HashSet<String> = [ids[0].clone()].into();
        let (deleted, kept) = store.prune("rec", 2, &protected).unwrap();
        let deleted: Vec<&str> = deleted.iter().map(|v| v.id.as_str()).collect();
        let kept: Vec<&str> = kept.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(kept, [ids[0].as_str(), ids[3].as_str(), ids[4].as_str()]);
        assert_eq!(deleted, [ids[1].as_str(), ids[2].as_str()]);
        let left: Vec<String> = store
            .list("rec")
            .unwrap()
            .into_iter()
            .map(|v| v.id)
            .collect();
        assert_eq!(left, [ids[0].clone(), ids[3].clone(), ids[4].clone()]);
        assert_eq!(store.plugins().unwrap(), ["rec"]);
    }
}
