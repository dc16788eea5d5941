//! The `recommend` plugin: on every product view, cart addition and order it
//! updates its model in KV and publishes the customer's top-N products as a
//! `recommendation` event. The model is in [`ranking`]; this file is glue.
//!
//! KV layout: `cust:<id>` → [`ranking::Profile`], `co:<product>` →
//! [`ranking::Neighbours`], `pop:<shard>` → the popularity of the products
//! whose name hashes to that shard ([`ranking::popularity_shard`]).
//!
//! Config ([`Settings`]): `top_n` (default 5), `topic` (default
//! `recommendations`), and `push_channel`: when set, the recommendation is
//! also pushed to the customer's live sessions on that channel (grant it in
//! `push_channels`). Any other key refuses the plugin.
//!
//! Query `recommendations` about a customer answers what the next
//! recommendation would be now (`GET /v1/plugins/recommend/queries/
//! recommendations/<customer>`): the same ranking, read from KV only.

pub mod legacy_table;
pub mod ranking;
pub mod stored;
pub mod table;

use std::collections::hash_map::Entry;

use serde::{Deserialize, Serialize};
use streamplug_sdk::query::{self, Query, QueryError};
use streamplug_sdk::vocabulary::{CartItemAdded, OrderPlaced, ProductViewed};
use streamplug_sdk::{Event, HandleError, Plugin, kv, publish, push};

use ranking::{
    CART_WEIGHT, MAX_NEIGHBOURS, MAX_POPULAR_PER_SHARD, POPULARITY_SHARDS, Pair, Profile, Related,
    VIEW_WEIGHT,
};
use rustc_hash::FxHashMap;
use stored::Stored;
use table::Table;

/// The plugin's `[plugins.config]`, with its defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Products per recommendation, 1 to 50.
    pub top_n: usize,
    /// Where recommendations are published.
    pub topic: String,
    /// When set (and not empty), the channel recommendations are also
    /// pushed on.
    pub push_channel: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            top_n: 5,
            topic: "recommendations".into(),
            push_channel: None,
        }
    }
}

/// The `recommendation` event's data (published, and pushed when configured).
#[derive(Serialize)]
struct Recommendation<'a> {
    customer: &'a str,
    products: &'a [ranking::Scored],
    based_on: Vec<&'a String>,
    trigger: Trigger<'a>,
}

/// The answer of query `recommendations`: what would be recommended now.
#[derive(Serialize)]
struct Current<'a> {
    customer: &'a str,
    products: &'a [ranking::Scored],
    based_on: Vec<&'a String>,
}

/// What the recommendation answers: an event's id and its kind.
#[derive(Serialize)]
struct Trigger<'a> {
    event: &'a str,
    kind: &'static str,
}

/// The plugin: its settings, checked.
#[derive(Debug)]
pub struct Recommend {
    settings: Settings,
}

impl Plugin for Recommend {
    type Config = Settings;

    fn init(mut settings: Settings) -> Result<Self, String> {
        if settings.top_n == 0 || settings.top_n > 50 {
            return Err(format!("top_n must be 1 to 50, not {}", settings.top_n));
        }
        settings.push_channel = settings.push_channel.filter(|c| !c.is_empty());
        Ok(Self { settings })
    }

