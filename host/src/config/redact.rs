//! `streamplug config` shows the settings in force without their secrets:
//! a secret given as an `${ENV}` reference is shown as that reference (it
//! names where the secret lives, not the secret); any other is replaced.

use super::Settings;

/// What a redacted secret reads as.
pub const REDACTED: &str = "[redacted]";

/// Keep `${NAME}` references, hide anything else.
fn hide(value: &mut String) {
    let reference =
        value.starts_with("${") && value.ends_with('}') && value.matches("${").count() == 1;
    if !reference {
        *value = REDACTED.to_owned();
    }
}

/// Whether a Kafka client option holds a secret (librdkafka's names).
fn is_secret_option(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "password",
        "secret",
        "key.pem",
        "certificate.pem",
        "oauthbearer.config",
    ]
    .iter()
    .any(|part| name.contains(part))
}

/// Hide the password of a URL's userinfo (`redis://user:pass@host`).
fn hide_url_password(url: &mut String) {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        *url = format!("{scheme}://{user}:{REDACTED}@{host}");
    }
}

impl Settings {
    /// These settings with every secret hidden.
    pub fn redacted(&self) -> Self {
        use super::CredentialSettings;
        let mut s = self.clone();
        if let Some(v) = &mut s.auth.jwt_secret {
            hide(v);
        }
        for key in &mut s.auth.api_keys {
            if let Some(v) = &mut key.key {
                hide(v);
            }
        }
        if let Some(v) = &mut s.admin.token {
            hide(v);
        }
        for endpoint in s.webhooks.endpoints.values_mut() {
            hide(&mut endpoint.secret);
        }
        for credential in s.credentials.values_mut() {
            match credential {
                CredentialSettings::Oauth2ClientCredentials { client_secret, .. } => {
                    hide(client_secret);
                }
                CredentialSettings::Header { value, .. } => hide(value),
            }
        }
        if let Some(kafka) = &mut s.log.kafka {
            for (name, value) in &mut kafka.options {
                if is_secret_option(name) {
                    hide(value);
                }
            }
        }
        if let Some(redis) = &mut s.kv.redis {
            hide_url_password(&mut redis.url);
        }
        for plugin in &mut s.plugins {
            for (name, value) in &mut plugin.config {
                let lower = name.to_ascii_lowercase();
                if ["secret", "password", "token", "api_key", "apikey"]
                    .iter()
                    .any(|p| lower.contains(p))
                {
                    hide(value);
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hidden_and_env_references_kept() {
        let s = Settings::from_toml(
            r#"
[auth]
jwt_secret = "plain-jwt-secret-value"
[[auth.api_keys]]
name = "shop"
key = "${SHOP_KEY}"
scopes = ["ingest:order.*"]
[admin]
token = "admin-plain-token"
[webhooks.endpoints.infobip]
verify = "url-token"
secret = "hook-plain"
[credentials.sf]
kind = "oauth2_client_credentials"
token_url = "https://login.example/token"
client_id = "id"
client_secret = "sf-plain-secret"
[log]
backend = "kafka"
[log.kafka]
bootstrap_servers = "127.0.0.1:9092"
options = { "sasl.password" = "kafka-plain", "client.id" = "gw" }
[kv]
backend = "redis"
[kv.redis]
url = "redis://user:redis-plain@127.0.0.1:6379"
"#,
        )
        .unwrap();
        let text = toml::to_string(&s.redacted()).unwrap();
        for secret in [
            "plain-jwt-secret-value",
            "admin-plain-token",
            "hook-plain",
            "sf-plain-secret",
            "kafka-plain",
            "redis-plain",
        ] {
            assert!(!text.contains(secret), "{secret} shown:\n{text}");
        }
        assert!(
            text.contains("${SHOP_KEY}") && text.contains("\"gw\""),
            "{text}"
        );
        assert!(text.contains(REDACTED));
    }
}
