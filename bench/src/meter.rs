//! Measuring one scenario: workers record each operation's latency into
//! their own HDR histogram (merged at the end) and bump shared counters
//! that a progress line reads once a second. Operations that finish during
//! the warm-up are not counted.

use std::future::Future;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use hdrhistogram::Histogram;
use serde::Serialize;

/// How long a scenario runs.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Not counted: connections warm up, the gateway's instances and caches fill.
    pub warmup: Duration,
    /// Counted.
    pub measure: Duration,
}

/// Shared by the workers of one scenario.
#[derive(Debug)]
pub struct Meter {
    counting_from: Instant,
    until: Instant,
    events: AtomicU64,
    operations: AtomicU64,
    errors: AtomicU64,
}

/// A latency histogram in microseconds, 1 µs to 60 s, 3 significant digits.
pub fn histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 60_000_000, 3).context("creating a histogram")
}

impl Meter {
    fn new(timing: Timing) -> Self {
        let now = Instant::now();
        Self {
            counting_from: now + timing.warmup,
            until: now + timing.warmup + timing.measure,
            events: AtomicU64::new(0),
            operations: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }

    /// Whether workers should go on.
    pub fn running(&self) -> bool {
        Instant::now() < self.until
    }

    /// When the run ends.
    pub fn until(&self) -> Instant {
        self.until
    }

    /// One operation that started at `started`, carried `events` events and
    /// has just finished.
    pub fn record(&self, latencies: &mut Histogram<u64>, started: Instant, events: u64) {
        let now = Instant::now();
        if self.counting_at(now) {
            self.record_latency(latencies, now - started);
            self.count(events);
        }
    }

    /// A latency observed now (for operations whose start is known elsewhere).
    pub fn record_latency(&self, latencies: &mut Histogram<u64>, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        latencies.saturating_record(micros);
    }

    /// Count one operation of `events` events whose latency was recorded
    /// with [`Meter::record_latency`] (the caller checked it belongs to the
    /// window, e.g. with [`Meter::counting_at`] of its start).
    pub fn count(&self, events: u64) {
        self.events.fetch_add(events, Ordering::Relaxed);
        self.operations.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether now is inside the measured window.
    pub fn counting(&self) -> bool {
        self.counting_at(Instant::now())
    }

    /// Whether `at` is inside the measured window.
    pub fn counting_at(&self, at: Instant) -> bool {
        at >= self.counting_from && at <= self.until
    }

    /// An operation failed (counted whether warming up or not).
    pub fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// What one scenario measured.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// Scenario name.
    pub name: String,
    /// What it is measured against (a baseline's name), if anything.
    pub baseline: Option<String>,
    /// Events counted.
    pub events: u64,
    /// Operations (requests, frames) counted.
    pub operations: u64,
    /// Failed operations.
    pub errors: u64,
    /// Counted window, seconds.
    pub seconds: f64,
    /// Events per second.
    pub events_per_sec: f64,
    /// Latency percentiles of an operation, microseconds.
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    /// CPU time the server spent per event (user + system, all threads,
    /// including work the window's events caused after it), microseconds;
    /// only for servers the harness started.
    pub cpu_us_per_event: Option<f64>,
    /// Where the gateway's time went in the window, stage by stage (a
    /// gateway the harness started only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<crate::stages::StageLatency>,
    /// Free-form notes (connections, batch size, rate).
    pub setup: String,
}

/// Run `workers` copies of `worker` (each given the meter and its index)
/// for `timing`, printing a progress line, and merge their histograms.
pub async fn run<W, F>(
    name: &str,
    setup: String,
    workers: usize,
    timing: Timing,
    worker: W,
) -> Result<Measured>
where
    W: Fn(Arc<Meter>, usize) -> F,
    F: Future<Output = Result<Histogram<u64>>> + Send + 'static,
{
    let meter = Arc::new(Meter::new(timing));
    let tasks: Vec<_> = (0..workers)
        .map(|i| tokio::spawn(worker(meter.clone(), i)))
        .collect();
    let progress = tokio::spawn(progress(name.to_owned(), meter.clone(), timing));
    let mut latencies = histogram()?;
    let mut failure = None;
    for task in tasks {
        match task.await.context("worker panicked")? {
            Ok(h) => latencies.add(&h).context("merging histograms")?,
            Err(e) => failure = Some(e),
        }
    }
    progress.abort();
    eprintln!();
    if let Some(e) = failure {
        return Err(e.context(format!("{name}: a worker failed")));
    }
    let seconds = timing.measure.as_secs_f64();
    let events = meter.events.load(Ordering::Relaxed);
    Ok(Measured {
        name: name.to_owned(),
        baseline: None,
        events,
        operations: meter.operations.load(Ordering::Relaxed),
        errors: meter.errors.load(Ordering::Relaxed),
        seconds,
        events_per_sec: events as f64 / seconds,
        p50_us: latencies.value_at_quantile(0.50),
        p99_us: latencies.value_at_quantile(0.99),
        p999_us: latencies.value_at_quantile(0.999),
        max_us: latencies.max(),
        cpu_us_per_event: None,
        stages: Vec::new(),
        setup,
    })
}

/// `name: warming up` / `name: 4.0 s, 123456 events, 30864/s, 0 errors`,
/// rewritten in place once a second on stderr.
async fn progress(name: String, meter: Arc<Meter>, timing: Timing) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let elapsed = started.elapsed();
        let line = if elapsed < timing.warmup {
            format!("{name}: warming up ({:.0} s)", elapsed.as_secs_f64())
        } else {
            let counted = (elapsed - timing.warmup).min(timing.measure).as_secs_f64();
            let events = meter.events.load(Ordering::Relaxed);
            let rate = if counted >= 0.5 {
                format!("{:.0}/s", events as f64 / counted)
            } else {
                "-/s".to_owned()
            };
            format!(
                "{name}: {counted:.0}/{:.0} s, {events} events, {rate}, {} errors",
                timing.measure.as_secs_f64(),
                meter.errors.load(Ordering::Relaxed)
            )
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
    }
}
