//! Integration tests: a real gateway on a free loopback port, real plugins
//! built from source, real HTTP. One binary, so wasmtime links once.

// The whole crate is test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod api_fuzz;
mod author_errors;
mod broker_faults;
mod browser;
mod canary;
mod child;
mod cli;
mod command_processors;
mod commands;
mod contract_documents;
mod crash;
mod crm_sync;
mod customer_story;
mod deploy;
mod disk_full;
mod durability;
mod early_answers;
mod effects_once;
mod harness;
mod harness_http;
mod idempotent_ingest;
mod inbound_webhooks;
mod infobip_double;
mod ingest;
mod kafka;
mod kafka_interop;
mod kv_ttl;
mod lifecycle;
mod listener;
mod module_graph;
mod openapi;
mod outbound;
mod partitioning;
mod plugins;
mod polyglot;
mod salesforce_double;
mod sandbox;
mod scale_out;
mod scenario;
mod sdk_rules;
mod security;
mod security_tokens;
mod shadow;
mod support_bot;
mod swaps;
mod templates;
mod version_history;
mod vocabulary;
mod watch;
mod websocket;
mod ws_pipelining;
