//! A plugin version's id: derived from its component and its manifest, so
//! the same component with other settings is another version, and the same
//! pair gets the same id on every instance and after every restart.

use std::path::PathBuf;

use super::component_cache;
use crate::config::PluginManifest;

/// The id of the version made of the component with sha256 `digest` and
/// `manifest` (whose `wasm` path does not count).
pub fn version_id(digest: &str, manifest: &PluginManifest) -> String {
    let mut manifest = manifest.clone();
    manifest.wasm = PathBuf::new();
    let manifest_json = serde_json::to_string(&manifest).unwrap_or_default();
    component_cache::digest(format!("{digest}\n{manifest_json}").as_bytes())[..12].to_owned()
}
