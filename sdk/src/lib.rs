//! Write [streamplug](https://example.invalid/streamplug) plugins in Rust.
//!
//! A plugin is a type implementing [`Plugin`] plus one [`export_plugin!`]
//! line. It sees the gateway only through this crate: typed [`Event`]s, its
//! own [`kv`] store, [`publish`] to granted topics, [`config`] values,
//! [`log`] lines, and outbound calls made once per event with [`journal`]. Every host error converts into a [`HandleError`] with `?`,
//! choosing retry or dead-letter for you.
//!
//! ```
//! use serde::Deserialize;
//! use streamplug_sdk::{Event, HandleError, Plugin, kv, publish};
//!
//! #[derive(Deserialize)]
//! struct Viewed { product: String }
//!
//! struct ViewCounter;
//!
//! impl Plugin for ViewCounter {
//!     fn handle(event: Event) -> Result<(), HandleError> {
//!         let viewed: Viewed = event.json()?;
//!         let key = format!("views:{}", viewed.product);
//!         let views = kv::get_json::<u64>(&key)?.unwrap_or(0) + 1;
//!         kv::set_json(&key, &views)?;
//!         publish::to("product-stats", "product.view_count")
//!             .subject(event.subject().unwrap_or_default())
//!             .json(&serde_json::json!({ "product": viewed.product, "views": views }))?
//!             .send()?;
//!         Ok(())
//!     }
//! }
//!
//! streamplug_sdk::export_plugin!(ViewCounter);
//! ```
//!
//! Build with `cargo build --target wasm32-wasip2 --release`: the `.wasm` is
//! a component ready for the gateway. The export expands only for `wasm32`,
//! so the plugin's logic stays unit-testable with a native `cargo test`.

// Lets the generated bindings name this crate the way plugins do.
extern crate self as streamplug_sdk;

pub mod config;
mod error;
mod event;
pub mod http;
pub mod journal;
pub mod kv;
pub mod log;
pub mod publish;
pub mod push;

pub use config::Config;
pub use error::HandleError;
pub use event::Event;

/// The generated bindings of the `streamplug:plugin` world. Plugins rarely
/// need them directly.
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "plugin",
        pub_export_macro: true,
        default_bindings_module: "streamplug_sdk::bindings",
        runtime_path: "streamplug_sdk::__wit_bindgen::rt",
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// A streamplug plugin.
pub trait Plugin {
    /// Called once on every new instance with the manifest's config values,
    /// before the first event. An error refuses the instance (and, when the
    /// gateway loads the plugin, the plugin).
    fn init(config: Config) -> Result<(), String> {
        let _ = config;
        Ok(())
    }

    /// Handle one event. `Ok` commits the event together with what this call
    /// published and wrote to KV; an error retries or dead-letters it.
    fn handle(event: Event) -> Result<(), HandleError>;
}

/// Export a [`Plugin`] implementation as the component's handler.
///
/// Expands only when compiling for `wasm32`, so native unit tests of the
/// plugin crate link.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        #[allow(unsafe_code)]
        const _: () = {
            struct __StreamplugExport;

            impl $crate::bindings::exports::streamplug::plugin::handler::Guest for __StreamplugExport {
                fn init(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    <$plugin as $crate::Plugin>::init($crate::Config::from(config))
                }

                fn handle(
                    event: $crate::bindings::streamplug::plugin::types::Event,
                ) -> ::core::result::Result<(), $crate::bindings::exports::streamplug::plugin::handler::HandleError> {
                    <$plugin as $crate::Plugin>::handle($crate::Event::from(event)).map_err(::core::convert::Into::into)
                }
            }

            $crate::bindings::export!(__StreamplugExport with_types_in $crate::bindings);
        };

        // Natively, still check that the type implements `Plugin` (and mark it used).
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn($crate::Event) -> ::core::result::Result<(), $crate::HandleError> =
            <$plugin as $crate::Plugin>::handle;
    };
}
