//! crm-sync: keeps Salesforce current with what customers do in the shop,
//! and confirms their orders through Infobip.
//!
//! - `customer.updated` upserts the Contact by external id (the customer id).
//! - `customer.registered` (a `customer.register` command the registry
//!   accepted) upserts the Contact too, and sends the customer a welcome
//!   email (when a sender is configured): one journal step, so once per
//!   customer whatever fails between ([`welcome`]).
//! - `order.*` upserts the Order by external id (the order id), billed to
//!   the Contact, with its lifecycle in `Shop_Status__c`; `order.placed`
//!   also sends a confirmation SMS (and an email when the customer has an
//!   address and a sender is configured) whose delivery report comes back
//!   through the gateway's generic webhook (`webhook.received` from the
//!   endpoint `delivery_report_webhook`) and is published as a
//!   `message.status` event about the customer ([`delivery_reports`]). Each
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
//! Config ([`Settings`]; any other key refuses the plugin):
//! `salesforce_url` and `account_id` (required), `api_version`
//! (`v64.0`), `contact_external_id` and `order_external_id`
//! (`External_Id__c`), `task_external_id` (`Streamplug_Event_Id__c`),
//! `notable` (comma-separated types); `infobip_url` (no confirmations
//! without it), `sms_sender` (`Shop`), `email_from`, `delivery_report_url`
//! (the gateway's `/v1/webhooks/<name>?token=…` URL Infobip posts reports
//! to), `delivery_report_webhook` (that `<name>`, `infobip`) and
//! `status_topic` (where `message.status` goes, `engagement-events`; the
//! manifest must grant it in `publish`).

pub mod address;
pub mod delivery_reports;
pub mod infobip;
pub mod interactions;
pub mod orders;
pub mod welcome;

use salesforce_client::{Composite, Profile, Salesforce};
use serde::Deserialize;
use serde_json::Value;
use streamplug_sdk::{Event, HandleError, Plugin, journal, kv, publish};

use infobip::{About, Infobip};
use orders::OrderRecord;

/// The plugin's `[plugins.config]`, with its defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The org's instance URL (required).
    pub salesforce_url: String,
    /// The Account web-shop orders belong to (required).
    pub account_id: String,
    /// REST API version.
    #[serde(default = "salesforce_client::default_api_version")]
    pub api_version: String,
    /// The external-id field on Contact that holds the customer id.
    #[serde(default = "salesforce_client::default_external_id")]
    pub contact_external_id: String,
    /// The external-id field on Order that holds the order id.
    #[serde(default = "salesforce_client::default_external_id")]
    pub order_external_id: String,
    /// The external-id field on Task that holds the event id.
    #[serde(default = "default_task_external_id")]
    pub task_external_id: String,
    /// The event types recorded as Tasks, comma-separated.
    #[serde(default = "default_notable")]
    pub notable: Vec<String>,
    /// Infobip's base URL; no order confirmations without it.
    pub infobip_url: Option<String>,
    /// The SMS sender id.
    #[serde(default = "default_sms_sender")]
    pub sms_sender: String,
    /// Email `from` (`Name <address>`); no email without it.
    pub email_from: Option<String>,
    /// Where Infobip sends delivery reports; none without it.
    pub delivery_report_url: Option<String>,
    /// The gateway's webhook endpoint those reports arrive through.
    #[serde(default = "default_report_webhook")]
    pub delivery_report_webhook: String,
    /// The topic `message.status` events are published to.
    #[serde(default = "default_status_topic")]
    pub status_topic: String,
}

fn default_report_webhook() -> String {
    "infobip".into()
}

fn default_status_topic() -> String {
    "engagement-events".into()
}

fn default_task_external_id() -> String {
    "Streamplug_Event_Id__c".into()
}

fn default_notable() -> Vec<String> {
    interactions::DEFAULT_NOTABLE.map(str::to_owned).to_vec()
}

fn default_sms_sender() -> String {
    "Shop".into()
}

/// The plugin: the org and its fields, what it records, how it confirms.
#[derive(Debug)]
pub struct CrmSync {
    org: Salesforce,
    account_id: String,
    contact_field: String,
    order_field: String,
    task_field: String,
    notable: Vec<String>,
    infobip: Option<Infobip>,
    report_webhook: String,
    status_topic: String,
}

/// The event's day (`YYYY-MM-DD`), from its time.
fn day(event: &Event) -> String {
    event.time().unwrap_or_default().chars().take(10).collect()
}

impl CrmSync {
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
            order: Some(order_id),
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

