//! `streamplug:plugin/timer`: timers for the key of the event being
//! handled, staged as records in the plugin's namespace
//! ([`crate::runtime::timers`]) and counted against `limits.max_timers`.

use crate::runtime::bindings::streamplug::plugin::kv::KvError;
use crate::runtime::bindings::streamplug::plugin::timer::{Host, TimerError};
use crate::runtime::state::StoreState;
use crate::runtime::timers::{self, MAX_NAME, MAX_PAYLOAD, TimerRecord};
use crate::storage::KvValue;

fn check_name(name: &str) -> Result<(), TimerError> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(TimerError::InvalidName(format!(
            "timer names are 1 to {MAX_NAME} bytes"
        )));
    }
    Ok(())
}

fn from_kv(e: KvError) -> TimerError {
    match e {
        KvError::Unavailable(reason) => TimerError::Unavailable(reason),
        // The record is under the plugin's KV quota like its other state.
        KvError::QuotaExceeded(quota) => {
            TimerError::Unavailable(format!("the plugin's KV quota of {quota} bytes is full"))
        }
        KvError::InvalidKey(reason) | KvError::Other(reason) => TimerError::Unavailable(reason),
    }
}

impl StoreState {
    /// The record key of timer `name` for the event being handled.
    fn timer_key(&self, name: &str) -> String {
        let trigger = &self.effects.trigger;
        timers::record_key(trigger.partition, trigger.key.as_deref(), name)
    }

    /// Timer records staged as new in this batch (other than `except`).
    fn staged_timers(&self, except: &str) -> u64 {
        let staged = self
            .effects
            .accepted
            .kv
            .iter()
            .chain(&self.effects.current.kv);
        let keys: std::collections::BTreeSet<&String> = staged
            .filter(|(k, v)| timers::is_record_key(k) && v.is_some() && k.as_str() != except)
            .map(|(k, _)| k)
            .collect();
        keys.len() as u64
    }
}

impl Host for StoreState {
    async fn schedule(
        &mut self,
        name: String,
        after_ms: u64,
        payload: Vec<u8>,
    ) -> Result<(), TimerError> {
        check_name(&name)?;
        if self.effects.read_only {
            return Err(TimerError::Unavailable(
                crate::runtime::effects::READ_ONLY.into(),
            ));
        }
        if payload.len() > MAX_PAYLOAD as usize {
            return Err(TimerError::TooLarge(MAX_PAYLOAD));
        }
        let key = self.timer_key(&name);
        let exists = self.current_value(&key).await.map_err(from_kv)?.is_some();
        if !exists {
            // Counted on this instance: every partition on one machine; on
            // Kafka, the partitions this instance owns.
            let pending = self.plugin.timers.pending() + self.staged_timers(&key);
            if pending >= u64::from(self.plugin.max_timers) {
                return Err(TimerError::TooMany(self.plugin.max_timers));
            }
        }
        let trigger = &self.effects.trigger;
        let record = TimerRecord {
            name,
            key: trigger.key.clone(),
            due_ms: crate::clock::millis_now().saturating_add(after_ms),
            payload,
            subject: trigger.subject.clone(),
            topic: trigger.topic.clone(),
            partition: trigger.partition,
            offset: trigger.offset,
            cause: trigger.id.clone(),
            traceparent: trigger.traceparent.clone(),
        };
        self.stage(key, Some(KvValue::lasting(record.encode())))
            .await
            .map_err(from_kv)
    }

    async fn cancel(&mut self, name: String) -> Result<bool, TimerError> {
        check_name(&name)?;
        if self.effects.read_only {
            return Err(TimerError::Unavailable(
                crate::runtime::effects::READ_ONLY.into(),
            ));
        }
        let key = self.timer_key(&name);
        let pending = self.current_value(&key).await.map_err(from_kv)?.is_some();
        if pending {
            self.stage(key, None).await.map_err(from_kv)?;
        }
        Ok(pending)
    }
}
