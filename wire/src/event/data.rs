//! The payload (`data`) of each event type, as Rust types: the source of
//! their JSON Schemas and of the validation at ingest ([`super::vocabulary`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A product seen or put in the cart.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProductData {
    /// Product id (SKU).
    #[schemars(length(min = 1, max = 128))]
    pub product: String,
    /// Product category, e.g. `shoes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Unit price, not negative.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub price: Option<f64>,
    /// Quantity (cart events), at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub quantity: Option<u32>,
}

/// A product removed from the cart.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CartRemovalData {
    /// Product id (SKU).
    #[schemars(length(min = 1, max = 128))]
    pub product: String,
    /// Quantity removed; all of it when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub quantity: Option<u32>,
}

/// A page of the shop seen (for live dashboards of active users).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PageData {
    /// Path of the page, e.g. `/checkout`.
    #[schemars(length(min = 1, max = 2048))]
    pub page: String,
    /// Referring page or campaign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

/// Contact details of a customer, as entered by them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CustomerData {
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 200))]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 254))]
    pub email: Option<String>,
    /// Phone number in E.164 form, e.g. `+4915112345678`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 32))]
    pub phone: Option<String>,
    /// Preferred language, e.g. `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// One line of an order.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrderItem {
    /// Product id (SKU).
    #[schemars(length(min = 1, max = 128))]
    pub product: String,
    /// Quantity, at least 1.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub quantity: u32,
    /// Unit price, not negative.
    #[schemars(range(min = 0.0))]
    pub price: f64,
}

/// An order placed by a customer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrderPlacedData {
    /// Order id.
    #[schemars(length(min = 1, max = 128))]
    pub order: String,
    /// The lines of the order; at least one.
    #[schemars(length(min = 1))]
    pub items: Vec<OrderItem>,
    /// Order total, not negative.
    #[schemars(range(min = 0.0))]
    pub total: f64,
    /// ISO 4217 currency code, e.g. `EUR`.
    #[schemars(regex(pattern = r"^[A-Z]{3}$"))]
    pub currency: String,
}

/// A change of an existing order's status.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct OrderStatusData {
    /// Order id.
    #[schemars(length(min = 1, max = 128))]
    pub order: String,
    /// Carrier (shipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// Tracking number (shipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<String>,
    /// Expected delivery date, RFC 3339 date (shipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<String>,
    /// Why (cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A message sent to a customer changed delivery status (as the CPaaS,
/// e.g. Infobip, reported it).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MessageStatusData {
    /// The provider's message id.
    #[schemars(length(min = 1, max = 256))]
    pub message: String,
    /// `sms` or `email`.
    #[schemars(length(min = 1, max = 32))]
    pub channel: String,
    /// Phone number or address it went to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Status group: `PENDING`, `UNDELIVERABLE`, `DELIVERED`, `EXPIRED`, `REJECTED`.
    #[schemars(length(min = 1, max = 64))]
    pub status: String,
    /// Detailed status, e.g. `DELIVERED_TO_HANDSET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Error name when it failed, e.g. `EC_ABSENT_SUBSCRIBER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the final status was reached, as reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_at: Option<String>,
    /// The order the message was about, if the sender said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
}

/// A shopper's chat message to support.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SupportMessageData {
    /// What the shopper wrote.
    #[schemars(length(min = 1, max = 4000))]
    pub text: String,
    /// Chat session id, to thread replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}
