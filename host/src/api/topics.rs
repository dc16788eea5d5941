//! The read API on the log: `GET /v1/topics` and
//! `GET /v1/topics/{topic}/events?partition=&offset=&limit=`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::event::cloudevents::StructuredEvent;
use crate::storage::StorageError;
use crate::web::AppState;
use crate::web::caller::{Caller, forbidden};
use crate::web::extract::{PathParams, QueryParams};
use crate::web::problem::Problem;

/// Most events one read returns.
pub const MAX_READ: usize = 1000;

/// Query of a read.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// One partition; every partition when absent.
    pub partition: Option<u32>,
    /// First offset to return (in each partition read); offsets are
    /// Kafka's, 0 to 2^63-1.
    #[serde(default)]
    #[param(minimum = 0)]
    pub offset: i64,
    /// Most events to return (per partition read), 1 to 1000; 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// One event with its position.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PositionedEvent {
    /// Partition.
    pub partition: u32,
    /// Offset.
    pub offset: u64,
    /// The event in CloudEvents structured JSON.
    pub event: StructuredEvent,
}

/// Answer of a read.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReadResult {
    /// Topic read.
    pub topic: String,
    /// The events, by partition then offset.
    pub events: Vec<PositionedEvent>,
}

/// One topic in the listing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TopicInfo {
    /// Name.
    pub name: String,
    /// Partition count.
    pub partitions: u32,
    /// Oldest offset each partition still holds (the log's retention
    /// deletes older ones; a read from before it starts there).
    pub start_offsets: Vec<u64>,
    /// Next offset of each partition.
    pub end_offsets: Vec<u64>,
}

fn storage_problem(e: StorageError) -> Problem {
    match e {
        StorageError::UnknownTopic(_) | StorageError::UnknownPartition { .. } => {
            Problem::not_found(e.to_string())
        }
        other => Problem::unavailable(other.to_string()),
    }
}

/// Read a topic's events from an offset.
///
/// For a key or staff with `read:<topic>` (customers read their own pushes
/// over `/v1/ws`, never a topic).
#[utoipa::path(
    get,
    path = "/v1/topics/{topic}/events",
    tag = "read",
    params(("topic" = String, Path, description = "The topic"), ReadQuery),
    responses(
        (status = 200, description = "Events from `offset`, per partition", body = ReadResult),
        (status = 400, description = "A bad query", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 403, description = "No `read:` scope for this topic", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such topic or partition", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log cannot be read now", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn read_events(
    State(state): State<AppState>,
    Caller(principal): Caller,
    PathParams(topic): PathParams<String>,
    query: Result<QueryParams<ReadQuery>, Problem>,
) -> Response {
    if !principal.may_read(&topic) {
        return forbidden(format!(
            "reading `{topic}` needs the `read:{topic}` scope, which {} does not hold",
            principal.label()
        ))
        .into_response();
    }
    let result = async {
        let QueryParams(query) = query?;
        let offset = u64::try_from(query.offset)
            .map_err(|_| Problem::bad_request("offset must be 0 or more"))?;
        let limit = query.limit.unwrap_or(100);
        if limit == 0 || limit > MAX_READ {
            return Err(Problem::bad_request(format!(
                "limit must be 1 to {MAX_READ}"
            )));
        }
        let partitions = state
            .log
            .partitions(&topic)
            .ok_or_else(|| Problem::not_found(format!("unknown topic `{topic}`")))?;
        let selected: Vec<u32> = match query.partition {
            Some(p) => vec![p],
            None => (0..partitions).collect(),
        };
        let mut events = Vec::new();
        for p in selected {
            let read = state
                .log
                .read(&topic, p, offset, limit)
                .await
                .map_err(storage_problem)?;
            events.extend(read.into_iter().map(|s| PositionedEvent {
                partition: s.partition,
                offset: s.offset,
                event: StructuredEvent::from(&s.event),
            }));
        }
        Ok(ReadResult {
            topic: topic.clone(),
            events,
        })
    }
    .await;
    match result {
        Ok(r) => axum::Json(r).into_response(),
        Err(p) => p.into_response(),
    }
}

/// The topics the caller may read, with their offsets.
#[utoipa::path(
    get,
    path = "/v1/topics",
    tag = "read",
    responses(
        (status = 200, description = "The topics the caller may read, with their offsets", body = Vec<TopicInfo>),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 403, description = "No `read:` scope", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The log cannot be read now", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list_topics(State(state): State<AppState>, Caller(principal): Caller) -> Response {
    if !principal
        .scopes()
        .is_some_and(crate::auth::Scopes::reads_any)
    {
        return forbidden(format!(
            "listing topics needs a `read:` scope, which {} does not hold",
            principal.label()
        ))
        .into_response();
    }
    let mut topics = Vec::new();
    for name in state.topics.iter().filter(|t| principal.may_read(t)) {
        let partitions = state.log.partitions(name).unwrap_or(0);
        let (mut start_offsets, mut end_offsets) = (Vec::new(), Vec::new());
        for p in 0..partitions {
            match state.log.offset_range(name, p).await {
                Ok((start, end)) => {
                    start_offsets.push(start);
                    end_offsets.push(end);
                }
                Err(e) => return storage_problem(e).into_response(),
            }
        }
        topics.push(TopicInfo {
            name: name.clone(),
            partitions,
            start_offsets,
            end_offsets,
        });
    }
    axum::Json(topics).into_response()
}
