//! What the admin API answers beyond deployments (those are
//! [`crate::web::deployment_view`]): a stored version, a page of log lines;
//! one type for the server that writes it and the CLI that reads it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::registry::Deployment;
use crate::runtime::log_book::LogLine;
use crate::versions::StoredVersion;

/// One stored version, and its role in the plugin's deployment.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VersionView {
    /// The version id.
    pub id: String,
    /// The component's digest, `sha256:<hex>`.
    pub digest: String,
    /// When it was first stored (RFC 3339).
    pub uploaded_at: String,
    /// The component's size, bytes.
    pub size: u64,
    /// Where it came from: `config`, `upload` or `watch`.
    pub source: String,
    /// It is the live version.
    pub live: bool,
    /// It is the canary.
    pub canary: bool,
    /// It is the version a rollback goes back to.
    pub previous: bool,
    /// Its manifest's `config` values.
    pub config: BTreeMap<String, String>,
}

/// Which versions are live, the canary and the previous one.
#[derive(Debug, Default)]
pub struct Roles {
    live: Option<String>,
    canary: Option<String>,
    previous: Option<String>,
}

impl Roles {
    /// The roles in `d`.
    pub fn of(d: &Deployment) -> Self {
        Self {
            live: Some(d.live.id.clone()),
            canary: d.canary.as_ref().map(|c| c.version.id.clone()),
            previous: d.previous.as_ref().map(|p| p.id.clone()),
        }
    }
}

impl VersionView {
    /// `v` with its roles.
    pub fn of(v: &StoredVersion, roles: &Roles) -> Self {
        let is = |role: &Option<String>| role.as_deref() == Some(v.id.as_str());
        Self {
            id: v.id.clone(),
            digest: format!("sha256:{}", v.digest),
            uploaded_at: v.uploaded_at.clone(),
            size: v.size,
            source: v.source.clone(),
            live: is(&roles.live),
            canary: is(&roles.canary),
            previous: is(&roles.previous),
            config: v.manifest.config.clone(),
        }
    }

    /// Its role, for a table: `live`, `canary`, `previous` or `-`.
    pub fn role(&self) -> &'static str {
        if self.live {
            "live"
        } else if self.canary {
            "canary"
        } else if self.previous {
            "previous"
        } else {
            "-"
        }
    }
}

/// A page of a plugin's log lines, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LogPage {
    /// The plugin.
    pub plugin: String,
    /// The lines.
    pub lines: Vec<LogLine>,
    /// The `seq` to ask after next.
    pub next: u64,
}
