//! Unit tests of the registry and the canary watch.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::*;
use crate::config::PluginManifest;
use crate::runtime::stats::StatsReading;

#[derive(Debug)]
struct Fake {
    manifest: PluginManifest,
    tag: &'static str,
    stats: Mutex<StatsReading>,
}

impl Versioned for Fake {
    fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }
    fn id(&self) -> &str {
        self.tag
    }
    fn stats(&self) -> StatsReading {
        *self.stats.lock().unwrap()
    }
}

fn version(name: &str, topics: &str, tag: &'static str) -> Arc<Fake> {
    let manifest = toml::from_str(&format!(
        "name = \"{name}\"\nwasm = \"{name}.wasm\"\nsubscribe = [{topics}]"
    ))
    .unwrap();
    Arc::new(Fake {
        manifest,
        tag,
        stats: Mutex::default(),
    })
}

fn live(registry: &Registry<Fake>, name: &str) -> &'static str {
    registry.get(name).unwrap().tag
}

#[test]
fn deploy_keeps_the_previous_version_and_rollback_swaps_them() {
    let registry = Registry::new([version("rec", "\"a\"", "v1")]);
    let mut changes = registry.changes();
    let before = registry.snapshot();
    registry.deploy(version("rec", "\"a\"", "v2")).unwrap();
    assert!(changes.has_changed().unwrap());
    changes.mark_unchanged();
    // A reader holding the old snapshot keeps its version.
    assert_eq!(before.plugins["rec"].live.tag, "v1");
    assert_eq!(live(&registry, "rec"), "v2");
    assert_eq!(registry.rollback("rec").unwrap().tag, "v1");
    assert_eq!(live(&registry, "rec"), "v1");
    // Rolling back again returns to v2: the two swap.
    assert_eq!(registry.rollback("rec").unwrap().tag, "v2");
    assert!(changes.has_changed().unwrap());
}

#[test]
fn refusals_leave_the_registry_untouched() {
    let registry = Registry::new([version("rec", "\"a\"", "v1")]);
    assert_eq!(
        registry.rollback("rec").unwrap_err(),
        RegistryError::NoPrevious("rec".into())
    );
    let err = registry
        .deploy(version("rec", "\"a\", \"b\"", "v2"))
        .unwrap_err();
    assert!(err.to_string().contains("same topics"), "{err}");
    assert_eq!(
        registry
            .deploy(version("other", "\"a\"", "v1"))
            .unwrap_err(),
        RegistryError::Unknown("other".into())
    );
    assert_eq!(live(&registry, "rec"), "v1");
    assert!(registry.deployment("rec").unwrap().previous.is_none());
    assert_eq!(*registry.changes().borrow(), 0);
}

#[test]
fn pause_resume_and_remove() {
    let registry = Registry::new([version("rec", "\"a\"", "v1")]);
    registry.set_paused("rec", true).unwrap();
    assert!(registry.deployment("rec").unwrap().paused);
    registry.set_paused("rec", false).unwrap();
    assert!(!registry.deployment("rec").unwrap().paused);
    registry.remove("rec").unwrap();
    assert!(registry.get("rec").is_none());
    assert_eq!(
        registry.remove("rec").unwrap_err(),
        RegistryError::Unknown("rec".into())
    );
}

fn policy() -> CanaryPolicy {
    CanaryPolicy {
        max_error_rate: 0.1,
        window_secs: 10,
        min_events: 10,
    }
}

#[test]
fn a_canary_takes_a_stable_share_of_the_keys_and_promotes() {
    let registry = Registry::new([version("rec", "\"a\"", "v1")]);
    registry
        .start_canary(version("rec", "\"a\"", "v2"), 20.0, policy())
        .unwrap();
    let keys: Vec<String> = (0..10_000).map(|i| format!("customer-{i}")).collect();
    let on_canary: Vec<&String> = keys
        .iter()
        .filter(|k| registry.route("rec", k).unwrap().tag == "v2")
        .collect();
    // 20 % of 10 000 keys, within a few standard deviations (σ = 40).
    assert!(
        (1850..=2150).contains(&on_canary.len()),
        "{}",
        on_canary.len()
    );
    // Stable: the same keys again, and a larger share keeps them.
    registry
        .start_canary(version("rec", "\"a\"", "v2"), 50.0, policy())
        .unwrap();
    assert!(
        on_canary
            .iter()
            .all(|k| registry.route("rec", k).unwrap().tag == "v2")
    );
    assert_eq!(live(&registry, "rec"), "v1");
    // A deploy waits for the canary's end.
    assert!(matches!(
        registry.deploy(version("rec", "\"a\"", "v3")),
        Err(RegistryError::CanaryRunning { .. })
    ));
    assert_eq!(registry.promote("rec").unwrap().tag, "v2");
    assert!(
        keys.iter()
            .all(|k| registry.route("rec", k).unwrap().tag == "v2")
    );
    assert_eq!(
        registry.deployment("rec").unwrap().previous.unwrap().tag,
        "v1"
    );
    assert_eq!(
        registry.promote("rec").unwrap_err(),
        RegistryError::NoCanary("rec".into())
    );
}

