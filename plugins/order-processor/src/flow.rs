//! The orchestration of one order, on the worker of its customer's key:
//! `order.placed` → reserve each line's units (re-keyed by product, see
//! [`crate::stock`]) → authorise the total at the payment provider →
//! `order.confirmed`; or, when a line is refused, the card declined or the
//! payment never completes before the expiry timer, compensation: the held
//! units released, the authorisation cancelled, `order.rejected` or
//! `order.expired` with the reason. Capture at shipment, refund when an
//! order is cancelled after its capture. Every step is pushed to the
//! customer's sessions. Each handler changes `state`; the caller stores it.

use streamplug_sdk::vocabulary::{
    OrderConfirmed, OrderExpired, OrderPlaced, OrderRejected, PaymentNotified,
    StockReleaseRequested, StockReserveRequested,
};
use streamplug_sdk::{HandleError, publish, timer};

use crate::OrderProcessor;
use crate::announce::Action;
use crate::money;
use crate::order::{Line, LineState, OrderState, Payment};
use crate::payment::Authorisation;

/// What an order's expiry timer's name starts with.
const EXPIRY: &str = "expire:";

/// The name of order `id`'s expiry timer.
pub fn expiry_timer(id: &str) -> String {
    format!("{EXPIRY}{id}")
}

/// The order whose expiry timer is named `name`, if it is one.
pub fn expiring_order(name: &str) -> Option<&str> {
    name.strip_prefix(EXPIRY)
}

impl OrderProcessor {
    /// `order.placed` of an order not seen before, with orchestration on:
    /// ask for the units, or go straight to payment when stock is not kept.
    pub(crate) fn place(
        &self,
        state: &mut OrderState,
        placed: &OrderPlaced,
    ) -> Result<(), HandleError> {
        let id = placed.order.as_str();
        state.orchestrated = true;
        state.currency.clone_from(&placed.currency);
        state.payment_method.clone_from(&placed.payment_method);
        for item in &placed.items {
            match state.line_mut(&item.product) {
                Some(line) => line.quantity += item.quantity,
                None => state.lines.push(Line {
                    product: item.product.clone(),
                    quantity: item.quantity,
                    state: if self.stock_topic.is_some() {
                        LineState::Pending
                    } else {
                        LineState::Reserved
                    },
                }),
            }
        }
        state.amount = match money::minor_units(placed.total, &placed.currency) {
            Ok(amount) => amount,
            Err(why) => return self.reject(state, id, "invalid", &why),
        };
        if self.provider.is_some() && state.payment_method.is_none() {
            return self.reject(state, id, "invalid", "the order names no payment method");
        }
        timer::schedule_json(&expiry_timer(id), self.payment_timeout_ms, &id)?;
        self.push(state, id, "placed", None)?;
        let Some(topic) = &self.stock_topic else {
            return self.pay(state, id);
        };
        for line in &state.lines {
            let request = StockReserveRequested {
                order: id.to_owned(),
                product: line.product.clone(),
                quantity: line.quantity,
            };
            publish::to(topic, StockReserveRequested::TYPE)
                .subject(&state.customer)
                .json(&request)?
                .send()?;
        }
        Ok(())
    }

    /// The stock worker's answer for one line: `reserved` or refused. A
    /// unit held for an order that has ended goes straight back.
    pub(crate) fn line_answered(
        &self,
        state: &mut OrderState,
        id: &str,
        product: &str,
        reserved: bool,
    ) -> Result<(), HandleError> {
        let Some(line) = state.line_mut(product) else {
            return Ok(());
        };
        if line.state != LineState::Pending {
            return Ok(());
        }
        line.state = if reserved {
            LineState::Reserved
        } else {
            LineState::Refused
        };
        if state.has_ended() {
            return self.release_held(state, id, "the order had already ended");
        }
        if let Some(refused) = state.lines.iter().find(|l| l.state == LineState::Refused) {
            let why = format!("{} is out of stock", refused.product);
            return self.reject(state, id, "out_of_stock", &why);
        }
        if state.all_reserved() {
            return self.pay(state, id);
        }
        Ok(())
    }

