//! CPU time of a server process, for the cost of an event: user plus system
//! time from `/proc/PID/stat`, read before and after a measured window, and
//! after the server has finished what the window gave it (a gateway's
//! plugins handle events after they are acknowledged).

use std::time::Duration;

use anyhow::{Context as _, Result};

/// Clock ticks per second of `/proc/PID/stat` (`USER_HZ`, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU seconds `pid` has used so far (user + system, all its threads).
pub fn seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces: count from after it.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("no command name in /proc/PID/stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .context("short /proc/PID/stat")
    };
    Ok((ticks(11)? + ticks(12)?) / TICKS_PER_SEC)
}

/// Wait until `pid` is idle (under 2% of a core for half a second, at most
/// `patience`), then return its CPU seconds.
pub async fn seconds_when_idle(pid: u32, patience: Duration) -> Result<f64> {
    let step = Duration::from_millis(500);
    let started = tokio::time::Instant::now();
    let mut last = seconds(pid)?;
    loop {
        tokio::time::sleep(step).await;
        let now = seconds(pid)?;
        if now - last < 0.02 * step.as_secs_f64() || started.elapsed() > patience {
            return Ok(now);
        }
        last = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spinning_shows_up_as_cpu_time() {
        let me = std::process::id();
        let before = seconds(me).unwrap();
        let started = std::time::Instant::now();
        let mut spin = 0u64;
        while seconds(me).unwrap() < before + 0.05 {
            spin = (0..100_000u64).fold(spin, |a, b| a.wrapping_add(b * b));
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "CPU time did not move"
            );
        }
        assert!(spin > 0);
    }
}
