//! Tests of the recommendation model ([`super`]).

use super::*;

fn apply(pairs: &[Pair], model: &mut BTreeMap<String, Neighbours>) {
    for p in pairs {
        model
            .entry(p.a.clone())
            .or_default()
            .add_capped(&p.b, p.weight, MAX_NEIGHBOURS);
    }
}

#[test]
fn products_viewed_together_recommend_each_other() {
    let mut model = BTreeMap::new();
    let mut alice = Profile::default();
    for p in ["shoes", "socks", "laces"] {
        let pairs = alice.interact(p, VIEW_WEIGHT);
        apply(&pairs, &mut model);
    }
    let mut bob = Profile::default();
    apply(&bob.interact("shoes", VIEW_WEIGHT), &mut model);
    let recs = rank(&bob, &model, &Table::default(), 5);
    let names: Vec<_> = recs.iter().map(|r| r.product.as_str()).collect();
    assert_eq!(names, ["laces", "socks"]);
    assert!(recs.iter().all(|r| r.reason == "related"));
}

#[test]
fn bought_and_current_products_are_never_recommended() {
    let mut model = BTreeMap::new();
    let mut c = Profile::default();
    apply(&c.buy(&["tent".into(), "stove".into()]), &mut model);
    apply(&c.interact("tent", CART_WEIGHT), &mut model);
    apply(&c.interact("lamp", VIEW_WEIGHT), &mut model);
    let recs = rank(
        &c,
        &model,
        &Table::from([("stove".into(), 9.0), ("mat".into(), 1.0)]),
        5,
    );
    let names: Vec<_> = recs.iter().map(|r| r.product.as_str()).collect();
    // tent and stove were bought, lamp is on screen: only mat is left.
    assert_eq!(names, ["mat"]);
}

#[test]
fn recent_activity_counts_more_than_old_activity() {
    let mut model: BTreeMap<String, Neighbours> = BTreeMap::new();
    model.insert("old".into(), Table::from([("a".into(), 1.0)]));
    model.insert("new".into(), Table::from([("b".into(), 1.0)]));
    let c = Profile {
        recent: vec!["old".into(), "new".into(), "now".into()],
        bought: vec![],
    };
    let recs = rank(&c, &model, &Table::default(), 2);
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
    let recs = rank(&c, &BTreeMap::new(), &pop, 5);
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
        c.interact(&format!("p{i}"), VIEW_WEIGHT);
    }
    assert_eq!(c.recent.len(), MAX_RECENT);
    assert_eq!(c.recent.last().map(String::as_str), Some("p24"));
}

#[test]
fn pairs_form_only_with_the_latest_recent_products() {
    let mut c = Profile::default();
    for i in 0..10 {
        c.interact(&format!("p{i}"), VIEW_WEIGHT);
    }
    let pairs = c.interact("now", VIEW_WEIGHT);
    assert_eq!(pairs.len(), 2 * PAIR_WINDOW);
    let partners: Vec<_> = pairs
        .iter()
        .filter(|p| p.a == "now")
        .map(|p| p.b.as_str())
        .collect();
    assert_eq!(partners, ["p9", "p8", "p7", "p6", "p5"]);
}

#[test]
fn ranking_consults_only_the_latest_recent_products() {
    let mut model: BTreeMap<String, Neighbours> = BTreeMap::new();
    let recent: Vec<String> = (0..=RANK_WINDOW).map(|i| format!("r{i}")).collect();
    // The oldest recent product, outside the window, has a neighbour.
    model.insert("r0".into(), Table::from([("old-news".into(), 9.0)]));
    model.insert("r1".into(), Table::from([("fresh".into(), 1.0)]));
    let c = Profile {
        recent,
        bought: vec![],
    };
    let names: Vec<_> = related(&c, &model, 5)
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
}
