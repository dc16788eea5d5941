//! A deployed plugin as `GET /v1/plugins` and the admin API show it: one
//! type for the server that writes it, the CLI that reads it and the
//! OpenAPI document that describes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::{PluginLimits, RetryPolicy};
use crate::dispatch::Ownership;
use crate::registry::{CanaryPolicy, Change, Deployment, Registry};
use crate::runtime::stats::StatsReading;

/// One deployed plugin.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeploymentView {
    /// The plugin's name.
    pub name: String,
    /// The live version's id.
    pub version: String,
    /// The live component's digest, `sha256:<hex>`.
    pub digest: String,
    /// `running` or `paused`.
    pub state: DeploymentState,
    /// The version a rollback goes back to.
    pub previous: Option<String>,
    /// A canary taking a share of the keys.
    pub canary: Option<CanaryView>,
    /// Topics it consumes.
    pub subscribe: Vec<String>,
    /// Event types it is handed (empty: all).
    pub types: Vec<String>,
    /// Topics it may publish to.
    pub publish: Vec<String>,
    /// Channels it may push to customers on.
    pub push_channels: Vec<String>,
    /// Origins it may call.
    pub allowed_hosts: Vec<String>,
    /// Where events it cannot handle go.
    pub dead_letter_topic: String,
    /// Its resource limits.
    pub limits: PluginLimits,
    /// Its redelivery policy.
    pub retry: RetryPolicy,
    /// How long offsets that no effect carried may stay uncommitted,
    /// milliseconds (`0`: every batch commits). A gateway older than the
    /// field does not send it; read as `0` then.
    #[serde(default)]
    pub commit_interval_ms: u64,
    /// Warm instances of the live version.
    pub idle_instances: usize,
    /// What the live version did since it was loaded.
    pub stats: StatsReading,
    /// A shadow version getting copies of the events.
    pub shadow: Option<ShadowView>,
    /// Its pending timers.
    #[serde(default)]
    pub timers: TimersView,
    /// Topic → the partitions this instance consumes for it.
    pub partitions: BTreeMap<String, Vec<u32>>,
    /// Recent changes, oldest first.
    pub history: Vec<Change>,
}

/// A plugin's pending timers: those of the partitions this instance
/// consumes (every partition on the embedded log).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct TimersView {
    /// How many are pending.
    pub pending: u64,
    /// When the next is due (RFC 3339), if any is pending.
    pub next_due: Option<String>,
    /// How many it may have pending (`limits.max_timers`).
    pub limit: u32,
}

/// Whether a plugin's events are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentState {
    /// Handling events.
    Running,
    /// Paused: events wait.
    Paused,
}

impl DeploymentState {
    /// As the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
        }
    }
}

/// A canary version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CanaryView {
    /// Its version id.
    pub version: String,
    /// Its component's digest, `sha256:<hex>`.
    pub digest: String,
    /// The share of the keys it takes, percent.
    pub percent: f64,
    /// When it is rolled back on its own.
    pub policy: CanaryPolicy,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// What it did since it started.
    pub stats: StatsReading,
}

/// A shadow version and how its calls compared with the live version's.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ShadowView {
    /// Its version id.
    pub version: String,
    /// The share of the keys it shadows, percent.
    pub percent: f64,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Calls compared.
    pub compared: u64,
    /// Calls whose effects were the same.
    pub same: u64,
    /// Calls whose effects differed.
    pub different: u64,
}

impl DeploymentView {
    /// `d` as shown, with the partitions `ownership` gives it here.
    pub fn of(d: &Deployment, ownership: &Ownership) -> Self {
        let (v, m) = (&d.live, &d.live.manifest);
        Self {
            name: m.name.clone(),
            version: v.id.clone(),
            digest: format!("sha256:{}", v.digest),
            state: if d.paused {
                DeploymentState::Paused
            } else {
                DeploymentState::Running
            },
            previous: d.previous.as_ref().map(|p| p.id.clone()),
            canary: d.canary.as_ref().map(|c| CanaryView {
                version: c.version.id.clone(),
                digest: format!("sha256:{}", c.version.digest),
                percent: c.percent(),
                policy: c.policy,
                started_at: c.started_at.clone(),
                stats: c.version.stats.read().since(&c.started.1),
            }),
            subscribe: m.subscribe.clone(),
            types: m.types.clone(),
            publish: m.publish.clone(),
            push_channels: m.push_channels.clone(),
            allowed_hosts: m.allowed_hosts.clone(),
            dead_letter_topic: m.dead_letter_topic(),
            limits: m.limits.clone(),
            retry: m.retry.clone(),
            commit_interval_ms: m.commit_interval_millis(),
            idle_instances: v.idle_instances(),
            stats: v.stats.read(),
            shadow: d.shadow.as_ref().map(|s| {
                let (compared, same, different) = s.report.counts();
                ShadowView {
                    version: s.version.id.clone(),
                    percent: s.percent(),
                    started_at: s.started_at.clone(),
                    compared,
                    same,
                    different,
                }
            }),
            timers: TimersView {
                pending: v.context.timers.pending(),
                next_due: v
                    .context
                    .timers
                    .next_due_ms()
                    .map(crate::clock::rfc3339_of_millis),
                limit: m.limits.max_timers,
            },
            partitions: ownership.of(&m.name),
            history: d.history.iter().cloned().collect(),
        }
    }

    /// Every deployment of `registry`, by name.
    pub fn all(registry: &Registry, ownership: &Ownership) -> Vec<Self> {
        registry
            .snapshot()
            .plugins
            .values()
            .map(|d| Self::of(d, ownership))
            .collect()
    }
}
