//! The plugin's config values (from its manifest). Secrets are never here.

use std::collections::BTreeMap;
use std::str::FromStr;

/// Config values as handed to [`crate::Plugin::init`].
#[derive(Debug, Clone, Default)]
pub struct Config {
    values: BTreeMap<String, String>,
}

impl From<Vec<(String, String)>> for Config {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Self {
            values: pairs.into_iter().collect(),
        }
    }
}

impl Config {
    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// `key` parsed as `T`, or `default` when absent; a value that does not
    /// parse is an error naming the key.
    pub fn parse_or<T: FromStr>(&self, key: &str, default: T) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|e| format!("config `{key}` = `{v}`: {e}")),
        }
    }
}

/// Read one config value at any time (not only in `init`).
pub fn get(key: &str) -> Option<String> {
    crate::bindings::streamplug::plugin::config::get(key)
}