    fn handle(&self, event: Event) -> Result<(), HandleError> {
        let Some(customer) = event.subject() else {
            return Ok(());
        };
        let activity = match event.ty() {
            ProductViewed::TYPE => Activity::Interaction {
                product: event.json::<ProductViewed>()?.product,
                weight: VIEW_WEIGHT,
            },
            CartItemAdded::TYPE => Activity::Interaction {
                product: event.json::<CartItemAdded>()?.product,
                weight: CART_WEIGHT,
            },
            OrderPlaced::TYPE => {
                let data: OrderPlaced = event.json()?;
                streamplug_sdk::debug!("order {} with {} products", data.order, data.items.len());
                Activity::Order(data.items.into_iter().map(|i| i.product).collect())
            }
            _ => return Ok(()),
        };
        let profile_key = format!("cust:{customer}");
        let mut profile: Profile = kv::get_packed(&profile_key)?.unwrap_or_default();
        activity.record(&mut profile);
        kv::set_packed(&profile_key, &profile)?;
        let pairs = activity.pairs(&profile);
        let popular = activity.popularity();
        // Every table this event reads, in one host call: the neighbours it
        // updates and ranks with, and the popularity shards it adds to.
        let tables = pairs.iter().map(|p| p.a).chain(ranking::window(&profile));
        let stored = Stored::read(
            ranking::neighbours_keys(tables).into_iter().chain(
                popular
                    .iter()
                    .map(|(p, _)| ranking::popularity_shard(p).to_owned()),
            ),
        )?;
        let neighbours = update_neighbours(&stored, &pairs)?;
        update_popularity(&stored, &popular)?;
        let settings = &self.settings;
        let products = self.rank(&profile, neighbours, &stored)?;
        if products.is_empty() {
            return Ok(());
        }
        let recommendation = Recommendation {
            customer,
            products: &products,
            based_on: profile.recent.iter().rev().take(5).collect(),
            trigger: Trigger {
                event: event.id(),
                kind: activity.trigger(),
            },
        };
        // Serialised once, for the event and the push alike.
        let data = serde_json::to_vec(&recommendation)?;
        let push = settings.push_channel.as_ref().map(|channel| {
            push::to_customer(customer, channel, "recommendation").json_bytes(data.clone())
        });
        publish::to(&settings.topic, "recommendation")
            .subject(customer)
            .bytes("application/json", data)
            .send()?;
        if let Some(push) = push {
            push.send()?;
        }
        Ok(())
    }

    fn query(&self, q: &Query) -> Result<Vec<u8>, QueryError> {
        if q.name != "recommendations" {
            return Err(QueryError::UnknownQuery(q.name.clone()));
        }
        let unavailable = |e: HandleError| QueryError::Unavailable(format!("{e:?}"));
        let profile: Profile = kv::get_packed(&format!("cust:{}", q.key))
            .map_err(unavailable)?
            .ok_or_else(|| QueryError::NotFound(format!("no interactions of `{}` yet", q.key)))?;
        let stored = Stored::read(ranking::neighbours_keys(ranking::window(&profile)))
            .map_err(unavailable)?;
        let products = self
            .rank(&profile, Related::default(), &stored)
            .map_err(unavailable)?;
        query::json(&Current {
            customer: &q.key,
            products: &products,
            based_on: profile.recent.iter().rev().take(5).collect(),
        })
    }
}

/// What an event tells of its customer.
enum Activity {
    /// A product viewed or put in the cart, with the signal's weight.
    Interaction { product: String, weight: f64 },
    /// The products of an order.
    Order(Vec<String>),
}

impl Activity {
    /// Add it to the customer's profile.
    fn record(&self, profile: &mut Profile) {
        match self {
            Self::Interaction { product, .. } => profile.interact(product),
            Self::Order(products) => profile.buy(products),
        }
    }

    /// The co-occurrence pairs it adds to the model, once recorded in
    /// `profile`.
    fn pairs<'a>(&'a self, profile: &'a Profile) -> Vec<Pair<'a>> {
        match self {
            Self::Interaction { weight, .. } => profile.latest_pairs(*weight),
            Self::Order(products) => ranking::order_pairs(products),
        }
    }

    /// The popularity signals it adds, by product.
    fn popularity(&self) -> Vec<(&str, f64)> {
        match self {
            Self::Interaction { product, weight } => vec![(product.as_str(), *weight)],
            Self::Order(products) => products
                .iter()
                .map(|p| (p.as_str(), ranking::ORDER_WEIGHT))
                .collect(),
        }
    }

    /// What the recommendation answers (its trigger's `kind`).
    fn trigger(&self) -> &'static str {
        match self {
            Self::Interaction { .. } => "interaction",
            Self::Order(_) => "order",
        }
    }
}

impl Recommend {
    /// The customer's top products now: related to what it saw recently
    /// (`neighbours` holds the tables already updated, `stored` the rest of
    /// its window's), then popular ones.
    fn rank<'p, 's>(
        &self,
        profile: &'p Profile,
        mut neighbours: Related<'p, 's>,
        stored: &'s Stored,
    ) -> Result<Vec<ranking::Scored>, HandleError> {
        let mut key = String::new();
        for item in ranking::window(profile) {
            if !neighbours.contains_key(item) {
                let n = stored.table(ranking::neighbours_key_into(&mut key, item))?;
                neighbours.insert(item, n);
            }
        }
        let top_n = self.settings.top_n;
        let mut products = ranking::related(profile, &neighbours, top_n);
        if products.len() < top_n {
            let keys = (0..POPULARITY_SHARDS).map(|s| ranking::popularity_key(s).to_owned());
            let shards = Stored::read(keys)?;
            let popularity = read_popularity(&shards)?;
            ranking::fill_with_popular(&mut products, profile, &popularity, top_n);
        }
        Ok(products)
    }
}

