//! The customer-engagement setup: the support bot and crm-sync wired to
//! the Salesforce and Infobip doubles, as the integration tests and the
//! `engagement-demo` binary run them.

use anyhow::Result;
use serde_json::json;

use crate::RECOMMEND_MANIFEST;
use crate::infobip::Infobip;
use crate::salesforce::Salesforce;

/// A Salesforce and an Infobip double, and the Account web-shop orders
/// belong to.
pub struct Doubles {
    /// The CRM.
    pub sf: Salesforce,
    /// The CPaaS.
    pub ib: Infobip,
    /// Id of the seeded Account.
    pub account: String,
}

impl Doubles {
    /// Start both on free loopback ports and seed the Account.
    pub async fn start() -> Result<Self> {
        let sf = Salesforce::start().await?;
        let ib = Infobip::start().await?;
        let account = sf.seed("Account", json!({"Name": "TrailShop web customers"}))?;
        Ok(Self { sf, ib, account })
    }
}

/// The token of the gateway's Infobip webhook endpoint (`url-token`).
pub const HOOK_TOKEN: &str = "hook-secret-7";

/// Every topic crm-sync reads in the full setup.
pub const CRM_TOPICS: &[&str] = &[
    "customer-interactions",
    "order-events",
    "support-inquiries",
    "engagement-events",
];

/// The credentials of both doubles and the webhook endpoint Infobip's
/// delivery reports arrive through.
pub fn crm_settings(sf: &Salesforce, ib: &Infobip) -> String {
    format!(
        "{}{}[webhooks.endpoints.infobip]\nverify = \"url-token\"\nsecret = \"{HOOK_TOKEN}\"\n",
        sf.credential_toml("salesforce"),
        ib.credential_toml("infobip")
    )
}

/// The support bot's plugin table, escalating to `sf`.
pub fn support_bot_plugin(sf: &Salesforce, max_attempts: u32) -> String {
    format!(
        r#"
[[plugins]]
name = "support-bot"
wasm = "support_bot.wasm"
subscribe = ["support-inquiries", "order-events", "customer-interactions"]
push_channels = ["support"]
publish = ["commands", "support-inquiries"]
allowed_hosts = ["{url}"]
credentials = {{ "{url}" = "salesforce" }}
[plugins.retry]
max_attempts = {max_attempts}
initial_backoff_ms = 20
[plugins.config]
salesforce_url = "{url}"
commands_topic = "commands"
case_topic = "support-inquiries"
"#,
        url = sf.url
    )
}

/// crm-sync's plugin table: orders on `account`, delivery reports to the
/// gateway on `port` (read back from the `webhooks` topic and published
/// as `message.status` to `engagement-events`), subscribed to `topics`.
pub fn crm_sync_plugin(
    sf: &Salesforce,
    ib: &Infobip,
    account: &str,
    port: u16,
    max_attempts: u32,
    topics: &[&str],
) -> String {
    let topics: Vec<&str> = topics.iter().copied().chain(["webhooks"]).collect();
    format!(
        r#"
[[plugins]]
name = "crm-sync"
wasm = "crm_sync.wasm"
subscribe = {topics:?}
publish = ["engagement-events"]
allowed_hosts = ["{sf}", "{ib}"]
credentials = {{ "{sf}" = "salesforce", "{ib}" = "infobip" }}
[plugins.retry]
max_attempts = {max_attempts}
initial_backoff_ms = 20
[plugins.config]
salesforce_url = "{sf}"
account_id = "{account}"
infobip_url = "{ib}"
sms_sender = "TrailShop"
email_from = "TrailShop <orders@trailshop.example>"
delivery_report_url = "http://127.0.0.1:{port}/v1/webhooks/infobip?token={HOOK_TOKEN}"
"#,
        sf = sf.url,
        ib = ib.url,
    )
}

/// customer-registry's plugin table (`customer.register`).
macro_rules! customer_registry {
    () => {
        r#"
[[plugins]]
name = "customer-registry"
wasm = "customer_registry.wasm"
subscribe = ["commands"]
types = ["customer.register"]
commands = ["customer.register"]
publish = ["customer-interactions"]
"#
    };
}

/// customer-registry alone.
pub const CUSTOMER_REGISTRY: &str = customer_registry!();

/// The command processors: customer-registry (`customer.register`) and
/// order-processor (`order.cancel.requested`, `order.place`), the latter
/// without stock or payment.
pub const COMMAND_PROCESSORS: &str = concat!(
    customer_registry!(),
    r#"
[[plugins]]
name = "order-processor"
wasm = "order_processor.wasm"
subscribe = ["commands", "order-events"]
types = ["order.*"]
commands = ["order.cancel.requested", "order.place"]
publish = ["order-events"]
"#
);

/// The first-party plugins on the doubles: recommend, the support bot,
/// crm-sync (orders on `account`, reports to the gateway on `port`) and
/// the command processors, with the credentials they need.
pub fn engagement_plugins(sf: &Salesforce, ib: &Infobip, account: &str, port: u16) -> String {
    format!(
        "{}{RECOMMEND_MANIFEST}{COMMAND_PROCESSORS}{}{}",
        crm_settings(sf, ib),
        support_bot_plugin(sf, 5),
        crm_sync_plugin(sf, ib, account, port, 5, CRM_TOPICS)
    )
}

/// The whole shop on the doubles: [`engagement_plugins`] with
/// order-processor taking orders end to end against the payment double
/// (its webhooks to the gateway on `port`) and customer-view.
pub fn shop_plugins(
    sf: &Salesforce,
    ib: &Infobip,
    stripe: &crate::stripe::Stripe,
    account: &str,
    port: u16,
) -> String {
    format!(
        "{}{RECOMMEND_MANIFEST}{CUSTOMER_REGISTRY}{}{}{}{}",
        crm_settings(sf, ib),
        crate::orders::order_flow(stripe, 15 * 60_000, port),
        support_bot_plugin(sf, 5),
        crm_sync_plugin(sf, ib, account, port, 5, CRM_TOPICS),
        crate::orders::CUSTOMER_VIEW,
    )
}

/// A gateway on a free loopback port running crm-sync alone against
/// `doubles` (delivery reports back to it), reading `topics`.
pub async fn crm_sync_gateway(
    doubles: &Doubles,
    max_attempts: u32,
    topics: &[&str],
) -> Result<crate::TestGateway> {
    crm_sync_gateway_with(doubles, max_attempts, topics, "").await
}

/// [`crm_sync_gateway`], with the plugin tables of `others` beside it.
pub async fn crm_sync_gateway_with(
    doubles: &Doubles,
    max_attempts: u32,
    topics: &[&str],
    others: &str,
) -> Result<crate::TestGateway> {
    let Doubles { sf, ib, account } = doubles;
    let port = crate::free_port()?;
    let plugins = format!(
        "{}{}{others}",
        crm_settings(sf, ib),
        crm_sync_plugin(sf, ib, account, port, max_attempts, topics)
    );
    crate::TestGateway::with_plugins_on_port(port, &plugins).await
}