#[test]
fn rollback_ends_a_canary_before_it_touches_the_live_version() {
    let registry = Registry::new([version("rec", "\"a\"", "v1")]);
    registry.deploy(version("rec", "\"a\"", "v2")).unwrap();
    registry
        .start_canary(version("rec", "\"a\"", "v3"), 100.0, policy())
        .unwrap();
    assert_eq!(registry.route("rec", "anyone").unwrap().tag, "v3");
    assert_eq!(registry.rollback("rec").unwrap().tag, "v2");
    assert_eq!(registry.route("rec", "anyone").unwrap().tag, "v2");
    assert_eq!(registry.rollback("rec").unwrap().tag, "v1");
    let history: Vec<String> = registry
        .deployment("rec")
        .unwrap()
        .history
        .iter()
        .map(|c| c.what.clone())
        .collect();
    assert_eq!(
        history,
        [
            "deployed v2",
            "canary v3 on 100% of keys",
            "rolled back canary v3",
            "rolled back to v1"
        ]
    );
    for bad in [0.0, -1.0, 100.5, f64::NAN] {
        assert!(matches!(
            registry.start_canary(version("rec", "\"a\"", "v3"), bad, policy()),
            Err(RegistryError::Share(_))
        ));
    }
    assert!(matches!(
        registry.start_canary(version("rec", "\"a\"", "v1"), 5.0, policy()),
        Err(RegistryError::AlreadyLive { .. })
    ));
}

fn set(v: &Fake, ok: u64, trap: u64) {
    *v.stats.lock().unwrap() = StatsReading {
        ok,
        trap,
        ..StatsReading::default()
    };
}

#[test]
fn the_watch_rolls_back_a_canary_failing_within_its_window() {
    let registry = Registry::new([version("rec", "\"a\"", "v1")]);
    let canary = version("rec", "\"a\"", "v2");
    registry
        .start_canary(canary.clone(), 10.0, policy())
        .unwrap();
    let mut watch = canary_watch::CanaryWatch::default();
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    // Too few invocations to judge, however bad.
    set(&canary, 0, 5);
    assert!(watch.check(&registry, at(1)).is_empty());
    // Failures long ago leave the window: 5 traps, then 100 good events
    // more than a window later.
    set(&canary, 100, 5);
    assert!(watch.check(&registry, at(12)).is_empty());
    set(&canary, 200, 5);
    assert!(watch.check(&registry, at(23)).is_empty());
    // Judged against the last reading at or before the window's start
    // (t = 12): 25 of 134 trapped, 18.7 % > 10 %.
    set(&canary, 209, 30);
    let rolled = watch.check(&registry, at(25));
    assert_eq!(rolled.len(), 1, "{rolled:?}");
    assert!(
        rolled[0].why.starts_with("25 of its last 134"),
        "{}",
        rolled[0].why
    );
    assert!(registry.deployment("rec").unwrap().canary.is_none());
    assert_eq!(live(&registry, "rec"), "v1");
    assert!(watch.check(&registry, at(26)).is_empty());
}

#[test]
fn a_healthy_canary_stays() {
    let registry = Registry::new([version("rec", "\"a\"", "v1")]);
    let canary = version("rec", "\"a\"", "v2");
    registry
        .start_canary(canary.clone(), 10.0, policy())
        .unwrap();
    let mut watch = canary_watch::CanaryWatch::default();
    set(&canary, 95, 5); // 5 % ≤ 10 %
    assert!(watch.check(&registry, Instant::now()).is_empty());
    assert!(registry.deployment("rec").unwrap().canary.is_some());
}
