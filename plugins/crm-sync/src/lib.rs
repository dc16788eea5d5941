//! crm-sync: keeps Salesforce current with what customers do in the shop,
//! and confirms their orders through Infobip.
//!
//! - `customer.updated` upserts the Contact by external id (the customer id).
//! - `order.*` upserts the Order by external id (the order id), billed to
//!   the Contact, with its lifecycle in `Shop_Status__c`; `order.placed`
//!   also sends a confirmation SMS (and an email when the customer has an
//!   address and a sender is configured) whose delivery report comes back
//!   to the gateway's Infobip webhook as a `message.status` event. Each
//!   message is a journal step with its idempotency key as Infobip's
//!   `messageId`: one SMS and one email per order, whatever fails between.
//! - Notable interactions ([`interactions::DEFAULT_NOTABLE`]) become
//!   completed Tasks on the Contact, upserted by the event id so a
//!   redelivered event never writes a second one.
//!
//! Each event is one composite call (Contact and Order or Task together,
//! all or none). Limits, outages and expired sessions are retried;
//! validation errors dead-letter the event with Salesforce's reason.
//!
//! Config: `salesforce_url` and `account_id` (required), `api_version`
//! (`v64.0`), `contact_external_id` and `order_external_id`
//! (`External_Id__c`), `task_external_id` (`Streamplug_Event_Id__c`),
//! `notable` (comma-separated types); `infobip_url` (no confirmations
//! without it), `sms_sender` (`Shop`), `email_from`, `delivery_report_url`.

pub mod address;
pub mod infobip;
pub mod interactions;
pub mod orders;

use std::sync::OnceLock;

use salesforce_client::{Composite, Profile, Salesforce};
use serde_json::Value;
use streamplug_sdk::{Config, Event, HandleError, Plugin, journal, kv};

use infobip::{About, Infobip};
use orders::OrderRecord;

struct Settings {
    org: Salesforce,
    account_id: String,
    contact_field: String,
    order_field: String,
    task_field: String,
    notable: Vec<String>,
    infobip: Option<Infobip>,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// The plugin.
pub struct CrmSync;

/// The event's day (`YYYY-MM-DD`), from its time.
fn day(event: &Event) -> String {
    event.time().unwrap_or_default().chars().take(10).collect()
}

impl Settings {
    /// A composite request that starts by upserting `customer`'s Contact
    /// (reference `contact`).
    fn with_contact(&self, customer: &str, profile: &Profile) -> Composite {
        self.org.composite().upsert(
            "contact",
            "Contact",
            &self.contact_field,
            customer,
            profile.contact_fields(customer),
        )
    }

    fn sync_order(
        &self,
        event: &Event,
        customer: &str,
        profile: &Profile,
    ) -> Result<(), HandleError> {
        let data: Value = event.json()?;
        let Some(id) = data["order"].as_str().map(str::to_owned) else {
            return Err(HandleError::reject("an order event without an order id"));
        };
        let key = format!("order:{id}");
        let mut order: OrderRecord = kv::get_json(&key)?.unwrap_or_default();
        let day = day(event);
        order.apply(event.ty(), &data, &day);
        let request = self.with_contact(customer, profile).upsert(
            "order",
            "Order",
            &self.order_field,
            &id,
            order.fields(&self.account_id, "contact", &day),
        );
        self.org.send(request)?;
        if event.ty() == "order.placed" {
            self.confirm(customer, profile, &id, &order)?;
        }
        kv::set_json(&key, &order)
    }