/// Apply co-occurrence pairs to the neighbour tables read into `stored`;
/// returns the updated tables by product.
fn update_neighbours<'p, 's>(
    stored: &'s Stored,
    pairs: &[Pair<'p>],
) -> Result<Related<'p, 's>, HandleError> {
    let updates = pairs.iter().map(|p| (p.a, p.b, p.weight));
    let key = |key: &mut String, product: &str| {
        ranking::neighbours_key_into(key, product);
    };
    update_tables(stored, updates, key, MAX_NEIGHBOURS)
}

/// Add popularity signals, each to its product's shard: an event rewrites
/// one small table, not the whole popularity list.
fn update_popularity(stored: &Stored, signals: &[(&str, f64)]) -> Result<(), HandleError> {
    let updates = signals
        .iter()
        .map(|(product, weight)| (ranking::popularity_shard(product), *product, *weight));
    let same = |key: &mut String, shard: &str| {
        key.clear();
        key.push_str(shard);
    };
    update_tables(stored, updates, same, MAX_POPULAR_PER_SHARD)?;
    Ok(())
}

/// Add weighted entries to stored tables, `(table, entry, weight)` each:
/// every touched table is taken from `stored` once (`kv_key` writes its KV
/// key into a buffer), capped to its `cap` heaviest entries, and written
/// back once. Returns the updated tables by name.
fn update_tables<'n, 's>(
    stored: &'s Stored,
    updates: impl IntoIterator<Item = (&'n str, &'n str, f64)>,
    kv_key: impl Fn(&mut String, &str),
    cap: usize,
) -> Result<FxHashMap<&'n str, Table<'s>>, HandleError> {
    let mut tables: FxHashMap<&'n str, Table<'s>> = FxHashMap::default();
    let mut key = String::new();
    for (name, entry, weight) in updates {
        let table = match tables.entry(name) {
            Entry::Occupied(read) => read.into_mut(),
            Entry::Vacant(slot) => {
                kv_key(&mut key, name);
                slot.insert(stored.table(&key)?)
            }
        };
        table.add_capped(entry, weight, cap);
    }
    let mut bytes = Vec::new();
    for (name, table) in &tables {
        bytes.clear();
        table.encode_into(&mut bytes)?;
        kv_key(&mut key, name);
        kv::set(&key, &bytes)?;
    }
    Ok(tables)
}

/// The whole popularity table from its shards (all read into `shards`),
/// read only when related products do not fill the recommendation.
fn read_popularity(shards: &Stored) -> Result<Table<'_>, HandleError> {
    let mut popularity = Table::default();
    for shard in 0..POPULARITY_SHARDS {
        popularity.append(shards.table(ranking::popularity_key(shard))?);
    }
    Ok(popularity)
}

streamplug_sdk::export_plugin!(Recommend);

#[cfg(test)]
mod tests {
    use streamplug_sdk::config::from_values;

    use super::*;

    #[test]
    fn settings_take_their_defaults_and_refuse_what_they_do_not_know() {
        let settings: Settings = from_values([("push_channel", "recs")]).unwrap();
        assert_eq!(settings.top_n, 5);
        assert_eq!(settings.topic, "recommendations");
        let recommend = Recommend::init(settings).unwrap();
        assert_eq!(recommend.settings.push_channel.as_deref(), Some("recs"));

        let unknown = from_values::<Settings>([("top", "3")]).unwrap_err();
        assert!(unknown.contains("`top`"), "{unknown}");
        let out_of_range = Recommend::init(from_values([("top_n", "0")]).unwrap()).unwrap_err();
        assert_eq!(out_of_range, "top_n must be 1 to 50, not 0");
        let empty = Recommend::init(from_values([("push_channel", "")]).unwrap()).unwrap();
        assert_eq!(empty.settings.push_channel, None);
    }
}
