//! What a component imports and exports, checked against the WIT world
//! the host supports and against the grants of its manifest, so that a
//! component built for another version of the world is refused, and one
//! that reaches for a capability its manifest does not grant is warned
//! about, with a reason that names the interface.

use wasmtime::Engine;
use wasmtime::component::Component;

use super::bindings::{WIT_PACKAGE, handler_interface};
use crate::config::PluginManifest;

/// The instance names a component imports and exports.
#[derive(Debug, Clone, Default)]
pub struct Interfaces {
    /// Imported names (`wasi:http/outgoing-handler@0.2.6`, ...).
    pub imports: Vec<String>,
    /// Exported names.
    pub exports: Vec<String>,
}

impl Interfaces {
    /// The names `component` imports and exports.
    pub fn of(engine: &Engine, component: &Component) -> Self {
        let ty = component.component_type();
        Self {
            imports: ty.imports(engine).map(|(n, _)| n.to_owned()).collect(),
            exports: ty.exports(engine).map(|(n, _)| n.to_owned()).collect(),
        }
    }

    /// An error naming the first `streamplug:plugin` interface of another
    /// version than the host's.
    pub fn check_world(&self) -> Result<(), String> {
        let (package, version) = WIT_PACKAGE.split_once('@').unwrap_or((WIT_PACKAGE, ""));
        for name in self.imports.iter().chain(&self.exports) {
            let Some(rest) = name.strip_prefix(package).and_then(|r| r.strip_prefix('/')) else {
                continue;
            };
            let found = rest.split_once('@').map_or("", |(_, v)| v);
            if found != version {
                return Err(format!(
                    "`{name}` is from {package}@{found}; this gateway supports {WIT_PACKAGE} (rebuild the plugin against the gateway's wit/)"
                ));
            }
        }
        let handler = handler_interface();
        if !self.exports.contains(&handler) {
            return Err(format!(
                "it does not export `{handler}`; a plugin targets the world `plugin` of {WIT_PACKAGE}"
            ));
        }
        Ok(())
    }

    /// The first import `manifest` does not grant, with what would grant it.
    ///
    /// Only imports beyond the `plugin` world count: toolchains such as
    /// componentize-py and componentize-js import every interface of the
    /// world whether the plugin calls it or not, and what its calls may do
    /// (the topics, the channels) is checked call by call. Outbound HTTP is
    /// a capability of its own: a component that can make requests needs
    /// hosts to make them to.
    pub fn ungranted(&self, manifest: &PluginManifest) -> Option<String> {
        self.imports.iter().find_map(|name| {
            let interface = name.split('@').next().unwrap_or(name);
            let ungranted =
                interface == "wasi:http/outgoing-handler" && manifest.allowed_hosts.is_empty();
            ungranted
                .then(|| format!("it imports `{name}`, but its manifest grants no `allowed_hosts`"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interfaces(imports: &[&str], exports: &[&str]) -> Interfaces {
        Interfaces {
            imports: imports.iter().map(|s| (*s).to_owned()).collect(),
            exports: exports.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    const HANDLER: &str = "streamplug:plugin/handler@0.1.0";

    #[test]
    fn the_world_version_must_be_the_hosts() {
        assert!(
            interfaces(&["streamplug:plugin/kv@0.1.0"], &[HANDLER])
                .check_world()
                .is_ok()
        );
        let err = interfaces(
            &["streamplug:plugin/kv@0.2.0"],
            &["streamplug:plugin/handler@0.2.0"],
        )
        .check_world()
        .unwrap_err();
        assert!(
            err.contains("streamplug:plugin@0.2.0")
                && err.contains("supports streamplug:plugin@0.1.0"),
            "{err}"
        );
        let err = interfaces(&[], &["wasi:cli/run@0.2.6"])
            .check_world()
            .unwrap_err();
        assert!(err.contains("does not export"), "{err}");
    }

    #[test]
    fn outbound_http_needs_allowed_hosts() {
        let manifest: PluginManifest = toml::from_str(
            "name = \"p\"\nwasm = \"p.wasm\"\nsubscribe = [\"a\"]\npublish = [\"b\"]",
        )
        .unwrap();
        let fine = interfaces(
            &[
                "streamplug:plugin/producer@0.1.0",
                "streamplug:plugin/kv@0.1.0",
                "wasi:io/streams@0.2.6",
            ],
            &[HANDLER],
        );
        assert_eq!(fine.ungranted(&manifest), None);
        let http = interfaces(&["wasi:http/outgoing-handler@0.2.6"], &[HANDLER]);
        let reason = http.ungranted(&manifest).unwrap();
        assert!(reason.contains("`allowed_hosts`"), "{reason}");
        // The world's own interfaces: calls are checked one by one.
        let push = interfaces(&["streamplug:plugin/push@0.1.0"], &[HANDLER]);
        assert_eq!(push.ungranted(&manifest), None);
    }
}
