//! The handler's error: a delivery disposition.

use crate::bindings::exports::streamplug::plugin::handler::HandleError as WitHandleError;
use crate::bindings::streamplug::plugin::command::CommandError;
use crate::bindings::streamplug::plugin::journal::JournalError;
use crate::bindings::streamplug::plugin::kv::KvError;
use crate::bindings::streamplug::plugin::producer::PublishError;
use crate::bindings::streamplug::plugin::push::PushError;
use crate::bindings::streamplug::plugin::timer::TimerError;

/// What the gateway should do with an event the plugin did not handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandleError {
    /// A transient failure: deliver it again later (with backoff, up to the
    /// manifest's `max_attempts`, then dead-letter it).
    Retry(String),
    /// It can never be handled: dead-letter it now.
    Reject(String),
}

impl HandleError {
    /// A retry with a reason.
    pub fn retry(reason: impl std::fmt::Display) -> Self {
        Self::Retry(reason.to_string())
    }

    /// A rejection with a reason.
    pub fn reject(reason: impl std::fmt::Display) -> Self {
        Self::Reject(reason.to_string())
    }
}

impl std::fmt::Display for HandleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Retry(r) => write!(f, "retry: {r}"),
            Self::Reject(r) => write!(f, "reject: {r}"),
        }
    }
}

impl std::error::Error for HandleError {}

impl From<HandleError> for WitHandleError {
    fn from(e: HandleError) -> Self {
        match e {
            HandleError::Retry(r) => Self::Retry(r),
            HandleError::Reject(r) => Self::Reject(r),
        }
    }
}

/// Malformed event data can never be handled.
impl From<serde_json::Error> for HandleError {
    fn from(e: serde_json::Error) -> Self {
        Self::Reject(format!("invalid JSON: {e}"))
    }
}

impl From<crate::packed::PackError> for HandleError {
    fn from(e: crate::packed::PackError) -> Self {
        Self::Reject(e.to_string())
    }
}

/// An unreachable store is transient; a full quota or a bad key is not.
impl From<KvError> for HandleError {
    fn from(e: KvError) -> Self {
        match e {
            KvError::Unavailable(r) => Self::Retry(format!("kv unavailable: {r}")),
            KvError::Other(r) => Self::Retry(format!("kv: {r}")),
            KvError::QuotaExceeded(q) => Self::Reject(format!("kv quota of {q} bytes exceeded")),
            KvError::InvalidKey(r) => Self::Reject(format!("invalid kv key: {r}")),
        }
    }
}

/// An unreachable journal is transient; a bad step name or an oversized
/// result is not.
impl From<JournalError> for HandleError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::Unavailable(r) => Self::Retry(format!("journal unavailable: {r}")),
            JournalError::InvalidStep(r) => Self::Reject(format!("invalid journal step: {r}")),
            JournalError::TooLarge(n) => {
                Self::Reject(format!("a journal result is larger than {n} bytes"))
            }
        }
    }
}

/// A denied or malformed publish will fail again; anything else may not.
impl From<PublishError> for HandleError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::TopicNotGranted(t) => {
                Self::Reject(format!("publishing to `{t}` is not granted"))
            }
            PublishError::InvalidEvent(r) => Self::Reject(format!("invalid event: {r}")),
            PublishError::TooManyPublishes(n) => {
                Self::Reject(format!("more than {n} publishes for one event"))
            }
            PublishError::Other(r) => Self::Retry(format!("publish: {r}")),
        }
    }
}

/// A denied or malformed push will fail again; anything else may not.
impl From<PushError> for HandleError {
    fn from(e: PushError) -> Self {
        match e {
            PushError::ChannelNotGranted(c) => {
                Self::Reject(format!("pushing on channel `{c}` is not granted"))
            }
            PushError::InvalidMessage(r) => Self::Reject(format!("invalid push: {r}")),
            PushError::TooManyPushes(n) => {
                Self::Reject(format!("more than {n} pushes for one event"))
            }
            PushError::Other(r) => Self::Retry(format!("push: {r}")),
        }
    }
}

/// A refusal outside a command or without a reason fails the same way
/// every time.
impl From<CommandError> for HandleError {
    fn from(e: CommandError) -> Self {
        match e {
            CommandError::NotACommand(ty) => Self::Reject(format!(
                "refused `{ty}`, which is not a command this plugin processes"
            )),
            CommandError::InvalidReason(r) => Self::Reject(format!("refusal: {r}")),
        }
    }
}

/// Too many pending timers clears as timers fire; a bad name or payload
/// fails the same way every time.
impl From<TimerError> for HandleError {
    fn from(e: TimerError) -> Self {
        match e {
            TimerError::TooMany(limit) => {
                Self::Retry(format!("timer: {limit} timers pending, the plugin's limit"))
            }
            TimerError::Unavailable(r) => Self::Retry(format!("timer: {r}")),
            TimerError::InvalidName(r) => Self::Reject(format!("timer: {r}")),
            TimerError::TooLarge(limit) => {
                Self::Reject(format!("timer: payload over {limit} bytes"))
            }
        }
    }
}
