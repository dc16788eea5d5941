//! Scenarios measured against a baseline: the bare axum handler for HTTP
//! ingest (its name is what the report's "vs baseline" column refers to).

use anyhow::Result;

use crate::meter::{Measured, Timing};
use crate::target::Target;
use crate::{cpu_cost, http_load};

/// The bare axum baseline's name in the report.
pub const BARE: &str = "bare axum (baseline)";

/// HTTP single-event ingest into `target`, with its CPU time per event,
/// against the bare axum baseline.
pub(crate) async fn single_against_bare(
    name: &str,
    target: &Target,
    connections: usize,
    t: Timing,
) -> Result<Measured> {
    let single = http_load::ingest(name, target, connections, 1, t);
    Ok(against(cpu_cost::measured(target, t, single).await?, BARE))
}

pub(crate) fn against(mut measured: Measured, baseline: &str) -> Measured {
    measured.baseline = Some(baseline.to_owned());
    measured
}
