//! CPU cost per event of a scenario: the server's CPU time from the start of
//! the measured window until it has finished what the window gave it,
//! divided by the events counted; and, for a gateway, where its time went
//! over the same span, stage by stage ([`crate::stages`]).

use std::future::Future;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::cpu;
use crate::meter::{Measured, Timing};
use crate::stages;
use crate::target::Target;

/// How long a server may take to finish its backlog after a window.
const DRAIN_PATIENCE: Duration = Duration::from_secs(60);

/// Run `scenario` (timed by `timing`) against `target` and fill in its CPU
/// time per event and its stage breakdown, when the harness started the
/// target.
pub async fn measured(
    target: &Target,
    timing: Timing,
    scenario: impl Future<Output = Result<Measured>>,
) -> Result<Measured> {
    let Some(pid) = target.pid() else {
        return scenario.await;
    };
    let window_starts = tokio::time::Instant::now() + timing.warmup;
    let (url, key) = (target.url(), target.key.clone());
    let before = tokio::spawn(async move {
        tokio::time::sleep_until(window_starts).await;
        let cpu = cpu::seconds(pid);
        let stages = stages::scrape(&url, key.as_deref()).await;
        (cpu, stages)
    });
    let mut measured = scenario.await?;
    let (cpu_before, stages_before) = before.await.context("CPU sampler")?;
    let cpu_before = cpu_before?;
    let after = cpu::seconds_when_idle(pid, DRAIN_PATIENCE).await?;
    if measured.events > 0 {
        measured.cpu_us_per_event = Some((after - cpu_before) * 1e6 / measured.events as f64);
    }
    measured.stages = stages::scrape(&target.url(), target.key.as_deref())
        .await?
        .since(&stages_before?);
    Ok(measured)
}
