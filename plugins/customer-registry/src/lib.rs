//! customer-registry: decides `customer.register`, one customer per e-mail
//! address.
//!
//! The command is keyed by its address (`key: /data/email` in its type
//! file), so two registrations of one address are decided one after the
//! other by the same worker, never both accepted. An accepted registration
//! records the address (KV `email:<address>` → customer, `customer:<id>` →
//! address) and publishes `customer.registered` about the customer, from
//! which crm-sync creates the CRM contact and sends the welcome message.
//!
//! - An address another customer holds: refused as a conflict.
//! - A customer already registered under another address: refused as a
//!   conflict (an address changes with `customer.updated`).
//! - The same registration again: accepted, with nothing published (the
//!   customer exists; no second welcome).
//!
//! Addresses are compared in lower case. Config: `topic`, where
//! `customer.registered` goes (`customer-interactions`; granted in the
//! manifest's `publish`).

pub mod registration;

use serde::Deserialize;
use streamplug_sdk::vocabulary::{CustomerRegister, CustomerRegistered};
use streamplug_sdk::{Event, HandleError, Plugin, command, kv, publish};

use registration::{Decision, decide, registered};

/// The plugin's `[plugins.config]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where `customer.registered` is published.
    #[serde(default = "default_topic")]
    pub topic: String,
}

fn default_topic() -> String {
    "customer-interactions".into()
}

/// The plugin.
pub struct CustomerRegistry {
    topic: String,
}

impl Plugin for CustomerRegistry {
    type Config = Settings;

    fn init(config: Settings) -> Result<Self, String> {
        Ok(Self {
            topic: config.topic,
        })
    }

    fn handle(&self, event: Event) -> Result<(), HandleError> {
        if event.ty() != CustomerRegister::TYPE {
            return Ok(());
        }
        let Some(customer) = event.subject() else {
            return Err(HandleError::reject("customer.register names no customer"));
        };
        let registration: CustomerRegister = event.json()?;
        let email = registration.email.trim().to_lowercase();
        let holder: Option<String> = kv::get_json(&format!("email:{email}"))?;
        let address: Option<String> = kv::get_json(&format!("customer:{customer}"))?;
        match decide(customer, &email, holder.as_deref(), address.as_deref()) {
            Decision::Refuse(reason) => command::refuse_conflict(&reason)?,
            Decision::AlreadyDone => {
                streamplug_sdk::info!("{customer} registered again as {email}; nothing to do");
            }
            Decision::Register => {
                kv::set_json(&format!("email:{email}"), &customer)?;
                kv::set_json(&format!("customer:{customer}"), &email)?;
                publish::to(&self.topic, CustomerRegistered::TYPE)
                    .subject(customer)
                    .json(&registered(registration, &email))?
                    .send()?;
            }
        }
        Ok(())
    }
}

streamplug_sdk::export_plugin!(CustomerRegistry);
