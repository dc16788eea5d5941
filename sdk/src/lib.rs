//! Write [streamplug](https://example.invalid/streamplug) plugins in Rust.
//!
//! A plugin is a type implementing [`Plugin`] plus one [`export_plugin!`]
//! line: its typed configuration, the value `init` builds from it, and the
//! handler. It sees the gateway only through this crate: typed [`Event`]s, its
//! own [`kv`] store, [`publish`] to granted topics, [`config`] values,
//! [`log`] lines, [`command`] refusals, durable [`timer`]s, read-only [`query`] answers, and outbound calls made once per event with [`journal`]. Every host error converts into a [`HandleError`] with `?`,
//! choosing retry or dead-letter for you.
//!
//! ```
//! use serde::Deserialize;
//! use streamplug_sdk::{Event, HandleError, Plugin, kv, publish};
//!
//! #[derive(Deserialize)]
//! struct Viewed { product: String }
//!
//! /// `[plugins.config]`: `topic`, where the counts go.
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Settings {
//!     #[serde(default = "default_topic")]
//!     topic: String,
//! }
//!
//! fn default_topic() -> String { "product-stats".into() }
//!
//! struct ViewCounter { topic: String }
//!
//! impl Plugin for ViewCounter {
//!     type Config = Settings;
//!
//!     fn init(config: Settings) -> Result<Self, String> {
//!         Ok(Self { topic: config.topic })
//!     }
//!
//!     fn handle(&self, event: Event) -> Result<(), HandleError> {
//!         let viewed: Viewed = event.json()?;
//!         let key = format!("views:{}", viewed.product);
//!         let views = kv::get_json::<u64>(&key)?.unwrap_or(0) + 1;
//!         kv::set_json(&key, &views)?;
//!         publish::to(&self.topic, "product.view_count")
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

pub mod command;
pub mod config;
mod error;
mod event;
pub mod http;
pub mod journal;
pub mod kv;
pub mod log;
pub mod packed;
pub mod publish;
pub mod push;
pub mod query;
pub mod timer;
pub mod vocabulary;

pub use error::HandleError;
pub use event::Event;

/// The generated bindings of the `streamplug:plugin` world. Plugins rarely
/// need them directly.
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "queryable",
        pub_export_macro: true,
        default_bindings_module: "streamplug_sdk::bindings",
        runtime_path: "streamplug_sdk::__wit_bindgen::rt",
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

/// A streamplug plugin: its configuration, its state, its handler.
///
/// The gateway makes instances of a plugin as load requires; each is built
/// once by [`Plugin::init`] from the manifest's config values and then
/// handles one event at a time. What must outlive an instance (counts,
/// profiles, anything another instance needs) belongs in [`kv`], which
/// commits with the event; the value `init` returns holds what is derived
/// from the configuration.
pub trait Plugin: Sized + 'static {
    /// The manifest's config values, typed (see [`config`]): a struct
    /// deriving `Deserialize`, [`config::NoConfig`], or [`config::Values`].
    type Config: serde::de::DeserializeOwned;

    /// Build an instance from its configuration. An error refuses the
    /// instance (and, when the gateway loads the plugin, the plugin), as does
    /// a value that does not fit [`Plugin::Config`].
    fn init(config: Self::Config) -> Result<Self, String>;

    /// Handle one event. `Ok` commits the event together with what this call
    /// published and wrote to KV; an error retries or dead-letters it.
    fn handle(&self, event: Event) -> Result<(), HandleError>;

    /// Answer a read-only [`query`] about `query.key` with JSON. The
    /// default knows no queries.
    fn query(&self, query: &query::Query) -> Result<Vec<u8>, query::QueryError> {
        Err(query::QueryError::UnknownQuery(query.name.clone()))
    }
}

#[doc(hidden)]
pub mod __export {
    //! What [`export_plugin!`](crate::export_plugin) expands to: the
    //! instance's plugin value in a slot the macro declares per plugin type.

    use std::cell::RefCell;
    use std::thread::LocalKey;

    use crate::{Event, HandleError, Plugin};

    /// Where an instance keeps its plugin value (a component instance is
    /// single-threaded, so a thread-local is the instance's own).
    pub type Slot<P> = LocalKey<RefCell<Option<P>>>;

    /// The config values read into `P::Config`, then `P::init`.
    pub fn init<P: Plugin>(
        slot: &'static Slot<P>,
        values: Vec<(String, String)>,
    ) -> Result<(), String> {
        let config = crate::config::from_values::<P::Config>(values)?;
        let plugin = P::init(config)?;
        slot.with(|s| *s.borrow_mut() = Some(plugin));
        Ok(())
    }

    /// The query to the instance's plugin value.
    pub fn query<P: Plugin>(
        slot: &'static Slot<P>,
        query: crate::query::Query,
    ) -> Result<Vec<u8>, crate::query::QueryError> {
        slot.with(|s| match s.borrow().as_ref() {
            Some(plugin) => plugin.query(&query),
            None => Err(crate::query::QueryError::Unavailable(
                "the instance was not initialised".into(),
            )),
        })
    }

    /// The event to the instance's plugin value.
    pub fn handle<P: Plugin>(slot: &'static Slot<P>, event: Event) -> Result<(), HandleError> {
        slot.with(|s| match s.borrow().as_ref() {
            Some(plugin) => plugin.handle(event),
            None => Err(HandleError::retry("the instance was not initialised")),
        })
    }
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

            ::std::thread_local! {
                static __STREAMPLUG_PLUGIN: ::core::cell::RefCell<::core::option::Option<$plugin>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            impl $crate::bindings::exports::streamplug::plugin::handler::Guest for __StreamplugExport {
                fn init(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__export::init::<$plugin>(&__STREAMPLUG_PLUGIN, config)
                }

                fn handle(
                    event: $crate::bindings::streamplug::plugin::types::Event,
                ) -> ::core::result::Result<(), $crate::bindings::exports::streamplug::plugin::handler::HandleError> {
                    $crate::__export::handle::<$plugin>(&__STREAMPLUG_PLUGIN, $crate::Event::from(event))
                        .map_err(::core::convert::Into::into)
                }
            }

            impl $crate::bindings::exports::streamplug::plugin::query::Guest for __StreamplugExport {
                fn query(
                    name: ::std::string::String,
                    key: ::std::string::String,
                    args: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::core::result::Result<::std::vec::Vec<u8>, $crate::query::QueryError> {
                    $crate::__export::query::<$plugin>(&__STREAMPLUG_PLUGIN, $crate::query::Query { name, key, args })
                }
            }

            $crate::bindings::export!(__StreamplugExport with_types_in $crate::bindings);
        };

        // Natively, still check that the type implements `Plugin` (and mark it used).
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn(&$plugin, $crate::Event) -> ::core::result::Result<(), $crate::HandleError> =
            <$plugin as $crate::Plugin>::handle;
    };
}
