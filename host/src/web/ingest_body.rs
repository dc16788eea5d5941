//! What an ingest takes, `POST /v1/events` and a session's event frame
//! alike: one event or a batch. These types describe the body for the
//! published documents (OpenAPI, AsyncAPI); the pipeline parses it with
//! `event::cloudevents` into events, naming each invalid field.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// What `POST /v1/events` takes: one event or a batch.
#[derive(Debug, Deserialize, ToSchema, JsonSchema)]
#[serde(untagged)]
pub enum IngestBody {
    /// One event.
    One(IncomingEvent),
    /// A batch, appended atomically on the embedded log.
    Batch(EventBatch),
}

/// A batch: at least one event.
#[derive(Debug, Deserialize, ToSchema, JsonSchema)]
pub struct EventBatch(#[schemars(length(min = 1))] pub Vec<IncomingEvent>);

/// One event as a client sends it: CloudEvents 1.0 structured JSON, or the
/// short form (`type`, `customer`, `data`). Missing `id`, `source`, `time`
/// and `specversion` are filled in; any other attribute is an extension
/// (lowercase letters and digits). `data` is checked against the type's
/// schema (`GET /v1/schemas`).
#[derive(Debug, Deserialize, ToSchema, JsonSchema)]
pub struct IncomingEvent {
    /// `1.0` when given.
    #[schema(pattern = "^1\\.0$")]
    #[schemars(regex(pattern = r"^1\.0$"))]
    pub specversion: Option<String>,
    /// Unique per `source`; retried copies with the same pair are answered,
    /// not written again.
    #[schema(min_length = 1, max_length = 256)]
    #[schemars(length(min = 1, max = 256))]
    pub id: Option<String>,
    /// A URI reference naming the sender.
    #[schema(min_length = 1, max_length = 1024)]
    #[schemars(length(min = 1, max = 1024))]
    pub source: Option<String>,
    /// The event type, e.g. `product.viewed`.
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 128)]
    #[schemars(length(min = 1, max = 128))]
    pub ty: String,
    /// The customer the event is about (CloudEvents `subject`).
    #[schema(min_length = 1, max_length = 200)]
    #[schemars(length(min = 1, max = 200))]
    pub subject: Option<String>,
    /// The same as `subject`, in the short form.
    #[schema(min_length = 1, max_length = 200)]
    #[schemars(length(min = 1, max = 200))]
    pub customer: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    #[schemars(extend("format" = "date-time"))]
    pub time: Option<String>,
    /// The type's data.
    pub data: Option<Value>,
}
