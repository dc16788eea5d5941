//! Automatic canary rollback: every tick, read each canary's counters and
//! end the canary when the share of its invocations that trapped or were
//! rejected within its window exceeds its policy's threshold.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{Registry, Versioned};
use crate::runtime::stats::StatsReading;

/// Counter of canaries rolled back automatically, by plugin.
pub const CANARY_ROLLBACKS: &str = "streamplug_canary_rollbacks_total";

/// How often canaries are judged.
const TICK: Duration = Duration::from_millis(250);

/// Readings of the canaries' counters over their windows.
#[derive(Default)]
pub struct CanaryWatch {
    /// Plugin → (canary version id, readings oldest first).
    samples: HashMap<String, (String, VecDeque<(Instant, StatsReading)>)>,
}

/// A canary that was rolled back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledBack {
    /// Plugin.
    pub plugin: String,
    /// The canary's version id.
    pub version: String,
    /// Why, in words.
    pub why: String,
}

impl CanaryWatch {
    /// Judge every canary of `registry` at `now`; the canaries it rolled
    /// back.
    pub fn check<V: Versioned>(&mut self, registry: &Registry<V>, now: Instant) -> Vec<RolledBack> {
        let snapshot = registry.snapshot();
        self.samples.retain(|plugin, (id, _)| {
            snapshot
                .plugins
                .get(plugin)
                .and_then(|d| d.canary.as_ref())
                .is_some_and(|c| c.version.id() == id)
        });
        let mut rolled_back = Vec::new();
        for (plugin, deployment) in &snapshot.plugins {
            let Some(canary) = &deployment.canary else {
                continue;
            };
            let id = canary.version.id();
            let (_, samples) = self
                .samples
                .entry(plugin.clone())
                .or_insert_with(|| (id.to_owned(), VecDeque::from([canary.started])));
            let current = canary.version.stats();
            samples.push_back((now, current));
            // The baseline: the last reading at or before the window's start
            // (the canary's start while the window is not yet full).
            let window_start = now.checked_sub(canary.policy.window()).unwrap_or(now);
            while samples.len() > 2 && samples[1].0 <= window_start {
                samples.pop_front();
            }
            let window = current.since(&samples[0].1);
            let (failures, invocations) = (window.failures(), window.invocations());
            if invocations == 0 || invocations < canary.policy.min_events {
                continue;
            }
            let rate = failures as f64 / invocations as f64;
            if rate <= canary.policy.max_error_rate {
                continue;
            }
            let why = format!(
                "{failures} of its last {invocations} invocations trapped or were rejected ({:.1}% > {:.1}%)",
                rate * 100.0,
                canary.policy.max_error_rate * 100.0
            );
            if registry.end_canary(plugin, id, &why) {
                tracing::warn!(%plugin, version = %id, failures, invocations, "canary rolled back automatically");
                metrics::counter!(CANARY_ROLLBACKS, "plugin" => plugin.clone()).increment(1);
                rolled_back.push(RolledBack {
                    plugin: plugin.clone(),
                    version: id.to_owned(),
                    why,
                });
            }
        }
        rolled_back
    }

    /// Judge the canaries of `registry` every tick until `stop`.
    pub fn spawn<V: Versioned + Send + Sync + 'static>(
        tasks: &mut JoinSet<()>,
        registry: Arc<Registry<V>>,
        mut stop: watch::Receiver<bool>,
    ) {
        tasks.spawn(async move {
            let mut watch = CanaryWatch::default();
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => { watch.check(&registry, Instant::now()); }
                    _ = stop.wait_for(|s| *s) => return,
                }
            }
        });
    }
}