    /// Every line is held: authorise the total, then confirm, wait for the
    /// shopper or compensate.
    fn pay(&self, state: &mut OrderState, id: &str) -> Result<(), HandleError> {
        let Some(provider) = &self.provider else {
            return self.confirm(state, id);
        };
        let payment = |intent: String, status: &str| Payment {
            intent,
            status: status.to_owned(),
        };
        match provider.authorise(id, state)? {
            Authorisation::Authorised { intent } => {
                state.payment = Some(payment(intent, "authorised"));
                self.payment_changed(state, id, None, None)?;
                self.confirm(state, id)
            }
            Authorisation::ActionRequired {
                intent,
                client_secret,
                next_action_url,
            } => {
                state.payment = Some(payment(intent, "action_required"));
                self.payment_changed(state, id, None, None)?;
                let action = Action {
                    client_secret: client_secret.as_deref(),
                    url: next_action_url.as_deref(),
                };
                self.push_step(state, id, "confirm_payment", None, Some(&action))
            }
            Authorisation::Processing { intent } => {
                state.payment = Some(payment(intent, "processing"));
                self.push(state, id, "payment_processing", None)
            }
            Authorisation::Declined {
                intent,
                decline_code,
                message,
            } => {
                if let Some(intent) = intent {
                    state.payment = Some(payment(intent, "declined"));
                    self.payment_changed(state, id, decline_code.as_deref(), None)?;
                }
                let why = format!("the payment was declined: {message}");
                self.reject(state, id, "payment_declined", &why)
            }
            Authorisation::Refused { message } => {
                let why = format!("the payment could not be taken: {message}");
                self.reject(state, id, "payment_failed", &why)
            }
        }
    }

    /// The provider reported on the payment of an order still waiting for
    /// it (the shopper confirmed, failed to, or it was cancelled).
    pub(crate) fn payment_notified(
        &self,
        state: &mut OrderState,
        notified: &PaymentNotified,
    ) -> Result<(), HandleError> {
        let id = notified.order.as_str();
        let waiting = state.status == "placed"
            && state
                .payment
                .as_ref()
                .is_some_and(|p| p.intent == notified.payment_intent && p.is_open());
        if !waiting {
            return Ok(());
        }
        let set = |state: &mut OrderState, status: &str| {
            if let Some(p) = state.payment.as_mut() {
                p.status = status.to_owned();
            }
        };
        match notified.status.as_str() {
            "requires_capture" | "succeeded" => {
                set(state, "authorised");
                self.payment_changed(state, id, None, None)?;
                self.confirm(state, id)
            }
            "requires_payment_method" => {
                set(state, "declined");
                self.payment_changed(state, id, notified.decline_code.as_deref(), None)?;
                let message = notified
                    .message
                    .as_deref()
                    .unwrap_or("the card was declined");
                let why = format!("the payment was declined: {message}");
                self.reject(state, id, "payment_declined", &why)
            }
            "canceled" => {
                set(state, "cancelled");
                self.reject(state, id, "payment_failed", "the payment was cancelled")
            }
            _ => Ok(()),
        }
    }

    /// The expiry timer fired: an order still waiting for its payment ends.
    pub(crate) fn expire(&self, state: &mut OrderState, id: &str) -> Result<(), HandleError> {
        if state.status != "placed" {
            return Ok(());
        }
        let minutes = self.payment_timeout_ms.div_ceil(60_000);
        let why = format!("the payment did not complete within {minutes} minutes");
        state.advance("expired");
        state.reason = Some(why.clone());
        self.release_held(state, id, &why)?;
        self.close_payment(state, id, "abandoned")?;
        publish::to(&self.topic, OrderExpired::TYPE)
            .subject(&state.customer)
            .json(&OrderExpired {
                order: id.to_owned(),
                reason: why.clone(),
            })?
            .send()?;
        self.push(state, id, "expired", Some(&why))
    }

