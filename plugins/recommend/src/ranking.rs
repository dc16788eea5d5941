//! The recommendation model, as plain functions: item-to-item co-occurrence
//! within a customer's recent activity and orders, weighted by how strong
//! the signal is, with global popularity as the fallback.

use std::cmp::Ordering;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::table::{Table, product_id};

/// Weight of a product view.
pub const VIEW_WEIGHT: f64 = 1.0;
/// Weight of a cart addition.
pub const CART_WEIGHT: f64 = 3.0;
/// Weight of products bought together.
pub const ORDER_WEIGHT: f64 = 5.0;
/// Products remembered per customer as recent activity.
pub const MAX_RECENT: usize = 20;
/// Products remembered per customer as bought.
pub const MAX_BOUGHT: usize = 500;
/// Neighbours kept per product (the strongest).
pub const MAX_NEIGHBOURS: usize = 50;
/// Products kept in the popularity table (the most popular).
pub const MAX_POPULAR: usize = 512;
/// Shards of the popularity table: a product's signal rewrites only its own.
pub const POPULARITY_SHARDS: u32 = 8;
/// Products kept per popularity shard.
pub const MAX_POPULAR_PER_SHARD: usize = MAX_POPULAR / POPULARITY_SHARDS as usize;
/// Recent products a new interaction forms co-occurrence pairs with (the
/// latest ones): what a customer looked at just before counts as related.
pub const PAIR_WINDOW: usize = 5;
/// Recent products whose neighbours the ranking consults (the latest ones;
/// older ones would count less than `RECENCY_DECAY^RANK_WINDOW`).
pub const RANK_WINDOW: usize = 10;
/// How much less each older recent item counts.
pub const RECENCY_DECAY: f64 = 0.8;

/// What the plugin remembers of one customer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Recently viewed or carted products, oldest first, no repeats.
    pub recent: Vec<String>,
    /// Products the customer bought.
    pub bought: Vec<String>,
}

/// Weighted neighbours of one product (products seen with it).
pub type Neighbours<'a> = Table<'a>;

/// The neighbour tables a ranking consults, by product.
pub type Related<'p, 't> = FxHashMap<&'p str, Neighbours<'t>>;

/// One co-occurrence to add: `a` was seen with `b` with `weight` (the
/// names borrow the profile or the order they come from).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair<'a> {
    /// One product.
    pub a: &'a str,
    /// The other.
    pub b: &'a str,
    /// Signal strength.
    pub weight: f64,
}

/// One recommended product.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Product id.
    pub product: String,
    /// Score (higher is better).
    pub score: f64,
    /// `related` (co-occurrence with recent activity) or `popular`.
    pub reason: &'static str,
}

impl Profile {
    /// Record that the customer interacted with `product`: it becomes the
    /// latest recent product ([`Self::latest_pairs`] are the pairs it
    /// forms).
    pub fn interact(&mut self, product: &str) {
        self.recent.retain(|p| p != product);
        self.recent.push(product.to_owned());
        if self.recent.len() > MAX_RECENT {
            let excess = self.recent.len() - MAX_RECENT;
            self.recent.drain(..excess);
        }
    }

    /// The pairs (both directions, of `weight`) the latest recent product
    /// forms with the [`PAIR_WINDOW`] recent products before it, latest
    /// first: what the interaction [`Self::interact`] recorded adds to the
    /// model.
    pub fn latest_pairs(&self, weight: f64) -> Vec<Pair<'_>> {
        let Some((latest, before)) = self.recent.split_last() else {
            return Vec::new();
        };
        before
            .iter()
            .rev()
            .take(PAIR_WINDOW)
            .flat_map(|p| both_ways(p, latest, weight))
            .collect()
    }

    /// Record an order of `products` ([`order_pairs`] are the pairs it
    /// forms).
    pub fn buy(&mut self, products: &[String]) {
        for p in products {
            if !self.bought.contains(p) {
                self.bought.push(p.clone());
            }
        }
        if self.bought.len() > MAX_BOUGHT {
            let excess = self.bought.len() - MAX_BOUGHT;
            self.bought.drain(..excess);
        }
    }
}

/// The pairs (both directions) among the products of one order.
pub fn order_pairs(products: &[String]) -> Vec<Pair<'_>> {
    let mut pairs = Vec::new();
    for (i, a) in products.iter().enumerate() {
        for b in &products[i + 1..] {
            if a != b {
                pairs.extend(both_ways(a, b, ORDER_WEIGHT));
            }
        }
    }
    pairs
}

fn both_ways<'a>(a: &'a str, b: &'a str, weight: f64) -> [Pair<'a>; 2] {
    [Pair { a, b, weight }, Pair { a: b, b: a, weight }]
}

/// The KV keys of the popularity shards (`pop:<shard>`).
const POPULARITY_KEYS: [&str; POPULARITY_SHARDS as usize] = [
    "pop:0", "pop:1", "pop:2", "pop:3", "pop:4", "pop:5", "pop:6", "pop:7",
];

/// The KV key of the popularity shard `product` belongs to (FNV-1a of its
/// name, so every instance and version agrees).
pub fn popularity_shard(product: &str) -> &'static str {
    let hash = product.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    popularity_key(hash % POPULARITY_SHARDS)
}

/// The KV key of `product`'s neighbour table.
pub fn neighbours_key(product: &str) -> String {
    let mut key = String::new();
    neighbours_key_into(&mut key, product);
    key
}

