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
