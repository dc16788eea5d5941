//! What the disk under the data directory allows a group commit: how long
//! `fdatasync` of one small write takes and how many a second it does,
//! appending to a file (each sync also writes the inode's new size) and
//! over blocks the file already has (what the log's pre-zeroed write-ahead
//! segments do), with one lane or several syncing at once. The embedded
//! log makes a group durable with one such sync, so these numbers bound
//! the groups a second any design can commit on this disk.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use hdrhistogram::Histogram;

/// Bytes a probe writes before each sync (a small group's frame).
const WRITE: usize = 4096;
/// Blocks written ahead for the over-written probes.
const PREWRITTEN_BLOCKS: u64 = 16 * 1024;

/// One probe's result.
struct Probe {
    label: String,
    syncs: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

/// Run every probe for `seconds` each in a temporary directory under `dir`
/// and print one line per probe.
pub fn run(dir: &Path, seconds: f64, lanes: &[usize]) -> Result<()> {
    let scratch = tempfile::tempdir_in(dir).with_context(|| format!("{}", dir.display()))?;
    let measure = Duration::from_secs_f64(seconds);
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "fdatasync of one {WRITE}-byte write, {seconds} s a probe, in {}",
        dir.display()
    )?;
    let mut probes = vec![appending(&scratch.path().join("append"), measure)?];
    let file = prewritten(&scratch.path().join("over"))?;
    for &n in lanes {
        probes.push(over_written(&file, n.max(1), measure)?);
    }
    for p in probes {
        writeln!(
            out,
            "{:<34} {:>7.0} syncs/s  p50 {:>5} µs  p90 {:>5} µs  p99 {:>5} µs",
            p.label,
            p.syncs as f64 / p.elapsed.as_secs_f64(),
            p.latency.value_at_quantile(0.5),
            p.latency.value_at_quantile(0.9),
            p.latency.value_at_quantile(0.99),
        )?;
    }
    Ok(())
}

fn histogram() -> Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000, 3)?)
}

/// One write and its sync, timed into `latency` (µs).
fn write_and_sync(file: &File, at: u64, block: &[u8], latency: &mut Histogram<u64>) -> Result<()> {
    let began = Instant::now();
    file.write_all_at(block, at)?;
    file.sync_data()?;
    latency.saturating_record(began.elapsed().as_micros() as u64);
    Ok(())
}

/// Each write extends the file.
fn appending(path: &Path, measure: Duration) -> Result<Probe> {
    let file = OpenOptions::new().create_new(true).write(true).open(path)?;
    let block = vec![b'x'; WRITE];
    let mut latency = histogram()?;
    let began = Instant::now();
    let mut syncs = 0;
    while began.elapsed() < measure {
        write_and_sync(&file, syncs * WRITE as u64, &block, &mut latency)?;
        syncs += 1;
    }
    Ok(Probe {
        label: "appending, 1 lane".into(),
        syncs,
        elapsed: began.elapsed(),
        latency,
    })
}

/// A file whose blocks are written (zeroes) and durable.
fn prewritten(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(path)?;
    let zeroes = vec![0; 1 << 20];
    let total = PREWRITTEN_BLOCKS * WRITE as u64;
    let mut at = 0;
    while at < total {
        file.write_all_at(&zeroes, at)?;
        at += zeroes.len() as u64;
    }
    file.sync_all()?;
    Ok(file)
}

/// `lanes` threads, each writing over its own blocks and syncing, at once.
fn over_written(file: &File, lanes: usize, measure: Duration) -> Result<Probe> {
    let began = Instant::now();
    let results: Vec<Result<(u64, Histogram<u64>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..lanes)
            .map(|lane| {
                scope.spawn(move || {
                    let block = vec![b'x'; WRITE];
                    let mut latency = histogram()?;
                    let mut syncs = 0u64;
                    while began.elapsed() < measure {
                        let blockno = (syncs * lanes as u64 + lane as u64) % PREWRITTEN_BLOCKS;
                        write_and_sync(file, blockno * WRITE as u64, &block, &mut latency)?;
                        syncs += 1;
                    }
                    Ok((syncs, latency))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| anyhow::bail!("a lane panicked"))
            })
            .collect()
    });
    let elapsed = began.elapsed();
    let mut latency = histogram()?;
    let mut syncs = 0;
    for r in results {
        let (n, h) = r?;
        syncs += n;
        latency.add(h)?;
    }
    Ok(Probe {
        label: format!("over written blocks, {lanes} lane(s)"),
        syncs,
        elapsed,
        latency,
    })
}
