//! CPU cost per event of a scenario: the server's CPU time from the start of
//! the measured window until it has finished what the window gave it,
//! divided by the events counted.

use std::future::Future;
use std::time::Duration;

use anyhow::{Context as _, Result};

use crate::cpu;
use crate::meter::{Measured, Timing};
use crate::target::Target;

/// How long a server may take to finish its backlog after a window.
const DRAIN_PATIENCE: Duration = Duration::from_secs(60);

/// Run `scenario` (timed by `timing`) against `target` and fill in its CPU
/// time per event, when the harness started the target.
pub async fn measured(
    target: &Target,
    timing: Timing,
    scenario: impl Future<Output = Result<Measured>>,
) -> Result<Measured> {
    let Some(pid) = target.pid() else {
        return scenario.await;
    };
    let window_starts = tokio::time::Instant::now() + timing.warmup;
    let before = tokio::spawn(async move {
        tokio::time::sleep_until(window_starts).await;
        cpu::seconds(pid)
    });
    let mut measured = scenario.await?;
    let before = before.await.context("CPU sampler")??;
    let after = cpu::seconds_when_idle(pid, DRAIN_PATIENCE).await?;
    if measured.events > 0 {
        measured.cpu_us_per_event = Some((after - before) * 1e6 / measured.events as f64);
    }
    Ok(measured)
}
