//! Shadow mode: a candidate version gets a copy of the events the live
//! version handles and runs on them with its effects captured, never
//! executed: its publishes, pushes and KV writes are staged and dropped, its
//! outbound requests recorded and never sent (a request the live version
//! made too gets the live answer replayed, any other a `503`). What it
//! did is compared with what the live version did on the same event (see
//! [`EffectSummary`]); the report counts both and keeps the latest
//! differences.
//!
//! The shadow runs inline, right after the live version's final attempt of
//! an event and before that event's effects are accepted, so it sees the KV
//! state the live version saw (the batch's staged writes included). The
//! stream pays the shadow's handling time while shadow mode is on; a share
//! of the keys can be shadowed instead of all of them.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

pub use crate::runtime::summary::EffectSummary;

use crate::event::StoredEvent;
use crate::runtime::effects::{Effects, Staged};
use crate::runtime::outbound::CallMode;
use crate::runtime::plugin::{Outcome, PluginVersion};
use crate::runtime::stats::{StatsReading, VersionStats};

/// Differences a report keeps (the latest).
pub const DIFFERENCES_KEPT: usize = 50;

/// One event on which the shadow did something else than the live version.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Difference {
    /// The event's id.
    pub event: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Its key.
    pub key: Option<String>,
    /// What the live version did.
    pub live: EffectSummary,
    /// What the shadow would have done.
    pub shadow: EffectSummary,
}

#[derive(Debug, Default)]
struct Tally {
    compared: u64,
    same: u64,
    differences: VecDeque<Difference>,
    different: u64,
}

/// A shadow's report as the admin API answers it and the CLI reads it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShadowReportView {
    /// The shadow version.
    pub version: String,
    /// The live version it is compared with (while it runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
    /// The share of the keys it shadows, percent (while it runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<f64>,
    /// When it started (RFC 3339; while it runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Events compared.
    pub compared: u64,
    /// Events on which both did the same.
    pub same: u64,
    /// Events on which they differed.
    pub different: u64,
    /// The shadow's outcomes.
    pub shadow_outcomes: StatsReading,
    /// The latest differences, oldest first.
    pub differences: Vec<Difference>,
}

/// What a shadow did against the live version so far.
#[derive(Debug, Default)]
pub struct ShadowReport {
    tally: Mutex<Tally>,
    outcomes: VersionStats,
}

impl ShadowReport {
    /// Count one event the shadow and the live version both handled.
    pub fn record(&self, stored: &StoredEvent, live: EffectSummary, shadow: EffectSummary) {
        let mut tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        tally.compared += 1;
        if live.same_as(&shadow) {
            tally.same += 1;
            return;
        }
        tally.different += 1;
        if tally.differences.len() == DIFFERENCES_KEPT {
            tally.differences.pop_front();
        }
        tally.differences.push_back(Difference {
            event: stored.event.id.clone(),
            ty: stored.event.ty.clone(),
            key: stored.event.key.clone(),
            live,
            shadow,
        });
    }

    /// The shadow's outcomes so far.
    pub fn outcomes(&self) -> StatsReading {
        self.outcomes.read()
    }

    /// Counts: events compared, the same, different.
    pub fn counts(&self) -> (u64, u64, u64) {
        let tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        (tally.compared, tally.same, tally.different)
    }

    /// The report of the shadow `version` so far.
    pub fn view(&self, version: &str) -> ShadowReportView {
        let tally = self.tally.lock().unwrap_or_else(PoisonError::into_inner);
        ShadowReportView {
            version: version.to_owned(),
            live: None,
            percent: None,
            started_at: None,
            compared: tally.compared,
            same: tally.same,
            different: tally.different,
            shadow_outcomes: self.outcomes.read(),
            differences: tally.differences.iter().cloned().collect(),
        }
    }
}

/// Run `shadow` on `stored`, which `live` handled with `live_outcome` and
/// staged `live_effects` (the event's own in `current`, the batch's before
/// it in `accepted`), and record the comparison in `report`.
pub async fn compare(
    shadow: &PluginVersion,
    report: &ShadowReport,
    stored: &StoredEvent,
    live: (&PluginVersion, &Outcome, &Effects),
) {
    let (live, live_outcome, live_effects) = live;
    let push_topic = &live.context.push_topic;
    let live_summary = EffectSummary::of(live_outcome, &live_effects.current, push_topic);
    let effects = Effects {
        accepted: live_effects.accepted.kv_view(),
        current: Staged::default(),
        trigger: live_effects.trigger.clone(),
        ..Effects::default()
    };
    let replay = CallMode::Shadow(live_effects.current.http.clone());
    let (outcome, effects) = shadow.handle_as(stored, effects, replay).await;
    report.outcomes.record(&outcome);
    let shadow_summary = EffectSummary::of(&outcome, &effects.current, push_topic);
    report.record(stored, live_summary, shadow_summary);
}
