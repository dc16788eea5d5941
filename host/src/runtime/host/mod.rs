//! Host implementations of the plugin world's imports, one file per WIT
//! interface. Each checks the plugin's grant and delegates to a backend
//! trait or to the staged effects; a denial is an error value, never a trap.

mod command;
mod config;
pub mod journal;
mod kv;
mod log;
mod producer;
pub mod push;
mod timer;

impl super::bindings::streamplug::plugin::types::Host for super::state::StoreState {}
