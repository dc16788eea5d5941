//! What runs for one plugin: the live version, the one before it, an
//! optional canary taking a stable share of the keys, whether it is paused,
//! and the recent changes.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::clock::now_rfc3339;
use crate::config::PluginManifest;
use crate::runtime::plugin::PluginVersion;
use crate::runtime::stats::StatsReading;
use crate::shadow::ShadowReport;

/// A plugin version as the registry sees it.
pub trait Versioned {
    /// The manifest it was loaded with.
    fn manifest(&self) -> &PluginManifest;
    /// Its version id.
    fn id(&self) -> &str;
    /// What it did since it was loaded.
    fn stats(&self) -> StatsReading;
}

impl Versioned for PluginVersion {
    fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn stats(&self) -> StatsReading {
        self.stats.read()
    }
}

/// How many changes a deployment remembers.
pub const HISTORY_LEN: usize = 20;

/// When a canary is rolled back on its own.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CanaryPolicy {
    /// Roll back when more than this share (0..=1) of the canary's
    /// invocations in the window trapped or were rejected.
    pub max_error_rate: f64,
    /// The window, in seconds.
    pub window_secs: u64,
    /// Judge only once the window holds at least this many invocations.
    pub min_events: u64,
}

impl Default for CanaryPolicy {
    fn default() -> Self {
        Self {
            max_error_rate: 0.05,
            window_secs: 60,
            min_events: 20,
        }
    }
}

impl CanaryPolicy {
    /// The window as a duration.
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.window_secs.max(1))
    }
}

/// A candidate version taking a share of the keys.
pub struct Canary<V = PluginVersion> {
    /// The candidate.
    pub version: Arc<V>,
    /// Its share of the keys, in basis points (1/100 of a percent).
    pub basis_points: u32,
    /// When it is rolled back on its own.
    pub policy: CanaryPolicy,
    /// When it started, and its counters then.
    pub started: (Instant, StatsReading),
    /// The same start as wall-clock time (RFC 3339), for people.
    pub started_at: String,
}

impl<V> Clone for Canary<V> {
    fn clone(&self) -> Self {
        Self {
            version: self.version.clone(),
            basis_points: self.basis_points,
            policy: self.policy,
            started: self.started,
            started_at: self.started_at.clone(),
        }
    }
}

impl<V> Canary<V> {
    /// Its share of the keys in percent.
    pub fn percent(&self) -> f64 {
        f64::from(self.basis_points) / 100.0
    }

    /// Whether events of `key` go to the canary.
    pub fn takes(&self, key: &str) -> bool {
        key_bucket(key) < self.basis_points
    }
}

/// The bucket (0..10 000) of a routing key: FNV-1a, fixed across processes
/// and versions, so a key stays on the same side of a canary everywhere and
/// a larger share keeps the keys a smaller one had.
pub fn key_bucket(key: &str) -> u32 {
    let hash = crate::hash::fnv1a_64(key.as_bytes());
    // Fold the high bits in: FNV's low bits mix poorly for short keys.
    u32::try_from((hash ^ (hash >> 32)) % 10_000).unwrap_or(0)
}

/// A candidate version getting copies of the events, its effects captured.
pub struct Shadow<V = PluginVersion> {
    /// The candidate.
    pub version: Arc<V>,
    /// The share of the keys it shadows, in basis points.
    pub basis_points: u32,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// How its effects compared with the live version's.
    pub report: Arc<ShadowReport>,
}

impl<V> Clone for Shadow<V> {
    fn clone(&self) -> Self {
        Self {
            version: self.version.clone(),
            basis_points: self.basis_points,
            started_at: self.started_at.clone(),
            report: self.report.clone(),
        }
    }
}

impl<V> Shadow<V> {
    /// Its share of the keys in percent.
    pub fn percent(&self) -> f64 {
        f64::from(self.basis_points) / 100.0
    }
}

/// One remembered change.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    /// When (RFC 3339).
    pub at: String,
    /// What happened, in words.
    pub what: String,
}

/// What runs for one plugin.
pub struct Deployment<V = PluginVersion> {
    /// The version events go to (all of them, or those the canary does
    /// not take).
    pub live: Arc<V>,
    /// The version the last deploy or promotion replaced: what a rollback
    /// returns to.
    pub previous: Option<Arc<V>>,
    /// A candidate taking a share of the keys.
    pub canary: Option<Canary<V>>,
    /// A candidate shadowing the live version.
    pub shadow: Option<Shadow<V>>,
    /// Paused: its workers take no new batch until it is resumed.
    pub paused: bool,
    /// Recent changes, oldest first.
    pub history: VecDeque<Change>,
}

impl<V> Clone for Deployment<V> {
    fn clone(&self) -> Self {
        Self {
            live: self.live.clone(),
            previous: self.previous.clone(),
            canary: self.canary.clone(),
            shadow: self.shadow.clone(),
            paused: self.paused,
            history: self.history.clone(),
        }
    }
}

impl<V> Deployment<V> {
    /// A deployment running `live`.
    pub fn new(live: Arc<V>) -> Self {
        Self {
            live,
            previous: None,
            canary: None,
            shadow: None,
            paused: false,
            history: VecDeque::new(),
        }
    }

    /// The version an event with routing key `key` goes to.
    pub fn version_for(&self, key: &str) -> &Arc<V> {
        match &self.canary {
            Some(canary) if canary.takes(key) => &canary.version,
            _ => &self.live,
        }
    }

    /// The shadow that gets a copy of the events of `key`, if any.
    pub fn shadow_for(&self, key: &str) -> Option<&Shadow<V>> {
        self.shadow
            .as_ref()
            .filter(|s| key_bucket(key) < s.basis_points)
    }

    /// Remember `what`.
    pub fn note(&mut self, what: String) {
        if self.history.len() == HISTORY_LEN {
            self.history.pop_front();
        }
        self.history.push_back(Change {
            at: now_rfc3339(),
            what,
        });
    }
}
