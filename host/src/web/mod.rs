//! What the public HTTP API ([`crate::api`]), the WebSocket gateway
//! ([`crate::ws`]) and the admin API ([`crate::admin`]) share: the handlers'
//! state, problem bodies, the authenticated caller, the serving of OpenAPI
//! documents, the admission of events
//! and its rate limits, the ingest pipeline, and the reading of what a
//! handler left of a body. Each router builds on these; none imports
//! another.

pub mod admission;
pub mod caller;
pub mod deployment_view;
pub mod extract;
pub mod ingest;
pub mod ingest_body;
pub mod openapi_document;
pub mod problem;
pub mod rate_limit;
pub mod replies;
mod state;
pub mod unread_body;

pub use state::{AppState, Limits, SharedState};
