//! Push messages to a customer's live WebSocket sessions (and to the ones
//! that resume later). Pushes commit with the event being handled.

use serde::Serialize;

use crate::HandleError;
use crate::bindings::streamplug::plugin::push as wit;
pub use crate::bindings::streamplug::plugin::push::PushError;

/// A push being built.
#[derive(Debug, Clone)]
pub struct Push {
    customer: String,
    channel: String,
    message_type: String,
    data: Vec<u8>,
}

/// Start a push of `message_type` to `customer` on `channel` (granted in the
/// manifest's `push_channels`).
pub fn to_customer(customer: &str, channel: &str, message_type: &str) -> Push {
    Push {
        customer: customer.into(),
        channel: channel.into(),
        message_type: message_type.into(),
        data: b"null".to_vec(),
    }
}

impl Push {
    /// The JSON payload the session receives as `data`.
    pub fn json<T: Serialize + ?Sized>(mut self, data: &T) -> Result<Self, HandleError> {
        self.data = serde_json::to_vec(data)?;
        Ok(self)
    }

    /// A payload already serialised as JSON (say, the data of an event
    /// just published), sent as is: one serialisation for both. The gateway
    /// refuses bytes that are not JSON (`invalid-message`).
    pub fn json_bytes(mut self, json: Vec<u8>) -> Self {
        self.data = json;
        self
    }

    /// Stage it.
    pub fn send(self) -> Result<(), PushError> {
        wit::to_customer(
            &self.customer,
            &self.channel,
            &self.message_type,
            &self.data,
        )
    }
}
