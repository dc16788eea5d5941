//! `[admin]`: the operators' API (plugin versions, deploys, rollbacks) on
//! its own listener, behind a bearer token.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Admin API settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// Address of the admin listener (keep it off the public network).
    pub listen: SocketAddr,
    /// Bearer token every admin request must carry (may be `${ENV}`);
    /// without one the admin API is off.
    pub token: Option<String>,
    /// Largest component upload, bytes.
    pub max_upload_bytes: usize,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            token: None,
            max_upload_bytes: 64 << 20,
        }
    }
}
