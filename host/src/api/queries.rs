//! `GET /v1/plugins/{plugin}/queries/{name}/{key}`: ask a plugin's read-only
//! query handler ([`crate::runtime::query`]) about one key. A customer asks
//! about itself; a key or staff member with `query:<plugin>` (or
//! `query:*`) about any key. The version asked is the one events of that
//! key go to (a canary's share included). The answer is the plugin's JSON.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::runtime::query::{QueryError, QueryFailure};
use crate::web::AppState;
use crate::web::caller::{Caller, forbidden};
use crate::web::extract::PathParams;
use crate::web::problem::Problem;

/// Most query parameters passed on.
const MAX_ARGS: usize = 32;

/// Ask a plugin's query about one key.
///
/// For the customer the key names (its own view, its own orders), or a key
/// or staff member with `query:<plugin>` or `query:*`. The query parameters
/// are passed to the plugin as they are.
#[utoipa::path(
    get,
    path = "/v1/plugins/{plugin}/queries/{name}/{key}",
    tag = "read",
    params(
        ("plugin" = String, Path, description = "The plugin asked"),
        ("name" = String, Path, description = "Its query"),
        ("key" = String, Path, description = "What it is asked about: a customer id, a SKU"),
    ),
    responses(
        (status = 200, description = "The plugin's answer (JSON; its shape is the plugin's)", body = serde_json::Value),
        (status = 400, description = "Arguments the query does not accept", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = inline(crate::web::problem::Unauthorized)),
        (status = 403, description = "Another customer's key, or no `query:` scope for this plugin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plugin or query, or nothing known of the key", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "The plugin failed answering (trapped, timed out, answered no JSON)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The plugin's state cannot be read now", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn ask(
    State(state): State<AppState>,
    Caller(principal): Caller,
    PathParams((plugin, name, key)): PathParams<(String, String, String)>,
    args: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if !principal.may_query(&plugin, &key) {
        return forbidden(format!(
            "asking `{plugin}` about `{key}` needs to be that customer or hold the `query:{plugin}` scope, which {} does not",
            principal.label()
        ))
        .into_response();
    }
    let Ok(Query(args)) = args else {
        return Problem::bad_request("the query string is not form-encoded pairs").into_response();
    };
    if args.len() > MAX_ARGS {
        return Problem::bad_request(format!("at most {MAX_ARGS} query parameters"))
            .into_response();
    }
    let Some(version) = state.registry.route(&plugin, &key) else {
        return Problem::not_found(format!("no plugin `{plugin}` is deployed")).into_response();
    };
    match version.query(&name, &key, &args).await {
        Ok(bytes) if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        Ok(_) => failed(&plugin, "its answer is not JSON").into_response(),
        Err(e) => problem(&plugin, &name, e).into_response(),
    }
}

fn failed(plugin: &str, why: &str) -> Problem {
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "query-failed",
        "Query failed",
        format!("plugin `{plugin}` failed answering: {why}"),
    )
}

fn problem(plugin: &str, name: &str, e: QueryFailure) -> Problem {
    match e {
        QueryFailure::NoQueries => {
            Problem::not_found(format!("plugin `{plugin}` answers no queries"))
        }
        QueryFailure::Refused(QueryError::UnknownQuery(_)) => {
            Problem::not_found(format!("plugin `{plugin}` has no query `{name}`"))
        }
        QueryFailure::Refused(QueryError::NotFound(what)) => Problem::not_found(what),
        QueryFailure::Refused(QueryError::InvalidArguments(why)) => Problem::bad_request(why),
        QueryFailure::Refused(QueryError::Unavailable(why)) => Problem::unavailable(why),
        QueryFailure::Failed(why) => {
            tracing::warn!(plugin, query = name, reason = %why, "query failed");
            // The trap's text is for the plugin's authors (its log book),
            // not for the caller.
            failed(plugin, "it trapped or ran out of time")
        }
    }
}
