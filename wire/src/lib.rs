//! What crosses streamplug's trust boundary, and nothing else: the event
//! model and its vocabulary ([`event`]), the CloudEvents forms events take
//! over HTTP and on Kafka ([`kafka_binding`]), WebSocket resume tokens
//! ([`resume_token`]) and bearer JWTs ([`jwt`]).
//!
//! These are the parsers that read what the internet sends. They live apart
//! from the host (no wasmtime, rdkafka, tokio or axum) so the coverage-guided
//! fuzz targets (`fuzz/`, bodies in [`fuzzing`]) build in minutes and run on
//! every CI run. The host re-exports [`event`], [`clock`] and
//! [`json_number`] under its own paths.

pub mod clock;
pub mod event;
pub mod fuzzing;
pub mod json_number;
pub mod jwt;
pub mod kafka_binding;
pub mod resume_token;
pub mod webhook_signature;
