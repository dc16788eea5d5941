//! The plugin's configuration: the manifest's `[plugins.config]` values,
//! read into the plugin's own [`crate::Plugin::Config`] type before
//! [`crate::Plugin::init`]. Secrets are never here (the host attaches them to
//! outbound requests).
//!
//! Every value arrives as text and is parsed into the field's type: numbers,
//! `true`/`false`, `Option<T>` for a key that may be absent, `Vec<T>` from a
//! comma-separated list. Defaults are the type's own (`#[serde(default)]`
//! with a `Default` impl, or `#[serde(default = "...")]` per field), written
//! once; `#[serde(deny_unknown_fields)]` turns a misspelt key into an error
//! at load. A value that does not parse, a required key that is missing or
//! an unknown key refuses the plugin with a message naming the key.
//!
//! ```
//! use serde::Deserialize;
//!
//! #[derive(Deserialize, Debug, PartialEq)]
//! #[serde(default, deny_unknown_fields)]
//! struct Settings {
//!     top_n: usize,
//!     topic: String,
//!     push_channel: Option<String>,
//! }
//!
//! impl Default for Settings {
//!     fn default() -> Self {
//!         Self { top_n: 5, topic: "recommendations".into(), push_channel: None }
//!     }
//! }
//!
//! let settings: Settings = streamplug_sdk::config::from_values([("top_n", "7")]).unwrap();
//! assert_eq!(settings.top_n, 7);
//! assert_eq!(settings.topic, "recommendations");
//!
//! let error = streamplug_sdk::config::from_values::<Settings>([("top_n", "many")]).unwrap_err();
//! assert!(error.contains("top_n"), "{error}");
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The configuration of a plugin that reads none: any values are accepted
/// (and still readable with [`get`]).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct NoConfig {}

/// The values as they are, key by key, for a plugin that interprets them
/// itself (`type Config = Values;`).
pub type Values = BTreeMap<String, String>;

/// `values` read into `T`; the error names the key.
pub fn from_values<T: DeserializeOwned>(
    values: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
) -> Result<T, String> {
    envy::from_iter(values.into_iter().map(|(k, v)| (k.into(), v.into()))).map_err(|e| match e {
        envy::Error::MissingValue(key) => format!("config `{key}` is required"),
        envy::Error::Custom(reason) => format!("config: {reason}"),
    })
}

/// Read one config value at any time (not only in `init`).
pub fn get(key: &str) -> Option<String> {
    crate::bindings::streamplug::plugin::config::get(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Settings {
        url: String,
        #[serde(default)]
        retries: u32,
        #[serde(default)]
        types: Vec<String>,
        #[serde(default)]
        verbose: bool,
        sender: Option<String>,
    }

    #[test]
    fn values_are_parsed_into_the_fields_types() {
        let s: Settings = from_values([
            ("url", "https://example.org"),
            ("retries", "3"),
            ("types", "order.placed,cart.item_added"),
            ("verbose", "true"),
        ])
        .unwrap();
        assert_eq!(
            s,
            Settings {
                url: "https://example.org".into(),
                retries: 3,
                types: vec!["order.placed".into(), "cart.item_added".into()],
                verbose: true,
                sender: None,
            }
        );
    }

    #[test]
    fn each_error_names_the_key() {
        let missing = from_values::<Settings>([("retries", "3")]).unwrap_err();
        assert_eq!(missing, "config `url` is required");
        let bad = from_values::<Settings>([("url", "u"), ("retries", "-1")]).unwrap_err();
        assert!(bad.contains("retries") && bad.contains("-1"), "{bad}");
        let unknown = from_values::<Settings>([("url", "u"), ("retry", "3")]).unwrap_err();
        assert!(unknown.contains("`retry`"), "{unknown}");
    }

    #[test]
    fn a_plugin_without_config_takes_any_values() {
        from_values::<NoConfig>([("anything", "1")]).unwrap();
        let all: Values = from_values([("a", "1"), ("b", "2")]).unwrap();
        assert_eq!(all.len(), 2);
    }
}
