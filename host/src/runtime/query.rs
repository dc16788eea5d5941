//! Answering a query (`streamplug:plugin/query`) on a warm instance of a
//! plugin version: read-only (every write fails, every outbound request is
//! denied, whatever was staged is dropped), within the plugin's CPU and
//! wall-time limits, on the same instances as its events.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt as _;

use super::effects::Effects;
use super::log_book::LineOf;
use super::outbound::CallMode;
use super::plugin::{PluginVersion, describe_trap};
pub use super::query_bindings::QueryError;

/// Why a query got no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryFailure {
    /// The plugin's component answers no queries (the plain `plugin` world).
    #[error("the plugin answers no queries")]
    NoQueries,
    /// The plugin answered with an error.
    #[error("{0:?}")]
    Refused(QueryError),
    /// The call trapped, ran out of time or had no instance.
    #[error("{0}")]
    Failed(String),
}

impl PluginVersion {
    /// Whether its component exports `query`.
    pub fn answers_queries(&self) -> bool {
        self.query_indices.is_some()
    }

    /// Ask query `name` about `key` with `args`; the plugin's JSON answer.
    pub async fn query(
        &self,
        name: &str,
        key: &str,
        args: &[(String, String)],
    ) -> Result<Vec<u8>, QueryFailure> {
        if !self.answers_queries() {
            return Err(QueryFailure::NoQueries);
        }
        let mut lease = self
            .lease()
            .await
            .map_err(|reason| QueryFailure::Failed(format!("cannot instantiate: {reason}")))?;
        let limits = &self.manifest.limits;
        let instance = &mut lease.instance;
        let Some(guest) = instance.query.as_ref() else {
            return Err(QueryFailure::NoQueries);
        };
        let store = &mut instance.store;
        let read_only = Effects {
            read_only: true,
            ..Effects::default()
        };
        self.begin_call(store, read_only, CallMode::Query);
        let call = guest.call_query(&mut *store, name, key, args);
        let timed = tokio::time::timeout(Duration::from_millis(limits.timeout_ms), call);
        let result = AssertUnwindSafe(timed).catch_unwind().await;
        // Nothing a query staged is kept.
        store.data_mut().effects = Effects::default();
        let _ = store.data().outbound.take_calls();
        let answer = match result {
            Ok(Ok(Ok(Ok(bytes)))) => Ok(bytes),
            Ok(Ok(Ok(Err(e)))) => Err(QueryFailure::Refused(e)),
            Ok(Ok(Err(trap))) => {
                let place = format!("`query` of plugin `{}` ({})", self.manifest.name, self.id);
                let text = describe_trap(&trap, &store.data().stderr.text(), &place);
                // For the plugin's authors: its log book keeps the trap.
                let of = LineOf {
                    plugin: &self.manifest.name,
                    version: &self.id,
                    event: &format!("query:{name}"),
                    source: "host",
                };
                self.context
                    .logs
                    .record(of, "error", &format!("query `{name}` trapped {text}"));
                // A trapped instance is not reused.
                return Err(QueryFailure::Failed(format!("trapped {text}")));
            }
            Ok(Err(_)) => {
                return Err(QueryFailure::Failed(format!(
                    "timed out after {} ms",
                    limits.timeout_ms
                )));
            }
            Err(_) => {
                return Err(QueryFailure::Failed(
                    "the host failed (panicked) while running the plugin".into(),
                ));
            }
        };
        self.pool.give_back(lease);
        answer
    }
}
