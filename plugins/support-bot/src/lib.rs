//! support-bot: answers shoppers' chat messages in real time and hands what
//! it cannot resolve to a human as a Salesforce Service Cloud Case.
//!
//! - `order.*` events keep each customer's order state in KV (`orders:<id>`);
//!   `customer.updated` their name and contact details (`profile:<id>`);
//!   views, cart changes and chat messages a short history (`recent:<id>`).
//! - A `support.message` is classified ([`intents`]) and answered
//!   ([`answers`]) with a push on the configured channel to the shopper's
//!   live sessions. Escalations create one Case per customer conversation
//!   ([`crm`]), with the history and orders in its description, and tell the
//!   shopper the case number. While that Case is open (Salesforce's
//!   `IsClosed`, read back), the customer's later messages are added to it as
//!   comments; once an agent closes it, the next escalation opens a new one.
//!   Creating the Case and each comment are journal steps: a retried event
//!   never opens a second Case or comments twice.
//!
//! - Asked to cancel an order that has not shipped, the bot sends the
//!   `order.cancel.requested` command to `commands_topic` (when configured;
//!   it escalates otherwise): the order's processor decides, and its
//!   outcome reaches the shopper's sessions on channel `commands`.
//!
//! Config ([`Settings`]; any other key refuses the plugin):
//! `salesforce_url` (required), `api_version` (`v64.0`),
//! `contact_external_id` (`External_Id__c`), `case_external_id`
//! (`Streamplug_Key__c`: an external-id field on Case that holds each
//! escalation's idempotency key), `return_days` (`30`),
//! `shipping` (`2-4 business days`), `push_channel` (`support`),
//! `commands_topic` (none; the manifest must grant it in `publish`),
//! `case_topic` (none: where `support.case_opened` is announced when the
//! bot opens a case; granted in `publish` too).

pub mod answers;
pub mod crm;
pub mod intents;
pub mod orders;

use serde::Deserialize;
use serde_json::{Value, json};
use streamplug_sdk::vocabulary::{OrderCancelRequested, SupportCaseOpened, SupportMessage};
use streamplug_sdk::{Event, HandleError, Plugin, journal, kv, publish, push};

use answers::{Policy, Reply};
use crm::{CaseRef, CaseState, Crm};
use orders::Orders;
use salesforce_client::{Profile, Salesforce};

/// History lines kept per customer for the case description.
const HISTORY: usize = 15;

/// The plugin's `[plugins.config]`, with its defaults.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The org's instance URL (required).
    pub salesforce_url: String,
    /// REST API version.
    #[serde(default = "salesforce_client::default_api_version")]
    pub api_version: String,
    /// The external-id field on Contact that holds the customer id.
    #[serde(default = "salesforce_client::default_external_id")]
    pub contact_external_id: String,
    /// An external-id field on Case that holds each escalation's
    /// idempotency key.
    #[serde(default = "default_case_external_id")]
    pub case_external_id: String,
    /// The return window the bot quotes, in days.
    #[serde(default = "default_return_days")]
    pub return_days: u32,
    /// The delivery time the bot quotes.
    #[serde(default = "default_shipping")]
    pub shipping: String,
    /// The channel replies are pushed on.
    #[serde(default = "default_push_channel")]
    pub push_channel: String,
    /// Where the bot sends commands (`order.cancel.requested`); without
    /// it, cancellations go to a human.
    #[serde(default)]
    pub commands_topic: Option<String>,
    /// Where the bot announces each case it opens (`support.case_opened`,
    /// for the customer's view); none: not announced.
    #[serde(default)]
    pub case_topic: Option<String>,
}

fn default_case_external_id() -> String {
    "Streamplug_Key__c".into()
}

fn default_return_days() -> u32 {
    30
}

fn default_shipping() -> String {
    "2-4 business days".into()
}

fn default_push_channel() -> String {
    "support".into()
}

/// The plugin: the org, the policy it quotes, where it replies.
#[derive(Debug)]
pub struct SupportBot {
    crm: Crm,
    policy: Policy,
    channel: String,
    commands_topic: Option<String>,
    case_topic: Option<String>,
}

