//! `streamplug config --check`: what `serve` checks before it connects,
//! without starting anything. Loading the settings has validated the file,
//! the backends' environment and the plugins' components; this resolves
//! the rest a start checks before it connects, with the same code: `[auth]`
//! (keys, token secret, JWKS settings, roles), the admin token, the webhook endpoints' secrets,
//! credentials, every `${ENV}` they name; the event types' schemas against
//! those recorded in the data directory; then summarises.

use crate::auth::Authenticator;
use crate::config::{ConfigError, Settings, expand_env};

/// Check `settings`; a one-line summary of what a start would run.
pub fn check(settings: &Settings) -> Result<String, ConfigError> {
    Authenticator::check(&settings.auth)?;
    if let Some(token) = &settings.admin.token {
        expand_env("admin.token", token)?;
    }
    settings.credentials_resolved()?;
    settings.webhooks.endpoints()?;
    crate::config::schema_history::check(&settings.storage.data_dir, &settings.event_types)?;
    let plugins: Vec<&str> = settings.plugins.iter().map(|p| p.name.as_str()).collect();
    let admin = match settings.admin.token {
        Some(_) => settings.admin.listen.to_string(),
        None => "off".into(),
    };
    Ok(format!(
        "configuration OK: listens on {}, log {}, kv {}, {} API key(s), admin API {admin}, plugins: {}\n",
        settings.server.listen,
        format!("{:?}", settings.log.backend).to_lowercase(),
        format!("{:?}", settings.kv.backend).to_lowercase(),
        settings.auth.api_keys.len(),
        if plugins.is_empty() {
            "none".into()
        } else {
            plugins.join(", ")
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_to_an_unset_variable_is_named() {
        let settings = Settings::from_toml(
            "[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"${STREAMPLUG_SURELY_UNSET_ADMIN}\"",
        )
        .unwrap();
        let err = check(&settings).unwrap_err().to_string();
        assert!(
            err.contains("admin.token") && err.contains("STREAMPLUG_SURELY_UNSET_ADMIN"),
            "{err}"
        );
        let short = Settings::from_toml("[auth]\njwt_secret = \"too-short\"").unwrap();
        let err = check(&short).unwrap_err().to_string();
        assert!(err.contains("auth.jwt_secret"), "{err}");
        let fine = Settings::from_toml("[server]\nlisten = \"127.0.0.1:0\"").unwrap();
        assert!(check(&fine).unwrap().starts_with("configuration OK"));
    }
}