    /// Send a newly registered customer the welcome email, once.
    fn welcome(&self, customer: &str, profile: &Profile) -> Result<(), HandleError> {
        let (Some(infobip), Some(email)) = (&self.infobip, profile.email.as_deref()) else {
            return Ok(());
        };
        if !address::is_email(email) {
            streamplug_sdk::warn!("{customer}'s email is not one plain address; no welcome");
            return Ok(());
        }
        let about = About {
            customer,
            order: None,
        };
        let (subject, text) = welcome::message(profile.name.as_deref());
        let sent: Option<String> = journal::run(&format!("welcome:{customer}"), |key| {
            infobip.send_email(email, &subject, &text, about, key)
        })?;
        if let Some(id) = sent {
            streamplug_sdk::info!("{customer} welcomed by email {id}");
        }
        Ok(())
    }

    /// Publish each delivery report of a `webhook.received` event from the
    /// reports' endpoint as a `message.status` event about its customer.
    fn publish_reports(&self, event: &Event) -> Result<(), HandleError> {
        let received: Value = event.json()?;
        let Some((results, channel)) = delivery_reports::reports(&received, &self.report_webhook)
        else {
            return Ok(());
        };
        for report in results {
            match delivery_reports::status_of(report, channel) {
                Ok((customer, data)) => {
                    publish::to(&self.status_topic, "message.status")
                        .subject(&customer)
                        .json(&data)?
                        .send()?;
                }
                Err(why) => streamplug_sdk::warn!("delivery report skipped: {why}"),
            }
        }
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

impl Plugin for CrmSync {
    type Config = Settings;

    fn init(config: Settings) -> Result<Self, String> {
        if config.account_id.is_empty() {
            return Err("account_id (the Account web-shop orders belong to) is required".into());
        }
        let infobip = config.infobip_url.map(|url| Infobip {
            base: url.trim_end_matches('/').to_owned(),
            sms_sender: config.sms_sender,
            email_from: config.email_from,
            report_url: config.delivery_report_url,
        });
        Ok(Self {
            org: Salesforce::new(&config.salesforce_url, config.api_version)?,
            account_id: config.account_id,
            contact_field: config.contact_external_id,
            order_field: config.order_external_id,
            task_field: config.task_external_id,
            notable: config
                .notable
                .into_iter()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect(),
            infobip,
            report_webhook: config.delivery_report_webhook,
            status_topic: config.status_topic,
        })
    }

    fn handle(&self, event: Event) -> Result<(), HandleError> {
        if event.ty() == "webhook.received" {
            return self.publish_reports(&event);
        }
        let Some(customer) = event.subject().map(str::to_owned) else {
            return Ok(());
        };
        let profile_key = format!("profile:{customer}");
        let mut profile: Profile = kv::get_json(&profile_key)?.unwrap_or_default();
        match event.ty() {
            "customer.updated" => {
                profile.merge(event.json()?);
                self.org.send(self.with_contact(&customer, &profile))?;
                kv::set_json(&profile_key, &profile)
            }
            "customer.registered" => {
                profile.merge(event.json()?);
                self.org.send(self.with_contact(&customer, &profile))?;
                kv::set_json(&profile_key, &profile)?;
                self.welcome(&customer, &profile)
            }
            t if t.starts_with("order.") => self.sync_order(&event, &customer, &profile),
            t if self.notable.iter().any(|n| n == t) => {
                self.sync_interaction(&event, &customer, &profile)
            }
            _ => Ok(()),
        }
    }
}

streamplug_sdk::export_plugin!(CrmSync);

#[cfg(test)]
mod tests {
    use streamplug_sdk::config::from_values;

    use super::*;

    #[test]
    fn settings_name_what_is_missing_or_wrong_and_default_the_rest() {
        let missing = from_values::<Settings>([("salesforce_url", "https://o.example")]);
        assert_eq!(missing.unwrap_err(), "config `account_id` is required");
        let not_http =
            from_values::<Settings>([("salesforce_url", "o.example"), ("account_id", "001")]);
        let refused = CrmSync::init(not_http.unwrap()).unwrap_err();
        assert!(refused.contains("salesforce_url"), "{refused}");

        let plugin = CrmSync::init(
            from_values([
                ("salesforce_url", "https://o.example/"),
                ("account_id", "001"),
                ("notable", "order.placed, support.message"),
            ])
            .unwrap(),
        )
        .unwrap();
        assert_eq!(plugin.org.base, "https://o.example");
        assert_eq!(plugin.org.version, salesforce_client::DEFAULT_API_VERSION);
        assert_eq!(plugin.notable, ["order.placed", "support.message"]);
        assert!(plugin.infobip.is_none());
    }
}
