//! The payment provider, in the shape of Stripe's PaymentIntents API:
//! form-encoded requests to `<payments_url>/v1/...` with the host
//! attaching `Authorization: Bearer <secret key>` (the manifest's
//! `credentials`), JSON answers. Every call is a journal step of the event
//! being handled: its `Idempotency-Key` is the step's key, so a retried or
//! redelivered event (after a crash, say) gets the provider's first answer
//! instead of a second authorisation, capture or refund.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use streamplug_sdk::http::{self, Response};
use streamplug_sdk::{HandleError, journal};

use crate::order::OrderState;

/// What asking the provider to authorise an order's total came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Authorisation {
    /// The amount is held on the card until captured.
    Authorised {
        /// The PaymentIntent.
        intent: String,
    },
    /// The shopper must confirm (3-D Secure); the provider's webhook tells
    /// how it ended.
    ActionRequired {
        /// The PaymentIntent.
        intent: String,
        /// What the shopper's page confirms it with (Stripe.js's
        /// `handleNextAction`).
        client_secret: Option<String>,
        /// Where the shopper authenticates, when the provider redirects
        /// (`next_action.redirect_to_url`, given a `return_url`).
        #[serde(default)]
        next_action_url: Option<String>,
    },
    /// Under way; the provider's webhook tells how it ended.
    Processing {
        /// The PaymentIntent.
        intent: String,
    },
    /// The card was declined.
    Declined {
        /// The PaymentIntent, left waiting for another payment method.
        intent: Option<String>,
        /// The issuer's reason, e.g. `insufficient_funds`.
        decline_code: Option<String>,
        /// The provider's explanation, fit for the shopper.
        message: String,
    },
    /// The provider refused the request itself (an unknown payment method,
    /// an amount it does not take).
    Refused {
        /// The provider's explanation.
        message: String,
    },
}

/// A PaymentIntents account at `base`.
#[derive(Debug, Clone)]
pub struct Provider {
    base: String,
    return_url: Option<String>,
}

fn error_field<'a>(body: &'a Value, field: &str) -> Option<&'a str> {
    body["error"][field].as_str()
}

/// The provider's own words for a failed call.
fn explanation(response: &Response) -> String {
    let body: Value = response.json().unwrap_or(Value::Null);
    error_field(&body, "message").map_or_else(|| response.text(), str::to_owned)
}

