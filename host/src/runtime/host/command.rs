//! `streamplug:plugin/command`: a command processor refuses the command it
//! is handling. The refusal is staged with the event's effects; the
//! dispatcher turns it into the command's outcome.

use crate::runtime::bindings::streamplug::plugin::command::{CommandError, Host, Refusal};
use crate::runtime::effects::{self, RefusalKind};
use crate::runtime::state::StoreState;

/// Longest refusal reason, bytes.
pub const MAX_REASON: usize = 1024;

impl Host for StoreState {
    async fn refuse(&mut self, refusal: Refusal, reason: String) -> Result<(), CommandError> {
        let ty = &self.effects.trigger.ty;
        if !self.plugin.commands.contains(ty) {
            return Err(CommandError::NotACommand(ty.clone()));
        }
        if reason.trim().is_empty() || reason.len() > MAX_REASON {
            return Err(CommandError::InvalidReason(format!(
                "a reason is 1 to {MAX_REASON} bytes, not {}",
                reason.len()
            )));
        }
        let kind = match refusal {
            Refusal::Conflict => RefusalKind::Conflict,
            Refusal::Invalid => RefusalKind::Invalid,
        };
        self.effects.current.refusal = Some(effects::Refusal { kind, reason });
        Ok(())
    }
}
