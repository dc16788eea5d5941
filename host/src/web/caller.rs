//! The authenticated caller of a request, as an extractor: a handler that
//! takes a [`Caller`] is never reached anonymously. Refusals are 401 problem
//! bodies with `WWW-Authenticate: Bearer`, counted by reason.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use super::problem::Problem;
use crate::auth::{self, AuthError, Principal, Scope};

/// Counter of refused credentials and grants, by reason.
pub const REFUSED: &str = "streamplug_auth_refused_total";

/// The principal a request authenticated as.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

/// The 401 for `error`, counted.
pub fn unauthorized(error: &AuthError) -> Problem {
    let reason = match error {
        AuthError::Missing => "missing",
        AuthError::Disabled => "disabled",
        AuthError::Expired => "expired",
        AuthError::UnknownKey => "unknown_key",
        AuthError::Invalid(_) => "invalid",
    };
    metrics::counter!(REFUSED, "reason" => reason).increment(1);
    Problem::unauthorized(error.to_string())
}

/// The 403 for a caller without a grant, counted.
pub fn forbidden(detail: impl Into<String>) -> Problem {
    metrics::counter!(REFUSED, "reason" => "forbidden").increment(1);
    Problem::forbidden(detail)
}

impl Caller {
    /// Pass if the caller holds `scope`, else a 403 naming it.
    pub fn require(&self, scope: &Scope, what: &str) -> Result<(), Problem> {
        if self.0.has(scope) {
            Ok(())
        } else {
            Err(forbidden(format!(
                "{what} needs the `{}` scope, which {} does not hold",
                scope_name(scope),
                self.0.label()
            )))
        }
    }
}

/// A scope as written in the configuration.
pub fn scope_name(scope: &Scope) -> String {
    match scope {
        Scope::Ingest(p) => format!("ingest:{p}"),
        Scope::Read(t) => format!("read:{t}"),
        Scope::Query(p) => format!("query:{p}"),
        Scope::Reply => "reply".into(),
        Scope::Metrics => "metrics".into(),
        Scope::Plugins => "plugins".into(),
        Scope::Operator => "operator".into(),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let credential =
            auth::bearer(&parts.headers).ok_or_else(|| unauthorized(&AuthError::Missing))?;
        state
            .auth
            .principal(credential)
            .await
            .map(Caller)
            .map_err(|e| unauthorized(&e))
    }
}
