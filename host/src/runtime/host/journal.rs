//! `streamplug:plugin/journal`: results of a handled event's outbound steps,
//! recorded durably as they complete, so that a retried or redelivered
//! event replays them instead of calling again. Entries live in the KV
//! store under the namespace `<plugin>/journal` (plugin names have no `/`,
//! so no plugin can read or fill it), keyed by a digest of the event's
//! `source` and `id` and the step; they are written at once, not staged,
//! because the point is to survive the attempt that made the call. They
//! expire after the plugin's `limits.journal_retention_secs` (7 days).

use crate::runtime::bindings::streamplug::plugin::journal::{Host, JournalError};
use crate::runtime::effects::uuid_v8;
use crate::runtime::state::StoreState;
use crate::storage::{ConsumerCommit, KvValue};

/// Longest step name, bytes.
pub const MAX_STEP: usize = 256;
/// Largest recorded result, bytes.
pub const MAX_RESULT: u32 = 64 * 1024;

/// The KV namespace of `plugin`'s journal.
pub fn namespace(plugin: &str) -> String {
    format!("{plugin}/journal")
}

fn check_step(step: &str) -> Result<(), JournalError> {
    if step.is_empty() || step.len() > MAX_STEP {
        return Err(JournalError::InvalidStep(format!(
            "step names are 1 to {MAX_STEP} bytes"
        )));
    }
    Ok(())
}

impl StoreState {
    /// The digest naming `step` of the event being handled by this plugin.
    fn step_digest(&self, step: &str) -> [u8; 32] {
        self.effects.trigger.digest(&self.plugin.name, &[step], &[])
    }
}

impl Host for StoreState {
    async fn idempotency_key(&mut self, step: String) -> Result<String, JournalError> {
        check_step(&step)?;
        Ok(uuid_v8(&self.step_digest(&step)))
    }

    async fn recorded(&mut self, step: String) -> Result<Option<Vec<u8>>, JournalError> {
        check_step(&step)?;
        if let Some(result) = self.effects.current.journal.get(&step) {
            return Ok(Some(result.clone()));
        }
        let key = hex::encode(self.step_digest(&step));
        let plugin = self.plugin.clone();
        let stored = plugin
            .kv
            .get(&namespace(&plugin.name), &key)
            .await
            .map_err(|e| JournalError::Unavailable(e.to_string()))?;
        // Each entry starts with the time it was recorded (ms, 8 bytes LE).
        Ok(stored.map(|entry| entry.get(8..).unwrap_or_default().to_vec()))
    }

    async fn record(&mut self, step: String, result: Vec<u8>) -> Result<(), JournalError> {
        check_step(&step)?;
        if self.effects.read_only {
            return Err(JournalError::Unavailable(
                crate::runtime::effects::READ_ONLY.into(),
            ));
        }
        if result.len() > MAX_RESULT as usize {
            return Err(JournalError::TooLarge(MAX_RESULT));
        }
        if self.outbound.is_live() {
            let at = crate::storage::millis_now();
            let mut entry = at.to_le_bytes().to_vec();
            entry.extend_from_slice(&result);
            let key = hex::encode(self.step_digest(&step));
            let write = ConsumerCommit {
                kv_namespace: namespace(&self.plugin.name),
                kv_writes: vec![(
                    key,
                    Some(KvValue::expiring(
                        entry,
                        at.saturating_add(self.plugin.journal_retention_ms),
                    )),
                )],
                ..ConsumerCommit::default()
            };
            self.plugin
                .kv
                .apply(&write)
                .await
                .map_err(|e| JournalError::Unavailable(e.to_string()))?;
            metrics::counter!(RECORDED, "plugin" => self.plugin.name.clone()).increment(1);
        }
        self.effects.current.journal.insert(step, result);
        Ok(())
    }
}

/// Counter of journal steps recorded, by plugin.
pub const RECORDED: &str = "streamplug_journal_steps_recorded_total";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_uuids_that_differ_by_every_part() {
        let a = uuid_v8(&[7; 32]);
        assert_eq!(uuid::Uuid::parse_str(&a).unwrap().get_version_num(), 8);
        assert_ne!(uuid_v8(&[7; 32]), uuid_v8(&[8; 32]));
    }
}