    /// Send the order confirmation once (KV `confirmed:<order>` once it is
    /// committed; each message a journal step before that, so a retry
    /// resends only what did not go out, with the same message id).
    fn confirm(
        &self,
        customer: &str,
        profile: &Profile,
        order_id: &str,
        order: &OrderRecord,
    ) -> Result<(), HandleError> {
        let Some(infobip) = &self.infobip else {
            return Ok(());
        };
        let key = format!("confirmed:{order_id}");
        if kv::get(&key)?.is_some() {
            return Ok(());
        }
        let about = About {
            customer,
            order: order_id,
        };
        let greeting = profile
            .name
            .as_deref()
            .map_or(String::new(), |n| format!(" {n}"));
        let summary = order.summary.as_deref().unwrap_or_default();
        let phone = profile.phone.as_deref().and_then(|p| {
            let valid = address::e164(p);
            if valid.is_none() {
                streamplug_sdk::warn!(
                    "order {order_id}: {customer}'s phone is not an E.164 number; no SMS"
                );
            }
            valid
        });
        let email = profile.email.as_deref().filter(|e| {
            let valid = address::is_email(e);
            if !valid {
                streamplug_sdk::warn!(
                    "order {order_id}: {customer}'s email is not one plain address; no email"
                );
            }
            valid
        });
        if let Some(phone) = &phone {
            let text = format!(
                "Thank you{greeting}! Your order {order_id} is confirmed. {}",
                summary.replace('\n', ", ")
            );
            // A step of its own: an email failing (or a crash) after the
            // SMS went out retries the event without sending it again.
            let id: String = journal::run(&format!("sms:{order_id}"), |key| {
                infobip.send_sms(phone, &text, about, key)
            })?;
            streamplug_sdk::info!("order {order_id} confirmed to {customer} by SMS {id}");
        }
        if let Some(email) = email {
            let text = format!(
                "Hello{greeting},\n\nwe have received your order {order_id}:\n\n{summary}\n"
            );
            let subject = format!("Your order {order_id}");
            let sent: Option<String> = journal::run(&format!("email:{order_id}"), |key| {
                infobip.send_email(email, &subject, &text, about, key)
            })?;
            if let Some(id) = sent {
                streamplug_sdk::info!("order {order_id} confirmed to {customer} by email {id}");
            }
        }
        kv::set(&key, b"1")?;
        Ok(())
    }

    fn sync_interaction(
        &self,
        event: &Event,
        customer: &str,
        profile: &Profile,
    ) -> Result<(), HandleError> {
        let data: Value = event.json().unwrap_or(Value::Null);
        let request = self.with_contact(customer, profile).upsert(
            "task",
            "Task",
            &self.task_field,
            event.id(),
            interactions::task_fields(event.ty(), &data, &day(event), "contact"),
        );
        self.org.send(request).map(drop)
    }
}

fn required(config: &Config, key: &str, what: &str) -> Result<String, String> {
    config
        .get(key)
        .filter(|v| !v.is_empty())
        .map(|v| v.trim_end_matches('/').to_owned())
        .ok_or_else(|| format!("{key} ({what}) is required"))
}

impl Plugin for CrmSync {
    fn init(config: Config) -> Result<(), String> {
        let base = required(&config, "salesforce_url", "the org's instance URL")?;
        let text = |key: &str, default: &str| config.get(key).unwrap_or(default).to_owned();
        let infobip = config.get("infobip_url").map(|url| Infobip {
            base: url.trim_end_matches('/').to_owned(),
            sms_sender: text("sms_sender", "Shop"),
            email_from: config.get("email_from").map(str::to_owned),
            report_url: config.get("delivery_report_url").map(str::to_owned),
        });
        let _ = SETTINGS.set(Settings {
            org: Salesforce {
                base,
                version: text("api_version", "v64.0"),
            },
            account_id: required(
                &config,
                "account_id",
                "the Account web-shop orders belong to",
            )?,
            contact_field: text("contact_external_id", "External_Id__c"),
            order_field: text("order_external_id", "External_Id__c"),
            task_field: text("task_external_id", "Streamplug_Event_Id__c"),
            notable: text("notable", interactions::DEFAULT_NOTABLE)
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            infobip,
        });
        Ok(())
    }

    fn handle(event: Event) -> Result<(), HandleError> {
        let Some(customer) = event.subject().map(str::to_owned) else {
            return Ok(());
        };
        let settings = SETTINGS
            .get()
            .ok_or_else(|| HandleError::retry("not initialised"))?;
        let profile_key = format!("profile:{customer}");
        let mut profile: Profile = kv::get_json(&profile_key)?.unwrap_or_default();
        match event.ty() {
            "customer.updated" => {
                profile.merge(event.json()?);
                settings
                    .org
                    .send(settings.with_contact(&customer, &profile))?;
                kv::set_json(&profile_key, &profile)
            }
            t if t.starts_with("order.") => settings.sync_order(&event, &customer, &profile),
            t if settings.notable.iter().any(|n| n == t) => {
                settings.sync_interaction(&event, &customer, &profile)
            }
            _ => Ok(()),
        }
    }
}

streamplug_sdk::export_plugin!(CrmSync);
