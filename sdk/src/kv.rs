//! The plugin's own key-value store. Writes are staged and commit with the
//! event; reads see them at once. Values are bytes; `*_json` stores JSON,
//! `*_packed` the compact binary encoding of [`crate::packed`].

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::streamplug::plugin::kv as wit;
pub use crate::bindings::streamplug::plugin::kv::KvError;
use crate::{HandleError, packed};

/// The bytes under `key`.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, KvError> {
    wit::get(key)
}

/// The bytes under each of `keys`, in their order: one host call for the
/// several keys a handler reads an event (at most 1024), instead of one
/// each. Decode them in place with [`packed::decode`].
pub fn get_many(keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
    wit::get_many(keys)
}

/// Store bytes under `key`.
pub fn set(key: &str, value: &[u8]) -> Result<(), KvError> {
    wit::set(key, value)
}

/// Store bytes under `key` for `ttl` (at least 1 ms): after it the key
/// reads as absent and its bytes leave the quota.
pub fn set_with_ttl(key: &str, value: &[u8], ttl: Duration) -> Result<(), KvError> {
    wit::set_with_ttl(key, value, ttl_ms(ttl))
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

/// Store `value` as JSON under `key` for `ttl`.
pub fn set_json_with_ttl<T: Serialize + ?Sized>(
    key: &str,
    value: &T,
    ttl: Duration,
) -> Result<(), HandleError> {
    let bytes = serde_json::to_vec(value)?;
    Ok(wit::set_with_ttl(key, &bytes, ttl_ms(ttl))?)
}

/// The value under `key` as `T`, stored packed ([`crate::packed`]) or as
/// JSON: the cheap way to keep state a handler rewrites on every event.
pub fn get_packed<T: DeserializeOwned>(key: &str) -> Result<Option<T>, HandleError> {
    match wit::get(key)? {
        Some(bytes) => Ok(Some(packed::decode(&bytes)?)),
        None => Ok(None),
    }
}

/// Store `value` packed ([`crate::packed`]) under `key`.
pub fn set_packed<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), HandleError> {
    with_scratch(|bytes| {
        packed::encode_into(value, bytes)?;
        Ok(wit::set(key, bytes)?)
    })
}

/// A buffer kept between [`set_packed`] calls: a handler that rewrites
/// several values an event packs them without allocating and growing a new
/// buffer each time. The host copies the bytes out during the call.
fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    /// Capacity kept after a call; a rare huge value does not stay resident.
    const KEEP: usize = 64 << 10;
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut bytes) => {
            let out = f(&mut bytes);
            if bytes.capacity() > KEEP {
                *bytes = Vec::new();
            }
            out
        }
        // A value whose serialisation itself calls `set_packed`.
        Err(_) => f(&mut Vec::new()),
    })
}

/// `ttl` in whole milliseconds, rounded up so a short one is not 0.
fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX)
}
