//! The payment double's state: PaymentIntents and refunds as Stripe's API
//! reference describes them (statuses, the test payment methods, errors),
//! without HTTP. Every change yields the webhook events Stripe would send.

use std::collections::BTreeMap;

use serde_json::{Value, json};

pub use super::errors::Answer;
use super::errors::{error, integer, missing, no_such_intent, unexpected_state};

/// One PaymentIntent.
#[derive(Debug, Clone)]
pub struct Intent {
    /// `pi_...`.
    pub id: String,
    /// Smallest currency unit.
    pub amount: i64,
    /// Lowercase ISO code.
    pub currency: String,
    /// Stripe's status.
    pub status: String,
    /// `manual` or `automatic`.
    pub capture_method: String,
    /// The payment method it was confirmed with.
    pub payment_method: Option<String>,
    /// `metadata[...]`.
    pub metadata: BTreeMap<String, String>,
    /// Captured so far.
    pub amount_received: i64,
    /// Refunded so far.
    pub amount_refunded: i64,
    /// Why it was cancelled.
    pub cancellation_reason: Option<String>,
    /// The last decline, as the error object.
    pub last_payment_error: Option<Value>,
    /// Where the shopper returns after authenticating (`return_url`).
    pub return_url: Option<String>,
    /// Where the shopper authenticates (the double's own page), when a
    /// `return_url` was given.
    pub authenticate_url: Option<String>,
    serial: u64,
}

impl Intent {
    /// What the shopper's page holds to act on this intent.
    pub fn client_secret(&self) -> String {
        format!(
            "{}_secret_{:016x}",
            self.id,
            self.serial.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        )
    }

    /// As the API returns it.
    pub fn object(&self) -> Value {
        let capturable = if self.status == "requires_capture" {
            self.amount
        } else {
            0
        };
        let next_action = (self.status == "requires_action").then(|| {
            match (&self.authenticate_url, &self.return_url) {
                (Some(url), Some(return_url)) => json!({"type": "redirect_to_url",
                    "redirect_to_url": {"url": url, "return_url": return_url}}),
                _ => json!({"type": "use_stripe_sdk",
                    "use_stripe_sdk": {"type": "three_d_secure_redirect", "source": format!("src_{}", self.serial)}}),
            }
        });
        json!({
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": capturable,
            "amount_received": self.amount_received,
            "currency": self.currency,
            "status": self.status,
            "capture_method": self.capture_method,
            "confirmation_method": "automatic",
            "client_secret": self.client_secret(),
            "latest_charge": self.payment_method.as_ref().map(|_| format!("ch_{:024}", self.serial)),
            "payment_method": self.payment_method,
            "last_payment_error": self.last_payment_error,
            "next_action": next_action,
            "cancellation_reason": self.cancellation_reason,
            "metadata": self.metadata,
            "livemode": false,
        })
    }
}

/// What a test card does when confirmed.
enum CardOutcome {
    Succeeds,
    Declines(&'static str, &'static str),
    NeedsAuthentication,
}

/// Stripe's test payment methods (docs.stripe.com/testing).
fn card(payment_method: &str) -> Option<CardOutcome> {
    Some(match payment_method {
        "pm_card_visa" | "pm_card_mastercard" | "pm_card_amex" => CardOutcome::Succeeds,
        "pm_card_chargeDeclined" | "pm_card_visa_chargeDeclined" => {
            CardOutcome::Declines("generic_decline", "Your card was declined.")
        }
        "pm_card_chargeDeclinedInsufficientFunds" => {
            CardOutcome::Declines("insufficient_funds", "Your card has insufficient funds.")
        }
        "pm_card_chargeDeclinedExpiredCard" => {
            CardOutcome::Declines("expired_card", "Your card has expired.")
        }
        "pm_card_threeDSecure2Required" | "pm_card_authenticationRequired" => {
            CardOutcome::NeedsAuthentication
        }
        _ => return None,
    })
}

/// The intents and refunds of one account, with the webhook events due.
#[derive(Default)]
pub struct Ledger {
    /// By id, in creation order of ids.
    pub intents: BTreeMap<String, Intent>,
    /// Refund objects.
    pub refunds: Vec<Value>,
    serial: u64,
    /// Webhook events made and not yet sent: (type, object).
    pub due: Vec<(String, Value)>,
    /// The double's own address, for its authentication pages.
    pub base_url: Option<String>,
}

impl Ledger {
    fn next(&mut self, prefix: &str) -> String {
        self.serial += 1;
        format!("{prefix}_{:024}", self.serial)
    }

    fn emit(&mut self, ty: &str, object: Value) {
        self.due.push((ty.to_owned(), object));
    }

