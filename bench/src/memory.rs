//! Memory of an idle gateway: its resident set with the first-party plugins
//! loaded and nothing to do, and what each idle WebSocket session adds.

use std::time::Duration;

use anyhow::{Context as _, Result};
use serde::Serialize;

use crate::target::Target;
use crate::ws_load;

/// What the idle gateway holds.
#[derive(Debug, Clone, Serialize)]
pub struct IdleMemory {
    /// Resident set after start-up, MiB.
    pub idle_rss_mib: f64,
    /// Sessions opened.
    pub sessions: usize,
    /// Resident set with them open, MiB.
    pub with_sessions_rss_mib: f64,
    /// What one idle session adds, KiB.
    pub per_session_kib: f64,
}

/// Measure `gateway` (started by the harness) idle, then with `sessions`
/// idle sessions open.
pub async fn idle(gateway: &Target, sessions: usize) -> Result<IdleMemory> {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_kib(gateway)?;
    let mut open = Vec::with_capacity(sessions);
    for i in 0..sessions {
        open.push(ws_load::session(gateway.addr, &format!("idle-{i}")).await?);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let with_sessions = rss_kib(gateway)?;
    drop(open);
    Ok(IdleMemory {
        idle_rss_mib: idle as f64 / 1024.0,
        sessions,
        with_sessions_rss_mib: with_sessions as f64 / 1024.0,
        per_session_kib: with_sessions.saturating_sub(idle) as f64 / sessions.max(1) as f64,
    })
}

/// `VmRSS` of the target's process, KiB.
fn rss_kib(target: &Target) -> Result<u64> {
    let pid = target
        .pid()
        .context("the memory of a gateway the harness did not start is not measured")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/PID/status")
}
