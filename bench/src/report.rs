//! The end of a run: a table on stdout and, if asked, the same as JSON.

use std::io::Write as _;
use std::path::Path;

use anyhow::Result;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use crate::memory::IdleMemory;
use crate::meter::Measured;

/// Everything one run measured.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Cores the machine has (the harness and the servers share them).
    pub cores: usize,
    /// Warm-up and measured seconds per scenario.
    pub warmup_secs: f64,
    pub measure_secs: f64,
    /// The scenarios, in the order they ran.
    pub results: Vec<Measured>,
    /// The idle gateway's memory, if measured.
    pub idle: Option<IdleMemory>,
}

impl Report {
    /// Events per second of `name`, if it ran.
    fn rate_of(&self, name: &str) -> Option<f64> {
        self.results
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.events_per_sec)
    }

    /// The table.
    pub fn table(&self) -> Table {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED).set_header([
            "scenario",
            "events/s",
            "p50",
            "p99",
            "p99.9",
            "max",
            "errors",
            "CPU/event",
            "vs baseline",
            "setup",
        ]);
        for m in &self.results {
            let ratio = m
                .baseline
                .as_deref()
                .and_then(|b| self.rate_of(b))
                .filter(|b| *b > 0.0)
                .map(|b| {
                    format!(
                        "{:.2}× {}",
                        m.events_per_sec / b,
                        m.baseline.as_deref().unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            table.add_row([
                m.name.clone(),
                format!("{:.0}", m.events_per_sec),
                micros(m.p50_us),
                micros(m.p99_us),
                micros(m.p999_us),
                micros(m.max_us),
                m.errors.to_string(),
                m.cpu_us_per_event
                    .map(|us| format!("{us:.1} µs"))
                    .unwrap_or_default(),
                ratio,
                m.setup.clone(),
            ]);
        }
        table
    }

    /// Where each scenario's time went in the gateway, stage by stage
    /// (`None` when no scenario has a breakdown).
    pub fn stages_table(&self) -> Option<Table> {
        let mut table = Table::new();
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_header(["scenario", "stage", "samples", "mean", "p50", "p99"]);
        let mut any = false;
        for m in self.results.iter().filter(|m| !m.stages.is_empty()) {
            for (i, stage) in m.stages.iter().enumerate() {
                any = true;
                let name = if i == 0 {
                    m.name.clone()
                } else {
                    String::new()
                };
                table.add_row([
                    name,
                    stage.stage.clone(),
                    stage.count.to_string(),
                    micros(stage.mean_us.round() as u64),
                    micros(stage.p50_us.round() as u64),
                    micros(stage.p99_us.round() as u64),
                ]);
            }
        }
        any.then_some(table)
    }

    /// Print the tables on stdout.
    pub fn print(&self) -> Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", self.table())?;
        if let Some(stages) = self.stages_table() {
            writeln!(
                out,
                "where the gateway's time went (its stage histograms over each window):"
            )?;
            writeln!(out, "{stages}")?;
        }
        if let Some(m) = &self.idle {
            writeln!(
                out,
                "idle gateway with its plugins: {:.1} MiB resident; {} idle WebSocket sessions: {:.1} MiB ({:.1} KiB each)",
                m.idle_rss_mib, m.sessions, m.with_sessions_rss_mib, m.per_session_kib
            )?;
        }
        Ok(())
    }

    /// Write the report as JSON to `path`.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}

fn micros(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else if us >= 1000 {
        format!("{:.2} ms", us as f64 / 1000.0)
    } else {
        format!("{us} µs")
    }
}
