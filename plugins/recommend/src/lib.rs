//! The `recommend` plugin: on every product view, cart addition and order it
//! updates its model in KV and publishes the customer's top-N products as a
//! `recommendation` event. The model is in [`ranking`]; this file is glue.
//!
//! KV layout: `cust:<id>` → [`ranking::Profile`], `co:<product>` →
//! [`ranking::Neighbours`], `pop:<shard>` → the popularity of the products
//! whose name hashes to that shard ([`ranking::popularity_shard`]).
//!
//! Config: `top_n` (default 5), `topic` (default `recommendations`), and
//! `push_channel`: when set, the recommendation is also pushed to the
//! customer's live sessions on that channel (grant it in `push_channels`).

pub mod ranking;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use streamplug_sdk::{Config, Event, HandleError, Plugin, kv, publish, push};

use ranking::{
    CART_WEIGHT, MAX_NEIGHBOURS, MAX_POPULAR_PER_SHARD, Neighbours, POPULARITY_SHARDS, Pair,
    Profile, VIEW_WEIGHT,
};

struct Settings {
    top_n: usize,
    topic: String,
    push_channel: Option<String>,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

#[derive(Deserialize)]
struct ProductData {
    product: String,
}

#[derive(Deserialize)]
struct OrderItem {
    product: String,
}

#[derive(Deserialize)]
struct OrderData {
    order: String,
    items: Vec<OrderItem>,
}

/// The `recommendation` event's data (published, and pushed when configured).
#[derive(Serialize)]
struct Recommendation<'a> {
    customer: &'a str,
    products: &'a [ranking::Scored],
    based_on: Vec<&'a String>,
    trigger: Trigger<'a>,
}

/// What the recommendation answers: an event's id and its kind.
#[derive(Serialize)]
struct Trigger<'a> {
    event: &'a str,
    kind: &'static str,
}

/// The plugin.
pub struct Recommend;

impl Plugin for Recommend {
    fn init(config: Config) -> Result<(), String> {
        let top_n = config.parse_or("top_n", 5usize)?;
        if top_n == 0 || top_n > 50 {
            return Err(format!("top_n must be 1 to 50, not {top_n}"));
        }
        let topic = config.get("topic").unwrap_or("recommendations").to_owned();
        let push_channel = config
            .get("push_channel")
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        let _ = SETTINGS.set(Settings {
            top_n,
            topic,
            push_channel,
        });
        Ok(())
    }

    fn handle(event: Event) -> Result<(), HandleError> {
        let Some(customer) = event.subject() else {
            return Ok(());
        };
        let profile_key = format!("cust:{customer}");
        let mut profile: Profile = kv::get_json(&profile_key)?.unwrap_or_default();
        let (pairs, popular, trigger) = match event.ty() {
            "product.viewed" | "cart.item_added" => {
                let data: ProductData = event.json()?;
                let weight = if event.ty() == "product.viewed" {
                    VIEW_WEIGHT
                } else {
                    CART_WEIGHT
                };
                (
                    profile.interact(&data.product, weight),
                    vec![(data.product, weight)],
                    "interaction",
                )
            }
            "order.placed" => {
                let data: OrderData = event.json()?;
                let products: Vec<String> = data.items.into_iter().map(|i| i.product).collect();
                streamplug_sdk::debug!("order {} with {} products", data.order, products.len());
                let popular = products
                    .iter()
                    .map(|p| (p.clone(), ranking::ORDER_WEIGHT))
                    .collect();
                (profile.buy(&products), popular, "order")
            }
            _ => return Ok(()),
        };
        kv::set_json(&profile_key, &profile)?;
        let mut neighbours = update_neighbours(&pairs)?;
        update_popularity(&popular)?;
        for item in profile.recent.iter().rev().take(ranking::RANK_WINDOW) {
            if !neighbours.contains_key(item) {
                let n: Neighbours =
                    kv::get_json(&ranking::neighbours_key(item))?.unwrap_or_default();
                neighbours.insert(item.clone(), n);
            }
        }
        let settings = SETTINGS.get_or_init(|| Settings {
            top_n: 5,
            topic: "recommendations".into(),
            push_channel: None,
        });
        let mut products = ranking::related(&profile, &neighbours, settings.top_n);
        if products.len() < settings.top_n {
            let popularity = read_popularity()?;
            ranking::fill_with_popular(&mut products, &profile, &popularity, settings.top_n);
        }
        if products.is_empty() {
            return Ok(());
        }
        let recommendation = Recommendation {
            customer,
            products: &products,
            based_on: profile.recent.iter().rev().take(5).collect(),
            trigger: Trigger {
                event: event.id(),
                kind: trigger,
            },
        };
        publish::to(&settings.topic, "recommendation")
            .subject(customer)
            .json(&recommendation)?
            .send()?;
        if let Some(channel) = &settings.push_channel {
            push::to_customer(customer, channel, "recommendation")
                .json(&recommendation)?
                .send()?;
        }
        Ok(())
    }
}

/// Apply co-occurrence pairs to the stored neighbour tables; returns the
/// updated tables by product.
fn update_neighbours(pairs: &[Pair]) -> Result<BTreeMap<String, Neighbours>, HandleError> {
    let updates = pairs.iter().map(|p| (p.a.clone(), p.b.as_str(), p.weight));
    update_tables(updates, ranking::neighbours_key, MAX_NEIGHBOURS)
}

/// Add popularity signals, each to its product's shard: an event rewrites
/// one small table, not the whole popularity list.
fn update_popularity(signals: &[(String, f64)]) -> Result<(), HandleError> {
    let updates = signals.iter().map(|(product, weight)| {
        (
            ranking::popularity_shard(product),
            product.as_str(),
            *weight,
        )
    });
    update_tables(updates, str::to_owned, MAX_POPULAR_PER_SHARD)?;
    Ok(())
}

/// Add weighted entries to stored tables, `(table, entry, weight)` each:
/// every touched table is read once (its KV key is `kv_key(table)`), capped
/// to its `cap` heaviest entries, and written back once. Returns the
/// updated tables by name.
fn update_tables<'a>(
    updates: impl IntoIterator<Item = (String, &'a str, f64)>,
    kv_key: impl Fn(&str) -> String,
    cap: usize,
) -> Result<BTreeMap<String, BTreeMap<String, f64>>, HandleError> {
    let mut tables: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for (name, entry, weight) in updates {
        let table = match tables.entry(name) {
            Entry::Occupied(stored) => stored.into_mut(),
            Entry::Vacant(slot) => {
                let stored = kv::get_json(&kv_key(slot.key()))?.unwrap_or_default();
                slot.insert(stored)
            }
        };
        ranking::add_capped(table, entry, weight, cap);
    }
    for (name, table) in &tables {
        kv::set_json(&kv_key(name), table)?;
    }
    Ok(tables)
}

/// The whole popularity table (every shard), read only when related
/// products do not fill the recommendation.
fn read_popularity() -> Result<BTreeMap<String, f64>, HandleError> {
    let mut popularity = BTreeMap::new();
    for shard in 0..POPULARITY_SHARDS {
        let stored: BTreeMap<String, f64> =
            kv::get_json(&ranking::popularity_key(shard))?.unwrap_or_default();
        popularity.extend(stored);
    }
    Ok(popularity)
}

streamplug_sdk::export_plugin!(Recommend);
