//! The host side of the `streamplug:plugin` WIT world: the one `bindgen!` call.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    imports: { default: async },
    exports: { default: async },
});

pub use exports::streamplug::plugin::handler::HandleError;
pub use streamplug::plugin::types::Event as WitEvent;

/// The version of the WIT package this host implements.
pub const WIT_PACKAGE: &str = "streamplug:plugin@0.1.0";

/// The name of the handler interface every plugin exports:
/// `streamplug:plugin/handler@0.1.0`.
pub fn handler_interface() -> String {
    let (package, version) = WIT_PACKAGE.split_once('@').unwrap_or((WIT_PACKAGE, ""));
    format!("{package}/handler@{version}")
}
