//! `streamplug:plugin/kv`: the plugin's own namespace, read through its
//! staged writes, writes staged until the batch commits, within its quota.

use std::collections::BTreeSet;

use crate::runtime::bindings::streamplug::plugin::kv::{Host, KvError};
use crate::runtime::state::StoreState;
use crate::runtime::timers::RESERVED;
use crate::storage::KvValue;
use crate::storage::entry_size;

/// Longest key, bytes.
pub const MAX_KEY: usize = 512;

/// Most keys one `get-many` reads.
pub const MAX_KEYS_A_CALL: usize = 1024;

fn check_key(key: &str) -> Result<(), KvError> {
    if key.is_empty() || key.len() > MAX_KEY {
        return Err(KvError::InvalidKey(format!(
            "keys are 1 to {MAX_KEY} bytes"
        )));
    }
    if key.starts_with(RESERVED) {
        return Err(KvError::InvalidKey(
            "keys may not start with U+10FFFF (reserved for the gateway)".into(),
        ));
    }
    Ok(())
}

impl StoreState {
    pub(super) async fn current_value(&mut self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        self.with_current(key, |v| v.map(<[u8]>::to_vec)).await
    }

    /// The current values of `keys`, in their order: staged or already read
    /// ones from the batch, the rest asked of the store in one request (and
    /// kept for the rest of the batch).
    async fn current_values(&mut self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        let mut values = Vec::with_capacity(keys.len());
        let mut missing: Vec<(usize, &str)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            match self.known(key) {
                Some(value) => values.push(value.map(<[u8]>::to_vec)),
                None => {
                    values.push(None);
                    missing.push((i, key));
                }
            }
        }
        if missing.is_empty() {
            return Ok(values);
        }
        let plugin = self.plugin.clone();
        let wanted: Vec<&str> = missing.iter().map(|(_, key)| *key).collect();
        let read = plugin
            .kv
            .get_many(&plugin.name, &wanted)
            .await
            .map_err(|e| KvError::Unavailable(e.to_string()))?;
        if read.len() != missing.len() {
            return Err(KvError::Unavailable(format!(
                "the store answered {} of {} keys",
                read.len(),
                missing.len()
            )));
        }
        for ((i, key), value) in missing.into_iter().zip(read) {
            self.effects.committed.remember(key, value.as_deref());
            values[i] = value;
        }
        Ok(values)
    }

    /// What `key`'s current value counts against the quota (0 if absent).
    async fn current_size(&mut self, key: &str) -> Result<u64, KvError> {
        self.with_current(key, |v| v.map_or(0, |v| entry_size(key, v)))
            .await
    }

    /// What the batch already knows of `key`: its staged write, else the
    /// committed value it read; `None` when the store must be asked.
    fn known(&self, key: &str) -> Option<Option<&[u8]>> {
        self.effects
            .kv_lookup(key)
            .or_else(|| self.effects.committed.value(key))
    }

    /// `look` at `key`'s current value: the batch's staged write, else the
    /// committed value this batch already read, else the store's (kept for
    /// the rest of the batch).
    async fn with_current<R>(
        &mut self,
        key: &str,
        look: impl FnOnce(Option<&[u8]>) -> R,
    ) -> Result<R, KvError> {
        if let Some(value) = self.known(key) {
            return Ok(look(value));
        }
        let plugin = self.plugin.clone();
        let value = plugin
            .kv
            .get(&plugin.name, key)
            .await
            .map_err(|e| KvError::Unavailable(e.to_string()))?;
        self.effects.committed.remember(key, value.as_deref());
        Ok(look(value.as_deref()))
    }

    /// The namespace's committed bytes, read once a batch.
    async fn committed_usage(&mut self) -> Result<u64, KvError> {
        if let Some(usage) = self.effects.committed.usage() {
            return Ok(usage);
        }
        let plugin = self.plugin.clone();
        let usage = plugin
            .kv
            .usage(&plugin.name)
            .await
            .map_err(|e| KvError::Unavailable(e.to_string()))?;
        self.effects.committed.remember_usage(usage);
        Ok(usage)
    }

    pub(super) async fn stage(
        &mut self,
        key: String,
        value: Option<KvValue>,
    ) -> Result<(), KvError> {
        if self.effects.read_only {
            return Err(KvError::Other(crate::runtime::effects::READ_ONLY.into()));
        }
        let old_size = self.current_size(&key).await? as i64;
        let new_size = value.as_ref().map_or(0, |v| entry_size(&key, &v.bytes)) as i64;
        let delta = new_size - old_size;
        if delta > 0 {
            let used = self.committed_usage().await? as i64 + self.effects.kv_bytes_delta();
            if used + delta > self.plugin.kv_quota as i64 {
                return Err(KvError::QuotaExceeded(self.plugin.kv_quota));
            }
        }
        self.effects.current.kv_bytes_delta += delta;
        self.effects.current.kv.insert(key, value);
        Ok(())
    }
}

impl Host for StoreState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, KvError> {
        check_key(&key)?;
        self.current_value(&key).await
    }

    async fn get_many(&mut self, keys: Vec<String>) -> Result<Vec<Option<Vec<u8>>>, KvError> {
        if keys.len() > MAX_KEYS_A_CALL {
            return Err(KvError::InvalidKey(format!(
                "get-many reads at most {MAX_KEYS_A_CALL} keys a call, not {}",
                keys.len()
            )));
        }
        for key in &keys {
            check_key(key)?;
        }
        self.current_values(&keys).await
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), KvError> {
        check_key(&key)?;
        self.stage(key, Some(KvValue::lasting(value))).await
    }

    async fn set_with_ttl(
        &mut self,
        key: String,
        value: Vec<u8>,
        ttl_ms: u64,
    ) -> Result<(), KvError> {
        check_key(&key)?;
        if ttl_ms == 0 {
            return Err(KvError::Other("a time to live is at least 1 ms".into()));
        }
        let now = crate::storage::millis_now();
        let value = KvValue::expiring(value, now.saturating_add(ttl_ms));
        self.stage(key, Some(value)).await
    }

    async fn delete(&mut self, key: String) -> Result<(), KvError> {
        check_key(&key)?;
        self.stage(key, None).await
    }

    async fn list_keys(&mut self, prefix: String, limit: u32) -> Result<Vec<String>, KvError> {
        if prefix.starts_with(RESERVED) {
            return Ok(Vec::new());
        }
        let limit = limit as usize;
        let overlay: Vec<String> = self
            .effects
            .accepted
            .kv
            .keys()
            .chain(self.effects.current.kv.keys())
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        let plugin = self.plugin.clone();
        let committed = plugin
            .kv
            .list_keys(&plugin.name, &prefix, limit.saturating_add(overlay.len()))
            .await
            .map_err(|e| KvError::Unavailable(e.to_string()))?;
        let keys: BTreeSet<String> = committed
            .into_iter()
            .chain(overlay)
            .filter(|k| !matches!(self.effects.kv_lookup(k), Some(None)))
            // Timer records sort after every plugin key: leaving them out
            // never shortens a page that has more of the plugin's keys.
            .filter(|k| !crate::runtime::timers::is_record_key(k))
            .collect();
        Ok(keys.into_iter().take(limit).collect())
    }
}