    /// The order shipped: take the authorised money.
    pub(crate) fn shipped(&self, state: &mut OrderState, id: &str) -> Result<(), HandleError> {
        let (Some(provider), Some(payment)) = (&self.provider, state.payment.as_mut()) else {
            return Ok(());
        };
        if payment.status != "authorised" {
            return Ok(());
        }
        provider.capture(id, &payment.intent)?;
        payment.status = "captured".into();
        self.payment_changed(state, id, None, None)?;
        self.push(state, id, "shipped", None)
    }

    /// The order was cancelled (`was_shipped`: after it left): units not
    /// shipped go back, an authorisation is cancelled, a capture refunded.
    pub(crate) fn cancelled(
        &self,
        state: &mut OrderState,
        id: &str,
        was_shipped: bool,
    ) -> Result<(), HandleError> {
        timer::cancel(&expiry_timer(id))?;
        if !was_shipped {
            self.release_held(state, id, "the order was cancelled")?;
        }
        let captured = state
            .payment
            .as_ref()
            .filter(|p| p.status == "captured")
            .map(|p| p.intent.clone());
        if let (Some(provider), Some(intent)) = (&self.provider, captured) {
            let refund = provider.refund(id, &intent)?;
            if let Some(p) = state.payment.as_mut() {
                p.status = "refunded".into();
            }
            self.payment_changed(state, id, None, Some(&refund))?;
        } else {
            self.close_payment(state, id, "requested_by_customer")?;
        }
        self.push(state, id, "cancelled", None)
    }

    fn confirm(&self, state: &mut OrderState, id: &str) -> Result<(), HandleError> {
        state.advance("confirmed");
        timer::cancel(&expiry_timer(id))?;
        let confirmed = OrderConfirmed {
            amount: state.amount,
            currency: state.currency.clone(),
            order: id.to_owned(),
            payment_intent: state.payment.as_ref().map(|p| p.intent.clone()),
        };
        publish::to(&self.topic, OrderConfirmed::TYPE)
            .subject(&state.customer)
            .json(&confirmed)?
            .send()?;
        self.push(state, id, "confirmed", None)
    }

    fn reject(
        &self,
        state: &mut OrderState,
        id: &str,
        code: &str,
        why: &str,
    ) -> Result<(), HandleError> {
        state.advance("rejected");
        state.reason = Some(why.to_owned());
        timer::cancel(&expiry_timer(id))?;
        self.release_held(state, id, why)?;
        self.close_payment(state, id, "abandoned")?;
        let rejected = OrderRejected {
            code: code.to_owned(),
            order: id.to_owned(),
            reason: why.to_owned(),
        };
        publish::to(&self.topic, OrderRejected::TYPE)
            .subject(&state.customer)
            .json(&rejected)?
            .send()?;
        self.push(state, id, "rejected", Some(why))
    }

    /// Give back every line's held units.
    fn release_held(&self, state: &mut OrderState, id: &str, why: &str) -> Result<(), HandleError> {
        let Some(topic) = &self.stock_topic else {
            return Ok(());
        };
        for line in state
            .lines
            .iter_mut()
            .filter(|l| l.state == LineState::Reserved)
        {
            let request = StockReleaseRequested {
                order: id.to_owned(),
                product: line.product.clone(),
                reason: Some(why.to_owned()),
            };
            publish::to(topic, StockReleaseRequested::TYPE)
                .subject(&state.customer)
                .json(&request)?
                .send()?;
            line.state = LineState::Released;
        }
        Ok(())
    }

    /// Cancel a payment that holds money or may still (for `reason`).
    fn close_payment(
        &self,
        state: &mut OrderState,
        id: &str,
        reason: &str,
    ) -> Result<(), HandleError> {
        let (Some(provider), Some(payment)) = (&self.provider, state.payment.as_mut()) else {
            return Ok(());
        };
        if !payment.is_open() {
            return Ok(());
        }
        provider.cancel(id, &payment.intent, reason)?;
        payment.status = "cancelled".into();
        self.payment_changed(state, id, None, None)
    }
}