fn remember(customer: &str, line: String) -> Result<(), HandleError> {
    let key = format!("recent:{customer}");
    let mut recent: Vec<String> = kv::get_json(&key)?.unwrap_or_default();
    recent.push(line);
    if recent.len() > HISTORY {
        recent.drain(..recent.len() - HISTORY);
    }
    kv::set_json(&key, &recent)
}

fn intent_name(intent: &intents::Intent) -> &'static str {
    match intent {
        intents::Intent::OrderStatus { .. } => "order_status",
        intents::Intent::CancelOrder { .. } => "cancel_order",
        intents::Intent::Returns => "returns",
        intents::Intent::ShippingTimes => "shipping_times",
        intents::Intent::Human => "human",
        intents::Intent::Greeting => "greeting",
        intents::Intent::Unknown => "unknown",
    }
}

/// The case description: the customer's orders and recent history.
fn description(customer: &str, orders: &Orders, recent: &[String]) -> String {
    let mut text = format!("Customer {customer}\n\nOrders:\n");
    if orders.orders.is_empty() {
        text.push_str("- none\n");
    }
    for o in orders.orders.iter().rev() {
        text.push_str(&format!(
            "- {} {} {}\n",
            o.order,
            o.status,
            o.items.join(", ")
        ));
    }
    text.push_str("\nRecent activity:\n");
    for line in recent {
        text.push_str(&format!("- {line}\n"));
    }
    text
}

/// The customer's open case, if any: the one KV remembers, unless
/// Salesforce says an agent closed it since (then it is forgotten).
fn open_case(customer: &str, bot: &SupportBot) -> Result<Option<CaseRef>, HandleError> {
    let key = format!("case:{customer}");
    let Some(case) = kv::get_json::<CaseRef>(&key)? else {
        return Ok(None);
    };
    match bot.crm.case_state(&case.id)? {
        CaseState::Open => Ok(Some(case)),
        CaseState::Closed => {
            streamplug_sdk::info!(
                "case {} of {customer} is closed; the next escalation opens a new one",
                case.number
            );
            kv::delete(&key)?;
            Ok(None)
        }
    }
}

fn answer(event: &Event, customer: &str, bot: &SupportBot) -> Result<(), HandleError> {
    let message: SupportMessage = event.json()?;
    let when = event.time().unwrap_or_default();
    remember(customer, format!("{when} chat: {}", message.text))?;
    let orders: Orders = kv::get_json(&format!("orders:{customer}"))?.unwrap_or_default();
    let intent = intents::classify(&message.text);
    let mut reply = json!({
        "intent": intent_name(&intent),
        "in_reply_to": event.id(),
        "session": message.session,
    });
    let open = open_case(customer, bot)?;
    // A message while a case is open joins it, once (a journal step: a
    // retried event does not comment twice).
    if let Some(case) = &open {
        let comment: String =
            journal::run("comment", |_| bot.crm.add_comment(&case.id, &message.text))?;
        streamplug_sdk::debug!("message added to case {} as comment {comment}", case.number);
    }
    // Without a commands topic, a cancellation goes to a human.
    let decided = match (
        answers::reply(&intent, &orders, &bot.policy),
        &bot.commands_topic,
    ) {
        (Reply::Cancel { order }, None) => Reply::Escalate {
            reason: format!("Cancellation request for order {order}"),
        },
        (decided, _) => decided,
    };
    match decided {
        Reply::Answer(text) => reply["text"] = json!(text),
        Reply::Cancel { order } => {
            let topic = bot.commands_topic.as_deref().unwrap_or_default();
            let request = OrderCancelRequested {
                reason: Some("asked in the support chat".into()),
                order: order.clone(),
            };
            publish::to(topic, OrderCancelRequested::TYPE)
                .subject(customer)
                .json(&request)?
                .send()?;
            reply["text"] = json!(format!(
                "I have asked for order {order} to be cancelled; you will see the answer here in a moment."
            ));
            reply["cancel_requested"] = json!(order);
        }
        Reply::Escalate { reason } => {
            let case = match open {
                Some(case) => case,
                None => {
                    let profile: Profile =
                        kv::get_json(&format!("profile:{customer}"))?.unwrap_or_default();
                    let recent: Vec<String> =
                        kv::get_json(&format!("recent:{customer}"))?.unwrap_or_default();
                    let subject = format!(
                        "{reason}: \"{}\"",
                        message.text.chars().take(80).collect::<String>()
                    );
                    // One case per escalation, however often the event is
                    // attempted.
                    let case: CaseRef = journal::run("case", |key| {
                        bot.crm.create_case(
                            key,
                            customer,
                            &profile,
                            &subject,
                            &description(customer, &orders, &recent),
                        )
                    })?;
                    streamplug_sdk::info!("case {} created for {customer}: {reason}", case.number);
                    kv::set_json(&format!("case:{customer}"), &case)?;
                    if let Some(topic) = &bot.case_topic {
                        let opened = SupportCaseOpened {
                            case: case.number.clone(),
                            reason: reason.to_string(),
                            subject: Some(subject),
                        };
                        publish::to(topic, SupportCaseOpened::TYPE)
                            .subject(customer)
                            .json(&opened)?
                            .send()?;
                    }
                    case
                }
            };
            reply["text"] = json!(format!(
                "I have passed this to a colleague who will follow up with you: case {}.",
                case.number
            ));
            reply["case"] = json!(case.number);
        }
    }
    push::to_customer(customer, &bot.channel, "support.reply")
        .json(&reply)?
        .send()?;
    Ok(())
}

