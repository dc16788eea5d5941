//! Where a scenario's time went inside the gateway: its
//! `streamplug_stage_seconds` histograms (see `streamplug::stages`) scraped
//! from `/metrics` when the measured window starts and again once the
//! gateway has finished what the window gave it; the difference gives each
//! stage's count, mean and percentiles over the window alone.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use serde::Serialize;
use streamplug::stages::{STAGE_SECONDS, Stage};

/// One stage over a window.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageLatency {
    /// The stage's label.
    pub stage: String,
    /// Samples (requests, events, batches or pushes; see the stage).
    pub count: u64,
    /// Mean, microseconds.
    pub mean_us: f64,
    /// Percentiles, microseconds, interpolated within their bucket as
    /// Prometheus' `histogram_quantile` does.
    pub p50_us: f64,
    pub p99_us: f64,
}

/// One stage's cumulative histogram at one moment.
#[derive(Debug, Default, Clone)]
struct Cumulative {
    /// `(upper bound, samples at or below it)`, ascending, `+Inf` last.
    buckets: Vec<(f64, u64)>,
    sum: f64,
    count: u64,
}

/// Every stage's histogram at one moment.
#[derive(Debug, Default, Clone)]
pub struct Snapshot(BTreeMap<String, Cumulative>);

/// Scrape the stage histograms of the server at `url` (empty without a
/// key: not a gateway, or one the harness has no key for).
pub async fn scrape(url: &str, key: Option<&str>) -> Result<Snapshot> {
    let Some(key) = key else {
        return Ok(Snapshot::default());
    };
    let text = reqwest::Client::new()
        .get(format!("{url}/metrics"))
        .bearer_auth(key)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .context("scraping /metrics")?
        .text()
        .await?;
    Ok(parse(&text))
}

/// Read the stage histograms out of a Prometheus text exposition.
pub fn parse(text: &str) -> Snapshot {
    let mut stages: BTreeMap<String, Cumulative> = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(STAGE_SECONDS) else {
            continue;
        };
        let (series, value) = match rest.rsplit_once(' ') {
            Some((series, value)) => (series, value.trim()),
            None => continue,
        };
        let Some(stage) = label(series, "stage") else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let entry = stages.entry(stage.to_owned()).or_default();
        if series.starts_with("_bucket") {
            let le = match label(series, "le") {
                Some("+Inf") => f64::INFINITY,
                Some(bound) => match bound.parse() {
                    Ok(bound) => bound,
                    Err(_) => continue,
                },
                None => continue,
            };
            entry.buckets.push((le, value as u64));
        } else if series.starts_with("_sum") {
            entry.sum = value;
        } else if series.starts_with("_count") {
            entry.count = value as u64;
        }
    }
    for c in stages.values_mut() {
        c.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    Snapshot(stages)
}

/// The value of `name="…"` in a series' labels.
fn label<'a>(series: &'a str, name: &str) -> Option<&'a str> {
    let start = series.find(&format!("{name}=\""))? + name.len() + 2;
    let len = series[start..].find('"')?;
    Some(&series[start..start + len])
}

impl Snapshot {
    /// What happened between `before` and `self`, stage by stage in path
    /// order (stages without samples left out).
    pub fn since(&self, before: &Snapshot) -> Vec<StageLatency> {
        Stage::ALL
            .iter()
            .filter_map(|stage| {
                let after = self.0.get(stage.label())?;
                let empty = Cumulative::default();
                let before = before.0.get(stage.label()).unwrap_or(&empty);
                window(stage.label(), after, before)
            })
            .collect()
    }
}

fn window(stage: &str, after: &Cumulative, before: &Cumulative) -> Option<StageLatency> {
    let count = after.count.checked_sub(before.count)?;
    if count == 0 {
        return None;
    }
    let buckets: Vec<(f64, u64)> = after
        .buckets
        .iter()
        .map(|(le, n)| {
            let earlier = before
                .buckets
                .iter()
                .find(|(b, _)| b == le)
                .map_or(0, |(_, n)| *n);
            (*le, n.saturating_sub(earlier))
        })
        .collect();
    Some(StageLatency {
        stage: stage.to_owned(),
        count,
        mean_us: (after.sum - before.sum) / count as f64 * 1e6,
        p50_us: quantile(&buckets, count, 0.5) * 1e6,
        p99_us: quantile(&buckets, count, 0.99) * 1e6,
    })
}

/// The `q` quantile of cumulative `buckets` holding `count` samples,
/// linear within the bucket it falls in; the last finite bound when it
/// falls in `+Inf`.
fn quantile(buckets: &[(f64, u64)], count: u64, q: f64) -> f64 {
    let rank = q * count as f64;
    let mut lower = (0.0, 0u64);
    for &(le, n) in buckets {
        if n as f64 >= rank {
            if le.is_infinite() {
                return lower.0;
            }
            let within = (n - lower.1) as f64;
            let into = if within > 0.0 {
                (rank - lower.1 as f64) / within
            } else {
                1.0
            };
            return lower.0 + (le - lower.0) * into;
        }
        lower = (le, n);
    }
    lower.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEFORE: &str = r#"# TYPE streamplug_stage_seconds histogram
streamplug_stage_seconds_bucket{stage="handle",le="0.0001"} 10
streamplug_stage_seconds_bucket{stage="handle",le="0.001"} 10
streamplug_stage_seconds_bucket{stage="handle",le="+Inf"} 10
streamplug_stage_seconds_sum{stage="handle"} 0.0005
streamplug_stage_seconds_count{stage="handle"} 10
"#;

    const AFTER: &str = r#"# TYPE streamplug_stage_seconds histogram
streamplug_stage_seconds_bucket{stage="handle",le="0.0001"} 10
streamplug_stage_seconds_bucket{stage="handle",le="0.001"} 110
streamplug_stage_seconds_bucket{stage="handle",le="+Inf"} 110
streamplug_stage_seconds_sum{stage="handle"} 0.0505
streamplug_stage_seconds_count{stage="handle"} 110
streamplug_stage_seconds_bucket{stage="push",le="0.001"} 0
streamplug_stage_seconds_bucket{stage="push",le="+Inf"} 4
streamplug_stage_seconds_sum{stage="push"} 8
streamplug_stage_seconds_count{stage="push"} 4
streamplug_other_bucket{stage="handle",le="0.1"} 99
"#;

    #[test]
    fn a_window_counts_only_its_own_samples() {
        let stages = parse(AFTER).since(&parse(BEFORE));
        assert_eq!(stages.len(), 2);
        let handle = &stages[0];
        assert_eq!(handle.stage, "handle");
        assert_eq!(handle.count, 100);
        assert!((handle.mean_us - 500.0).abs() < 1e-6, "{handle:?}");
        // 100 samples, all in (0.1 ms, 1 ms]: the median halfway through.
        assert!((handle.p50_us - 550.0).abs() < 1e-6, "{handle:?}");
        assert!((handle.p99_us - 991.0).abs() < 1e-6, "{handle:?}");
        // Everything above the last finite bound reads as that bound.
        assert_eq!(stages[1].stage, "push");
        assert!((stages[1].p99_us - 1000.0).abs() < 1e-6);
    }

    #[test]
    fn nothing_scraped_is_nothing_reported() {
        assert!(parse("").since(&Snapshot::default()).is_empty());
    }
}
