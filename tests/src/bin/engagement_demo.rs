//! The customer-engagement demo on one machine: the gateway with recommend,
//! the support bot, crm-sync, order-processor and customer-view, wired to
//! the local Salesforce, Infobip and Stripe doubles the tests use (no
//! accounts needed), with a small catalogue for the demo page's checkout.
//! It prints what reaches the CRM, the CPaaS and the payment provider as it
//! happens; Ctrl-C stops everything.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use serde_json::{Value, json};
use streamplug_tests::TestGateway;
use streamplug_tests::engagement::{Doubles, shop_plugins};
use streamplug_tests::infobip::Sent;
use streamplug_tests::orders::WEBHOOK_SECRET;
use streamplug_tests::salesforce::Received;
use streamplug_tests::stripe::{self, Stripe};
use tracing_subscriber::EnvFilter;

/// Run the gateway with the first-party plugins against local Salesforce
/// and Infobip doubles.
#[derive(Parser)]
struct Args {
    /// Loopback port of the gateway.
    #[arg(long, default_value_t = 8080)]
    port: u16,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("STREAMPLUG_LOG").unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let Doubles { sf, ib, account } = Doubles::start().await?;
    let payments = Stripe::start().await?;
    payments.send_webhooks_to(
        &format!("http://127.0.0.1:{}/v1/webhooks/stripe", args.port),
        WEBHOOK_SECRET,
    );
    let plugins = shop_plugins(&sf, &ib, &payments, &account, args.port);
    let gw = TestGateway::with_plugins_on_port(args.port, &plugins)
        .await
        .with_context(|| format!("starting the gateway on 127.0.0.1:{}", args.port))?;
    for (product, quantity, price) in [("tent", 5, 199.0), ("stove", 10, 59.0), ("lamp", 1, 25.0)] {
        let set = json!({"type": "stock.set", "data": {"product": product, "quantity": quantity, "price": price, "currency": "EUR"}});
        gw.post(&set).await?;
    }
    // The gateway's key with every scope, for the README's curl examples.
    let key_file = streamplug_tests::workspace_path("target/engagement-api-key");
    std::fs::write(&key_file, streamplug_tests::TEST_KEY)
        .with_context(|| format!("writing {}", key_file.display()))?;
    say(&format!(
        "gateway    {url}  (demo page: {url}/demo; API key in target/engagement-api-key)\nsalesforce {}  (Account {account})\ninfobip    {}\nstripe     {}  (catalogue: tent x5 at 199, stove x10 at 59, lamp x1 at 25 EUR)\nplugins    recommend, support-bot, crm-sync, customer-registry, order-processor, customer-view; Ctrl-C stops\n",
        sf.url,
        ib.url,
        payments.url,
        url = gw.url
    ));

    let (mut crm_seen, mut cpaas_seen, mut payments_seen) = (0, 0, 0);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {
                let received = sf.received();
                for request in &received[crm_seen..] {
                    print_crm(request);
                }
                crm_seen = received.len();
                let sent = ib.sent();
                for message in &sent[cpaas_seen..] {
                    print_cpaas(message);
                }
                cpaas_seen = sent.len();
                let calls = payments.received();
                for call in &calls[payments_seen..] {
                    print_payment(call);
                }
                payments_seen = calls.len();
            }
        }
    }
    gw.stop().await;
    Ok(())
}

/// One line per record the request touched (composite subrequests each).
fn print_crm(request: &Received) {
    let status = request.status;
    match request.body["compositeRequest"].as_array() {
        Some(parts) => {
            for part in parts {
                let method = part["method"].as_str().unwrap_or_default();
                let url = part["url"].as_str().unwrap_or_default();
                say(&format!(
                    "salesforce {status} {method} {} {}",
                    short(url),
                    summary(&part["body"])
                ));
            }
        }
        None => say(&format!(
            "salesforce {status} {} {} {}",
            request.method,
            short(&request.path),
            summary(&request.body)
        )),
    }
}

fn print_cpaas(message: &Sent) {
    say(&format!(
        "infobip    {} to {}: {}",
        message.channel,
        message.to,
        message.text.replace('\n', " / ")
    ));
}

fn print_payment(call: &stripe::Received) {
    let amount = call
        .params
        .get("amount")
        .map(|a| format!(" amount={a}"))
        .unwrap_or_default();
    let replayed = if call.replayed { " (replayed)" } else { "" };
    say(&format!(
        "stripe     {} {}{amount}{replayed}",
        call.status, call.route
    ));
}

/// One line on stdout (a closed stdout is not worth stopping the demo).
fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// The path from `sobjects/` on.
fn short(url: &str) -> &str {
    url.find("sobjects/").map_or(url, |at| &url[at..])
}

/// The record's fields but its long description, on one line, abbreviated.
fn summary(body: &Value) -> String {
    let Some(fields) = body.as_object() else {
        return String::new();
    };
    let text = fields
        .iter()
        .filter(|(name, _)| name.as_str() != "Description")
        .map(|(name, value)| match value.as_str() {
            Some(s) => format!("{name}={}", s.replace('\n', " ")),
            None => format!("{name}={value}"),
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(120).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}