impl Plugin for SupportBot {
    type Config = Settings;

    fn init(config: Settings) -> Result<Self, String> {
        Ok(Self {
            crm: Crm {
                org: Salesforce::new(&config.salesforce_url, config.api_version)?,
                external_id_field: config.contact_external_id,
                case_key_field: config.case_external_id,
            },
            policy: Policy {
                return_days: config.return_days,
                shipping: config.shipping,
            },
            channel: config.push_channel,
            commands_topic: config.commands_topic,
            case_topic: config.case_topic.filter(|t| !t.is_empty()),
        })
    }

    fn handle(&self, event: Event) -> Result<(), HandleError> {
        let Some(customer) = event.subject().map(str::to_owned) else {
            return Ok(());
        };
        let ty = event.ty().to_owned();
        match ty.as_str() {
            "support.message" => answer(&event, &customer, self),
            t if t.starts_with("order.") => {
                let key = format!("orders:{customer}");
                let mut orders: Orders = kv::get_json(&key)?.unwrap_or_default();
                let data: Value = event.json()?;
                orders.apply(t, &data, event.time());
                kv::set_json(&key, &orders)?;
                remember(
                    &customer,
                    format!(
                        "{} {t} {}",
                        event.time().unwrap_or_default(),
                        data["order"].as_str().unwrap_or_default()
                    ),
                )
            }
            "customer.updated" => {
                let key = format!("profile:{customer}");
                let mut profile: Profile = kv::get_json(&key)?.unwrap_or_default();
                profile.merge(event.json()?);
                kv::set_json(&key, &profile)
            }
            t => {
                let data: Value = event.json().unwrap_or(Value::Null);
                let what = data["product"]
                    .as_str()
                    .or(data["path"].as_str())
                    .unwrap_or_default();
                remember(
                    &customer,
                    format!("{} {t} {what}", event.time().unwrap_or_default()),
                )
            }
        }
    }
}

streamplug_sdk::export_plugin!(SupportBot);

#[cfg(test)]
mod tests {
    use streamplug_sdk::config::from_values;

    use super::*;

    #[test]
    fn settings_need_the_org_and_default_the_rest() {
        let missing = from_values::<Settings>([("return_days", "14")]);
        assert_eq!(missing.unwrap_err(), "config `salesforce_url` is required");
        let bot = SupportBot::init(
            from_values([
                ("salesforce_url", "https://o.example"),
                ("return_days", "14"),
            ])
            .unwrap(),
        )
        .unwrap();
        assert_eq!(bot.policy.return_days, 14);
        assert_eq!(bot.channel, "support");
        assert_eq!(bot.crm.case_key_field, "Streamplug_Key__c");
        let typo =
            from_values::<Settings>([("salesforce_url", "https://o.example"), ("chanel", "x")]);
        assert!(typo.unwrap_err().contains("`chanel`"));
    }
}