impl Provider {
    /// The provider at `base` (`https://api.stripe.com`); a shopper who
    /// must authenticate comes back to `return_url` (the shop's page).
    pub fn new(base: &str, return_url: Option<String>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            return_url,
        }
    }

    fn post(&self, path: &str, key: &str, form: &[(&str, &str)]) -> Result<Response, HandleError> {
        Ok(http::post(&format!("{}{path}", self.base))
            .header("idempotency-key", key)
            .form(form)
            .send()?)
    }

    /// Authorise `order`'s total (manual capture, confirmed at once with
    /// its payment method); once per event.
    pub fn authorise(&self, id: &str, order: &OrderState) -> Result<Authorisation, HandleError> {
        journal::run(&format!("authorise:{id}"), |key| {
            let amount = order.amount.to_string();
            let currency = order.currency.to_ascii_lowercase();
            let method = order.payment_method.as_deref().unwrap_or_default();
            let description = format!("Order {id}");
            let mut form = vec![
                ("amount", amount.as_str()),
                ("currency", &currency),
                ("payment_method", method),
                ("confirm", "true"),
                ("capture_method", "manual"),
                ("description", &description),
                ("metadata[order]", id),
                ("metadata[customer]", &order.customer),
            ];
            if let Some(url) = &self.return_url {
                form.push(("return_url", url));
            }
            let response = self.post("/v1/payment_intents", key, &form)?;
            authorisation(response)
        })
    }

    /// Capture what `intent` holds; once per event.
    pub fn capture(&self, id: &str, intent: &str) -> Result<i64, HandleError> {
        journal::run(&format!("capture:{id}"), |key| {
            let path = format!("/v1/payment_intents/{intent}/capture");
            let response = self.post(&path, key, &[])?;
            let body: Value = checked(response, "capture the payment")?.json()?;
            Ok(body["amount_received"].as_i64().unwrap_or_default())
        })
    }

    /// Cancel `intent` (whatever it holds goes back to the card) for
    /// `reason` (`abandoned`, `requested_by_customer`); one already
    /// cancelled counts as done. Once per event.
    pub fn cancel(&self, id: &str, intent: &str, reason: &str) -> Result<(), HandleError> {
        journal::run(&format!("cancel:{id}"), |key| {
            let path = format!("/v1/payment_intents/{intent}/cancel");
            let response = self.post(&path, key, &[("cancellation_reason", reason)])?;
            if response.status == 400 {
                let body: Value = response.json().unwrap_or(Value::Null);
                if body["error"]["payment_intent"]["status"] == "canceled" {
                    return Ok(());
                }
            }
            checked(response, "cancel the payment")?;
            Ok(())
        })
    }

    /// Refund what was captured of `intent`; the refund's id. Once per event.
    pub fn refund(&self, id: &str, intent: &str) -> Result<String, HandleError> {
        journal::run(&format!("refund:{id}"), |key| {
            let response = self.post(
                "/v1/refunds",
                key,
                &[("payment_intent", intent), ("metadata[order]", id)],
            )?;
            let body: Value = checked(response, "refund the payment")?.json()?;
            Ok(body["id"].as_str().unwrap_or_default().to_owned())
        })
    }
}

/// A 2xx answer, or the event's disposition: 429 and 5xx retry; a reused
/// idempotency key with other parameters is a bug that no retry mends.
fn checked(response: Response, what: &str) -> Result<Response, HandleError> {
    if response.is_success() {
        return Ok(response);
    }
    let reason = format!(
        "{what}: status {}: {}",
        response.status,
        explanation(&response)
    );
    Err(if http::status_retries(response.status) {
        HandleError::Retry(reason)
    } else {
        HandleError::Reject(reason)
    })
}

/// Read the answer to creating and confirming a PaymentIntent.
fn authorisation(response: Response) -> Result<Authorisation, HandleError> {
    let body: Value = response.json().unwrap_or(Value::Null);
    let declined = |body: &Value, error: &Value| Authorisation::Declined {
        intent: body["id"].as_str().map(str::to_owned),
        decline_code: error["decline_code"]
            .as_str()
            .or_else(|| error["code"].as_str())
            .map(str::to_owned),
        message: error["message"]
            .as_str()
            .unwrap_or("the card was declined")
            .to_owned(),
    };
    match response.status {
        200 => {
            let intent = body["id"].as_str().unwrap_or_default().to_owned();
            Ok(match body["status"].as_str().unwrap_or_default() {
                "requires_capture" | "succeeded" => Authorisation::Authorised { intent },
                "requires_action" => Authorisation::ActionRequired {
                    intent,
                    client_secret: body["client_secret"].as_str().map(str::to_owned),
                    next_action_url: body["next_action"]["redirect_to_url"]["url"]
                        .as_str()
                        .map(str::to_owned),
                },
                "processing" => Authorisation::Processing { intent },
                "requires_payment_method" => declined(&body, &body["last_payment_error"]),
                other => Authorisation::Refused {
                    message: format!("the payment ended as {other}"),
                },
            })
        }
        402 => Ok(declined(&body["error"]["payment_intent"], &body["error"])),
        400 | 404 if error_field(&body, "type") == Some("invalid_request_error") => {
            Ok(Authorisation::Refused {
                message: explanation(&response),
            })
        }
        _ => Err(checked(response, "authorise the payment")
            .err()
            .unwrap_or_else(|| HandleError::Reject("authorise the payment".into()))),
    }
}