/// Write the KV key of `product`'s neighbour table into `key` (a buffer
/// reused across lookups: an event looks up a few dozen tables).
pub fn neighbours_key_into<'k>(key: &'k mut String, product: &str) -> &'k str {
    const PREFIX: &str = "co:";
    key.clear();
    key.reserve(PREFIX.len() + product.len());
    key.push_str(PREFIX);
    key.push_str(product);
    key
}

/// The KV keys of the neighbour tables of `products`, each once.
pub fn neighbours_keys<'a>(products: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = FxHashSet::default();
    products
        .into_iter()
        .filter(|p| seen.insert(*p))
        .map(neighbours_key)
        .collect()
}

/// The KV key of popularity shard `shard` (of [`POPULARITY_SHARDS`]).
pub fn popularity_key(shard: u32) -> &'static str {
    POPULARITY_KEYS[shard as usize % POPULARITY_KEYS.len()]
}

/// The recent products whose neighbours a ranking consults, latest first.
pub fn window(profile: &Profile) -> impl Iterator<Item = &str> {
    profile
        .recent
        .iter()
        .rev()
        .take(RANK_WINDOW)
        .map(String::as_str)
}

/// The top `n` products for `profile`: products related to its recent
/// activity (more recent counts more), then popular ones; never what the
/// customer bought or is looking at right now.
pub fn rank(
    profile: &Profile,
    neighbours: &Related<'_, '_>,
    popularity: &Table<'_>,
    n: usize,
) -> Vec<Scored> {
    let mut ranked = related(profile, neighbours, n);
    fill_with_popular(&mut ranked, profile, popularity, n);
    ranked
}

/// What must not be recommended to a profile: what it bought, and what is
/// on screen right now, by product id. Built once per ranking (a
/// customer's purchases are up to [`MAX_BOUGHT`], and every candidate is
/// checked).
struct Excluded {
    bought: FxHashSet<u64>,
    on_screen: Option<u64>,
}

impl Excluded {
    fn of(profile: &Profile) -> Self {
        Self {
            bought: profile.bought.iter().map(|p| product_id(p)).collect(),
            on_screen: profile.recent.last().map(|p| product_id(p)),
        }
    }

    fn contains(&self, id: u64) -> bool {
        self.on_screen == Some(id) || self.bought.contains(&id)
    }
}

/// A product being ranked: its score so far and its stored name.
struct Candidate<'t> {
    score: f64,
    name: &'t [u8],
}

/// Up to `n` products related to the recent activity of `profile`, best
/// first.
pub fn related(profile: &Profile, neighbours: &Related<'_, '_>, n: usize) -> Vec<Scored> {
    // Candidates are scored by product id in a fast (Fx) hash map: a few
    // hundred of them every event, room made for all at once; names are
    // compared only to order equal scores.
    let tables: Vec<Option<&Neighbours<'_>>> =
        window(profile).map(|item| neighbours.get(item)).collect();
    let mut scores: FxHashMap<u64, Candidate<'_>> = FxHashMap::default();
    scores.reserve(tables.iter().flatten().map(|t| t.len()).sum());
    for (age, table) in tables.into_iter().enumerate() {
        let decay = RECENCY_DECAY.powi(i32::try_from(age).unwrap_or(i32::MAX));
        let Some(table) = table else {
            continue;
        };
        for entry in table.iter() {
            let candidate = scores.entry(entry.id).or_insert(Candidate {
                score: 0.0,
                name: &entry.name,
            });
            candidate.score += entry.weight * decay;
        }
    }
    let excluded = Excluded::of(profile);
    let mut ranked: Vec<Candidate<'_>> = scores
        .into_iter()
        .filter(|(id, _)| !excluded.contains(*id))
        .map(|(_, c)| Candidate {
            score: round(c.score),
            name: c.name,
        })
        .collect();
    // Only the best `n` are sorted and named.
    let best = |a: &Candidate<'_>, b: &Candidate<'_>| by_score(a.score, a.name, b.score, b.name);
    if ranked.len() > n && n > 0 {
        ranked.select_nth_unstable_by(n - 1, best);
    }
    ranked.truncate(n);
    ranked.sort_by(best);
    ranked
        .into_iter()
        .map(|c| Scored {
            product: String::from_utf8_lossy(c.name).into_owned(),
            score: c.score,
            reason: "related",
        })
        .collect()
}

/// Fill `ranked` up to `n` with the most popular products it lacks.
pub fn fill_with_popular(
    ranked: &mut Vec<Scored>,
    profile: &Profile,
    popularity: &Table<'_>,
    n: usize,
) {
    if ranked.len() < n {
        let excluded = Excluded::of(profile);
        let taken: FxHashSet<u64> = ranked.iter().map(|r| product_id(&r.product)).collect();
        let mut popular: Vec<Scored> = popularity
            .iter()
            .filter(|e| !excluded.contains(e.id) && !taken.contains(&e.id))
            .map(|e| Scored {
                product: e.product().into_owned(),
                score: round(e.weight),
                reason: "popular",
            })
            .collect();
        sort(&mut popular);
        let missing = n - ranked.len();
        ranked.extend(popular.into_iter().take(missing));
    }
}

fn sort(list: &mut [Scored]) {
    list.sort_by(|a, b| by_score(a.score, a.product.as_bytes(), b.score, b.product.as_bytes()));
}

/// The order of recommendations: higher score first, then by name (bytes
/// sort as their UTF-8 text does).
fn by_score(a_score: f64, a: &[u8], b_score: f64, b: &[u8]) -> Ordering {
    b_score.total_cmp(&a_score).then_with(|| a.cmp(b))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
#[path = "ranking_tests.rs"]
mod tests;
