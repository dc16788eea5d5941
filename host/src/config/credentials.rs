//! `[credentials.NAME]`: what the host attaches to a plugin's outbound
//! calls (the runtime's `outbound::credentials` fetches and caches them).

use serde::{Deserialize, Serialize};

/// `[credentials.NAME]` in the gateway config. Values may be `${ENV}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CredentialSettings {
    /// OAuth 2.0 client credentials (e.g. Salesforce): the host fetches a
    /// token from `token_url`, caches it, fetches a new one when it expires
    /// or the API answers 401, and sends `Authorization: Bearer <token>`.
    Oauth2ClientCredentials {
        /// Token endpoint, e.g. `https://MyDomain.my.salesforce.com/services/oauth2/token`.
        token_url: String,
        /// Client id.
        client_id: String,
        /// Client secret.
        client_secret: String,
        /// Scope to ask for, if the server wants one.
        #[serde(default)]
        scope: Option<String>,
    },
    /// A fixed header, e.g. Infobip's `Authorization: App <api key>`.
    Header {
        /// Header name.
        name: String,
        /// Header value.
        value: String,
    },
}
