//! Read-only queries about the plugin's state, answered over HTTP
//! (`GET /v1/plugins/{plugin}/queries/{name}/{key}`): implement
//! [`Plugin::query`](crate::Plugin::query). A query reads [`kv`](crate::kv)
//! as committed; it cannot write, publish, push or schedule (those calls
//! fail). The gateway has already checked the caller may ask about `key`
//! (the customer itself, or a key or staff member with the `query:` scope).
//!
//! ```no_run
//! use streamplug_sdk::{kv, query::{self, Query, QueryError}};
//!
//! fn answer(q: &Query) -> Result<Vec<u8>, QueryError> {
//!     match q.name.as_str() {
//!         "view" => {
//!             let view: Option<serde_json::Value> = kv::get_json(&format!("view:{}", q.key))
//!                 .map_err(|e| QueryError::Unavailable(format!("{e:?}")))?;
//!             query::json(&view.ok_or_else(|| QueryError::NotFound(q.key.clone()))?)
//!         }
//!         other => Err(QueryError::UnknownQuery(other.to_owned())),
//!     }
//! }
//! ```

use serde::Serialize;

pub use crate::bindings::exports::streamplug::plugin::query::QueryError;

/// One query: its name, the key it is about, the request's parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The query's name (the path's `{name}`).
    pub name: String,
    /// What it is about (the path's `{key}`): a customer id, a SKU.
    pub key: String,
    /// The request's query parameters, in order.
    pub args: Vec<(String, String)>,
}

impl Query {
    /// The first value of parameter `name`.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `value` as the query's JSON answer.
pub fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, QueryError> {
    serde_json::to_vec(value).map_err(|e| QueryError::Unavailable(format!("answer: {e}")))
}
