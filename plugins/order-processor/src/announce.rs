//! What the order flow tells others besides its outcome events: an
//! `order.payment` event at each payment step (for the customer's view and
//! the CRM), and a push of each step to the customer's sessions.

use serde::Serialize;
use streamplug_sdk::vocabulary::OrderPayment;
use streamplug_sdk::{HandleError, publish, push};

use crate::OrderProcessor;
use crate::order::{OrderState, Payment};

/// What the customer's sessions get at each step (type `order.status`).
#[derive(Debug, Serialize)]
struct StatusPush<'a> {
    order: &'a str,
    status: &'a str,
    step: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment: Option<&'a Payment>,
    /// For `confirm_payment`: what the page confirms the payment with.
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    /// For `confirm_payment`: where the shopper authenticates, when the
    /// provider redirects.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_action_url: Option<&'a str>,
}

/// What the shopper must do to confirm a payment.
#[derive(Debug, Clone, Copy)]
pub struct Action<'a> {
    /// The provider's client secret of the payment.
    pub client_secret: Option<&'a str>,
    /// The provider's page to authenticate on.
    pub url: Option<&'a str>,
}

impl OrderProcessor {
    /// Publish `order.payment` for the payment's new status.
    pub(crate) fn payment_changed(
        &self,
        state: &OrderState,
        id: &str,
        decline_code: Option<&str>,
        refund: Option<&str>,
    ) -> Result<(), HandleError> {
        let Some(payment) = &state.payment else {
            return Ok(());
        };
        let changed = OrderPayment {
            amount: state.amount,
            currency: state.currency.clone(),
            decline_code: decline_code.map(str::to_owned),
            order: id.to_owned(),
            payment_intent: payment.intent.clone(),
            refund: refund.map(str::to_owned),
            status: payment.status.clone(),
        };
        publish::to(&self.topic, OrderPayment::TYPE)
            .subject(&state.customer)
            .json(&changed)?
            .send()?;
        Ok(())
    }

    /// Push `step` of order `id` to its customer's sessions.
    pub(crate) fn push(
        &self,
        state: &OrderState,
        id: &str,
        step: &str,
        reason: Option<&str>,
    ) -> Result<(), HandleError> {
        self.push_step(state, id, step, reason, None)
    }

    /// [`Self::push`], with what the shopper must do to confirm.
    pub(crate) fn push_step(
        &self,
        state: &OrderState,
        id: &str,
        step: &str,
        reason: Option<&str>,
        action: Option<&Action<'_>>,
    ) -> Result<(), HandleError> {
        let Some(channel) = &self.push_channel else {
            return Ok(());
        };
        let message = StatusPush {
            order: id,
            status: &state.status,
            step,
            reason,
            payment: state.payment.as_ref(),
            client_secret: action.and_then(|a| a.client_secret),
            next_action_url: action.and_then(|a| a.url),
        };
        push::to_customer(&state.customer, channel, "order.status")
            .json(&message)?
            .send()?;
        Ok(())
    }
}
