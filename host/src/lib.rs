//! streamplug: a WebAssembly-extensible event gateway.
//!
//! Data path: [`api`] (HTTP ingest) → [`storage`] (durable event log) →
//! [`dispatch`] (one consumer per plugin and partition) → [`runtime`]
//! (sandboxed component instances) → host capabilities (publish, KV, config,
//! log, outbound HTTP) → back into [`storage`].

pub mod admin;
pub mod api;
pub mod auth;
pub mod builtin;
pub mod cli;
pub mod codegen;
pub mod config;
pub mod dispatch;
pub mod docs_file;
pub mod gateway;
pub mod harness;
pub mod hash;
pub mod rate;
pub mod registry;
pub mod routing;
pub mod runtime;
pub mod scaffold;
pub mod shadow;
pub mod stages;
pub mod storage;
pub mod versions;
pub mod web;
pub mod ws;

// The event model and the parsers of what the internet sends live in
// `streamplug-wire` (fuzzed on their own); the host reads them at its own paths.
pub use streamplug_wire::{clock, event, json_number};
