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

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(wasm: &str, subscribe: &str) -> PluginManifest {
        toml::from_str(&format!(
            "name = \"recommend\"\nwasm = \"{wasm}\"\nsubscribe = [\"{subscribe}\"]"
        ))
        .unwrap()
    }

    #[test]
    fn an_id_is_pinned_by_its_component_and_manifest_not_its_path() {
        let digest = crate::hash::sha256_hex(b"component");
        let id = version_id(&digest, &manifest("a/recommend.wasm", "interactions"));
        // Stored versions are found by this id after an upgrade: a change to
        // the manifest's fields or their defaults changes it, and must be
        // one that means to.
        assert_eq!(id, "f8afc08bb90f");
        assert_eq!(
            id,
            version_id(&digest, &manifest("b/other.wasm", "interactions"))
        );
        assert_ne!(
            id,
            version_id(&digest, &manifest("a/recommend.wasm", "orders"))
        );
    }
}