    /// `POST /v1/payment_intents`.
    pub fn create(&mut self, params: &BTreeMap<String, String>) -> Answer {
        let amount = match integer(params, "amount") {
            Ok(Some(amount)) if amount >= 1 => amount,
            Ok(Some(_)) => {
                return error(
                    400,
                    "invalid_request_error",
                    Some("amount_too_small"),
                    Some("amount"),
                    "Amount must be at least 1.",
                );
            }
            Ok(None) => return missing("amount"),
            Err(e) => return e,
        };
        let Some(currency) = params.get("currency") else {
            return missing("currency");
        };
        if currency.len() != 3 || currency.chars().any(|c| !c.is_ascii_lowercase()) {
            return error(
                400,
                "invalid_request_error",
                Some("parameter_invalid_string"),
                Some("currency"),
                &format!("Invalid currency: {currency}."),
            );
        }
        let capture_method = params
            .get("capture_method")
            .cloned()
            .unwrap_or_else(|| "automatic".into());
        if !["automatic", "manual", "automatic_async"].contains(&capture_method.as_str()) {
            return error(
                400,
                "invalid_request_error",
                Some("parameter_invalid_string"),
                Some("capture_method"),
                "Invalid capture_method.",
            );
        }
        let payment_method = params.get("payment_method").cloned();
        if let Some(pm) = &payment_method
            && card(pm).is_none()
        {
            return error(
                400,
                "invalid_request_error",
                Some("resource_missing"),
                Some("payment_method"),
                &format!("No such PaymentMethod: '{pm}'"),
            );
        }
        let confirm = params.get("confirm").is_some_and(|v| v == "true");
        if confirm && payment_method.is_none() {
            return missing("payment_method");
        }
        let metadata = params
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix("metadata[")?.strip_suffix(']')?;
                Some((name.to_owned(), v.clone()))
            })
            .collect();
        let id = self.next("pi");
        let intent = Intent {
            id: id.clone(),
            amount,
            currency: currency.clone(),
            status: if payment_method.is_some() {
                "requires_confirmation".into()
            } else {
                "requires_payment_method".into()
            },
            capture_method,
            payment_method,
            metadata,
            amount_received: 0,
            amount_refunded: 0,
            cancellation_reason: None,
            last_payment_error: None,
            return_url: params.get("return_url").cloned(),
            authenticate_url: self
                .base_url
                .as_ref()
                .filter(|_| params.contains_key("return_url"))
                .map(|base| format!("{base}/3ds/{id}")),
            serial: self.serial,
        };
        self.intents.insert(id.clone(), intent);
        let object = self.intents[&id].object();
        self.emit("payment_intent.created", object);
        if confirm {
            return self.confirm(&id);
        }
        (200, self.intents[&id].object())
    }

    /// Confirm intent `id` with its payment method.
    fn confirm(&mut self, id: &str) -> Answer {
        let Some(intent) = self.intents.get_mut(id) else {
            return no_such_intent(id);
        };
        let outcome = intent.payment_method.as_deref().and_then(card);
        match outcome {
            Some(CardOutcome::Succeeds) => self.authorised(id),
            Some(CardOutcome::NeedsAuthentication) => {
                intent.status = "requires_action".into();
                let object = intent.object();
                self.emit("payment_intent.requires_action", object.clone());
                (200, object)
            }
            Some(CardOutcome::Declines(decline_code, message)) => {
                self.declined(id, decline_code, message)
            }
            None => missing("payment_method"),
        }
    }

    /// The card was authorised: captured at once or held for capture.
    fn authorised(&mut self, id: &str) -> Answer {
        let Some(intent) = self.intents.get_mut(id) else {
            return no_such_intent(id);
        };
        intent.last_payment_error = None;
        if intent.capture_method == "manual" {
            intent.status = "requires_capture".into();
            let object = intent.object();
            self.emit("payment_intent.amount_capturable_updated", object.clone());
            (200, object)
        } else {
            intent.status = "succeeded".into();
            intent.amount_received = intent.amount;
            let object = intent.object();
            self.emit("payment_intent.succeeded", object.clone());
            (200, object)
        }
    }

    /// The card was declined: 402 with the intent back to
    /// `requires_payment_method`.
    fn declined(&mut self, id: &str, decline_code: &str, message: &str) -> Answer {
        let Some(intent) = self.intents.get_mut(id) else {
            return no_such_intent(id);
        };
        let (_, mut body) = error(402, "card_error", Some("card_declined"), None, message);
        body["error"]["decline_code"] = json!(decline_code);
        intent.status = "requires_payment_method".into();
        intent.last_payment_error = Some(body["error"].clone());
        let object = intent.object();
        body["error"]["payment_intent"] = object.clone();
        self.emit("payment_intent.payment_failed", object);
        (402, body)
    }

    /// The shopper finished (or failed) the authentication a
    /// `requires_action` intent waits for, as Stripe.js reports it.
    pub fn authenticate(&mut self, id: &str, succeeded: bool) -> Answer {
        match self.intents.get(id) {
            None => no_such_intent(id),
            Some(intent) if intent.status != "requires_action" => {
                unexpected_state(intent.object(), "authenticated")
            }
            Some(_) if succeeded => self.authorised(id),
            Some(_) => {
                let (_, body) = self.declined(
                    id,
                    "authentication_required",
                    "The provided PaymentMethod has failed authentication.",
                );
                (200, body["error"]["payment_intent"].clone())
            }
        }
    }

    /// `GET /v1/payment_intents/{id}`.
    pub fn get(&self, id: &str) -> Answer {
        match self.intents.get(id) {
            Some(intent) => (200, intent.object()),
            None => no_such_intent(id),
        }
    }

    /// `POST /v1/payment_intents/{id}/capture`.
    pub fn capture(&mut self, id: &str, params: &BTreeMap<String, String>) -> Answer {
        let to_capture = match integer(params, "amount_to_capture") {
            Ok(v) => v,
            Err(e) => return e,
        };
        let Some(intent) = self.intents.get_mut(id) else {
            return no_such_intent(id);
        };
        if intent.status != "requires_capture" {
            return unexpected_state(intent.object(), "captured");
        }
        let amount = to_capture.unwrap_or(intent.amount);
        if amount < 1 || amount > intent.amount {
            return error(
                400,
                "invalid_request_error",
                Some("amount_too_large"),
                Some("amount_to_capture"),
                "The amount to capture must be positive and at most the amount capturable.",
            );
        }
        intent.status = "succeeded".into();
        intent.amount_received = amount;
        let object = intent.object();
        self.emit("payment_intent.succeeded", object.clone());
        (200, object)
    }

    /// `POST /v1/payment_intents/{id}/cancel`.
    pub fn cancel(&mut self, id: &str, params: &BTreeMap<String, String>) -> Answer {
        let reason = params.get("cancellation_reason").cloned();
        if let Some(r) = &reason
            && ![
                "duplicate",
                "fraudulent",
                "requested_by_customer",
                "abandoned",
            ]
            .contains(&r.as_str())
        {
            return error(
                400,
                "invalid_request_error",
                Some("parameter_invalid_string"),
                Some("cancellation_reason"),
                &format!("Invalid cancellation_reason: {r}"),
            );
        }
        let Some(intent) = self.intents.get_mut(id) else {
            return no_such_intent(id);
        };
        let cancellable = [
            "requires_payment_method",
            "requires_capture",
            "requires_confirmation",
            "requires_action",
            "processing",
        ];
        if !cancellable.contains(&intent.status.as_str()) {
            return unexpected_state(intent.object(), "canceled");
        }
        intent.status = "canceled".into();
        intent.cancellation_reason = reason;
        let object = intent.object();
        self.emit("payment_intent.canceled", object.clone());
        (200, object)
    }

    /// `POST /v1/refunds` with `payment_intent`.
    pub fn refund(&mut self, params: &BTreeMap<String, String>) -> Answer {
        let Some(id) = params.get("payment_intent").cloned() else {
            return missing("payment_intent");
        };
        let amount = match integer(params, "amount") {
            Ok(v) => v,
            Err(e) => return e,
        };
        let refund_id = self.next("re");
        let Some(intent) = self.intents.get_mut(&id) else {
            return no_such_intent(&id);
        };
        if intent.status != "succeeded" {
            return error(
                400,
                "invalid_request_error",
                Some("charge_not_refundable"),
                Some("payment_intent"),
                &format!("PaymentIntent {id} has no successful charge to refund."),
            );
        }
        let left = intent.amount_received - intent.amount_refunded;
        let amount = amount.unwrap_or(left);
        if amount < 1 || amount > left {
            return error(
                400,
                "invalid_request_error",
                Some("charge_already_refunded"),
                Some("amount"),
                "The refund amount is more than what is left to refund.",
            );
        }
        intent.amount_refunded += amount;
        let charge = json!({
            "id": intent.object()["latest_charge"], "object": "charge",
            "payment_intent": id, "amount": intent.amount_received,
            "amount_refunded": intent.amount_refunded, "refunded": intent.amount_refunded == intent.amount_received,
            "metadata": intent.metadata,
        });
        let refund = json!({
            "id": refund_id, "object": "refund", "amount": amount, "currency": intent.currency,
            "payment_intent": id, "charge": charge["id"], "status": "succeeded",
            "metadata": params.iter().filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?.to_owned(), v.clone()))).collect::<BTreeMap<_, _>>(),
        });
        self.refunds.push(refund.clone());
        self.emit("charge.refunded", charge);
        (200, refund)
    }
}
