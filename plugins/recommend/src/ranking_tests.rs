//! Tests of the recommendation model ([`super`]).

use std::collections::BTreeMap;

use super::*;

/// A model as tests build it: tables by product.
type Model = BTreeMap<String, Neighbours<'static>>;

fn apply(pairs: &[Pair], model: &mut Model) {
    for p in pairs {
        model
            .entry(p.a.to_owned())
            .or_default()
            .add_capped(p.b, p.weight, MAX_NEIGHBOURS);
    }
}

/// `profile` interacts with `product` (a view's weight unless given);
/// the pairs it forms go into `model`.
fn view(profile: &mut Profile, product: &str, weight: f64, model: &mut Model) {
    profile.interact(product);
    apply(&profile.latest_pairs(weight), model);
}

/// The tables of `model` as a ranking takes them.
fn related_of(model: &Model) -> Related<'_, 'static> {
    model.iter().map(|(k, v)| (k.as_str(), v.clone())).collect()
}

#[test]
fn products_viewed_together_recommend_each_other() {
    let mut model = BTreeMap::new();
    let mut alice = Profile::default();
    for p in ["shoes", "socks", "laces"] {
        view(&mut alice, p, VIEW_WEIGHT, &mut model);
    }
    let mut bob = Profile::default();
    view(&mut bob, "shoes", VIEW_WEIGHT, &mut model);
    let recs = rank(&bob, &related_of(&model), &Table::default(), 5);
    let names: Vec<_> = recs.iter().map(|r| r.product.as_str()).collect();
    assert_eq!(names, ["laces", "socks"]);
    assert!(recs.iter().all(|r| r.reason == "related"));
}

#[test]
fn bought_and_current_products_are_never_recommended() {
    let mut model = BTreeMap::new();
    let mut c = Profile::default();
    let order = ["tent".to_owned(), "stove".to_owned()];
    c.buy(&order);
    apply(&order_pairs(&order), &mut model);
    view(&mut c, "tent", CART_WEIGHT, &mut model);
    view(&mut c, "lamp", VIEW_WEIGHT, &mut model);
    let recs = rank(
        &c,
        &related_of(&model),
        &Table::from([("stove".into(), 9.0), ("mat".into(), 1.0)]),
        5,
    );
    let names: Vec<_> = recs.iter().map(|r| r.product.as_str()).collect();
    // tent and stove were bought, lamp is on screen: only mat is left.
    assert_eq!(names, ["mat"]);
}

#[test]
fn recent_activity_counts_more_than_old_activity() {
    let mut model = Model::new();
    model.insert("old".into(), Table::from([("a".into(), 1.0)]));
    model.insert("new".into(), Table::from([("b".into(), 1.0)]));
    let c = Profile {
        recent: vec!["old".into(), "new".into(), "now".into()],
        bought: vec![],
    };
    let recs = rank(&c, &related_of(&model), &Table::default(), 2);
    assert_eq!(recs[0].product, "b");
    assert!(recs[0].score > recs[1].score);
}

#[test]
fn popularity_fills_up_to_n_without_repeats() {
    let pop = Table::from([("x".into(), 3.0), ("y".into(), 2.0), ("z".into(), 1.0)]);
    let c = Profile {
        recent: vec!["x".into()],
        bought: vec!["y".into()],
    };
    let recs = rank(&c, &Related::default(), &pop, 5);
    let names: Vec<_> = recs.iter().map(|r| r.product.as_str()).collect();
    assert_eq!(names, ["z"]);
}

#[test]
fn tables_and_histories_stay_bounded() {
    let mut t = Table::default();
    for i in 0..10 {
        t.add_capped(&format!("p{i}"), f64::from(i), 3);
    }
    let mut kept: Vec<_> = t.iter().map(|e| e.product()).collect();
    kept.sort();
    assert_eq!(kept, ["p7", "p8", "p9"]);
    let mut c = Profile::default();
    for i in 0..(MAX_RECENT + 5) {
        c.interact(&format!("p{i}"));
    }
    assert_eq!(c.recent.len(), MAX_RECENT);
    assert_eq!(c.recent.last().map(String::as_str), Some("p24"));
}

#[test]
fn pairs_form_only_with_the_latest_recent_products() {
    let mut c = Profile::default();
    assert_eq!(c.latest_pairs(VIEW_WEIGHT), [], "no product yet");
    c.interact("p0");
    assert_eq!(c.latest_pairs(VIEW_WEIGHT), [], "nothing before the first");
    for i in 1..10 {
        c.interact(&format!("p{i}"));
    }
    // A product seen again pairs with what came before it this time.
    c.interact("p3");
    c.interact("now");
    let pairs = c.latest_pairs(CART_WEIGHT);
    assert_eq!(pairs.len(), 2 * PAIR_WINDOW);
    assert!(pairs.iter().all(|p| p.weight == CART_WEIGHT));
    let partners: Vec<_> = pairs.iter().filter(|p| p.a == "now").map(|p| p.b).collect();
    assert_eq!(partners, ["p3", "p9", "p8", "p7", "p6"]);
    let back: Vec<_> = pairs.iter().filter(|p| p.b == "now").map(|p| p.a).collect();
    assert_eq!(back, partners);
}

#[test]
fn ranking_consults_only_the_latest_recent_products() {
    let mut model = Model::new();
    let recent: Vec<String> = (0..=RANK_WINDOW).map(|i| format!("r{i}")).collect();
    // The oldest recent product, outside the window, has a neighbour.
    model.insert("r0".into(), Table::from([("old-news".into(), 9.0)]));
    model.insert("r1".into(), Table::from([("fresh".into(), 1.0)]));
    let c = Profile {
        recent,
        bought: vec![],
    };
    let names: Vec<_> = related(&c, &related_of(&model), 5)
        .into_iter()
        .map(|r| r.product)
        .collect();
    assert_eq!(names, ["fresh"]);
}

#[test]
fn every_product_has_one_stable_popularity_shard() {
    let shards: std::collections::BTreeSet<_> = (0..200)
        .map(|i| popularity_shard(&format!("p{i}")))
        .collect();
    assert_eq!(shards.len(), POPULARITY_SHARDS as usize);
    assert!(shards.iter().all(|s| s.starts_with("pop:")));
    assert_eq!(popularity_shard("tent"), popularity_shard("tent"));
    assert_eq!(neighbours_key("tent"), "co:tent");
    // The shard keys are stored names: `pop:<shard>`, as always.
    for shard in 0..POPULARITY_SHARDS {
        assert_eq!(popularity_key(shard), format!("pop:{shard}"));
    }
    let mut key = String::from("leftover");
    assert_eq!(neighbours_key_into(&mut key, "lamp"), "co:lamp");
    assert_eq!(
        neighbours_keys(["a", "b", "a"]),
        ["co:a", "co:b"],
        "each table once"
    );
}

#[test]
fn an_order_pairs_each_two_of_its_distinct_products_both_ways() {
    let order = ["tent".to_owned(), "stove".to_owned(), "tent".to_owned()];
    let pairs = order_pairs(&order);
    let mut seen: Vec<_> = pairs.iter().map(|p| (p.a, p.b)).collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        [
            ("stove", "tent"),
            ("stove", "tent"),
            ("tent", "stove"),
            ("tent", "stove")
        ]
    );
    assert!(pairs.iter().all(|p| p.weight == ORDER_WEIGHT));
    let mut c = Profile::default();
    c.buy(&order);
    assert_eq!(c.bought, ["tent", "stove"]);
}
