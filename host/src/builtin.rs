//! The first-party plugins compiled into the binary (`host/build.rs`): a
//! manifest whose `wasm` is `builtin:<plugin>` (the embedded default's is
//! `builtin:recommend`) runs them without any file beside the binary.
//! Before loading, the gateway writes each one it needs under
//! `<data_dir>/builtin/`, where the version store, the compiled-component
//! cache and error messages find it as any other component file.

use std::path::{Path, PathBuf};

/// How a manifest names a built-in plugin: `wasm = "builtin:recommend"`.
pub const PREFIX: &str = "builtin:";

/// The built-in plugins: name, component (empty when the build embedded
/// none, `STREAMPLUG_EMBED_PLUGINS=0`).
const PLUGINS: [(&str, &[u8]); 6] = [
    (
        "recommend",
        include_bytes!(concat!(env!("OUT_DIR"), "/recommend.wasm")),
    ),
    (
        "support-bot",
        include_bytes!(concat!(env!("OUT_DIR"), "/support_bot.wasm")),
    ),
    (
        "crm-sync",
        include_bytes!(concat!(env!("OUT_DIR"), "/crm_sync.wasm")),
    ),
    (
        "customer-registry",
        include_bytes!(concat!(env!("OUT_DIR"), "/customer_registry.wasm")),
    ),
    (
        "order-processor",
        include_bytes!(concat!(env!("OUT_DIR"), "/order_processor.wasm")),
    ),
    (
        "customer-view",
        include_bytes!(concat!(env!("OUT_DIR"), "/customer_view.wasm")),
    ),
];

/// Why a `builtin:` name cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuiltinError {
    /// No built-in plugin has that name.
    #[error("there is no built-in plugin `{name}` (built in: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// This binary was built without them.
    #[error("this streamplug was built without its built-in plugins (STREAMPLUG_EMBED_PLUGINS=0)")]
    NotEmbedded,
}

/// The built-in plugin a manifest's `wasm` names, if it names one.
pub fn name_in(wasm: &Path) -> Option<&str> {
    wasm.to_str()?.strip_prefix(PREFIX)
}

/// The component of built-in plugin `name`.
pub fn component(name: &str) -> Result<&'static [u8], BuiltinError> {
    let (_, bytes) =
        PLUGINS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| BuiltinError::Unknown {
                name: name.to_owned(),
                known: PLUGINS.map(|(n, _)| n).join(", "),
            })?;
    if bytes.is_empty() {
        return Err(BuiltinError::NotEmbedded);
    }
    Ok(bytes)
}

/// Where built-in plugin `name` is written under `data_dir`.
pub fn path(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("builtin").join(format!("{name}.wasm"))
}

/// Write built-in plugin `name` to [`path`] unless it is already there with
/// the same bytes (a new binary replaces an older copy).
pub fn write(data_dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    let bytes = component(name).map_err(std::io::Error::other)?;
    let path = path(data_dir, name);
    if std::fs::read(&path).is_ok_and(|old| old == bytes) {
        return Ok(path);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let partial = path.with_extension("wasm.partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_party_plugins_are_embedded_and_named() {
        for name in [
            "recommend",
            "support-bot",
            "crm-sync",
            "customer-registry",
            "order-processor",
            "customer-view",
        ] {
            let wasm = component(name).unwrap();
            // A component, not a core module: `\0asm`, then layer 1.
            assert_eq!(&wasm[..4], b"\0asm", "{name}");
            assert_eq!(wasm[6..8], [1, 0], "{name}");
        }
        let err = component("recomend").unwrap_err().to_string();
        assert_eq!(
            err,
            "there is no built-in plugin `recomend` (built in: recommend, support-bot, crm-sync, customer-registry, order-processor, customer-view)"
        );
        assert_eq!(name_in(Path::new("builtin:recommend")), Some("recommend"));
        assert_eq!(name_in(Path::new("recommend.wasm")), None);
    }

    #[test]
    fn a_written_plugin_is_rewritten_only_when_it_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "recommend").unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            component("recommend").unwrap()
        );
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        write(dir.path(), "recommend").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            modified
        );
    }
}
