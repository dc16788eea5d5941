//! The plugin's own key-value store. Writes are staged and commit with the
//! event; reads see them at once.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::HandleError;
use crate::bindings::streamplug::plugin::kv as wit;
pub use crate::bindings::streamplug::plugin::kv::KvError;

/// The bytes under `key`.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, KvError> {
    wit::get(key)
}

/// Store bytes under `key`.
pub fn set(key: &str, value: &[u8]) -> Result<(), KvError> {
    wit::set(key, value)
}

/// Remove `key`.
pub fn delete(key: &str) -> Result<(), KvError> {
    wit::delete(key)
}

/// Keys starting with `prefix`, in order, at most `limit`.
pub fn list_keys(prefix: &str, limit: u32) -> Result<Vec<String>, KvError> {
    wit::list_keys(prefix, limit)
}

/// The JSON value under `key` as `T`.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, HandleError> {
    match wit::get(key)? {
        Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
        None => Ok(None),
    }
}

/// Store `value` as JSON under `key`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), HandleError> {
    let bytes = serde_json::to_vec(value)?;
    Ok(wit::set(key, &bytes)?)
}
