//! What one hand-off between threads costs on the machine the gateway runs
//! on, in CPU: an event at a low rate crosses a handful of threads alone (the
//! session's task, the log's writer, its sync thread, each plugin's worker,
//! the session again), and nothing shares a wake-up with it. Two round
//! trips, each measured as the whole process's CPU time (user and system,
//! every thread) per round trip, not wall time:
//!
//! - `std thread and back`: a `std::sync::mpsc` message to a thread blocked
//!   on it, answered the same way (the writer handing a group to the sync
//!   thread, and the answer);
//! - `tokio task and back`: a task on a multi-thread runtime sends on a
//!   `tokio::sync::mpsc` channel to a thread blocked in `blocking_recv` and
//!   awaits a `oneshot` answer (a request handed to the log's writer and
//!   its acknowledgement).
//!
//! docs/BENCHMARKS.md (the whole path) sets these against the CPU an event
//! costs end to end at 1k events/s.
//!
//! Run: `cargo bench -p streamplug --bench handoff`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rustix::time::{ClockId, clock_gettime};

/// CPU time the whole process has used so far.
fn process_cpu() -> Duration {
    let t = clock_gettime(ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

fn std_round_trips(iters: u64) -> Duration {
    let (to, from) = mpsc::channel::<u64>();
    let (back, answers) = mpsc::channel::<u64>();
    let echo = std::thread::spawn(move || {
        while let Ok(v) = from.recv() {
            if back.send(v).is_err() {
                break;
            }
        }
    });
    let began = process_cpu();
    for i in 0..iters {
        to.send(i).unwrap();
        answers.recv().unwrap();
    }
    let used = process_cpu().saturating_sub(began);
    drop(to);
    echo.join().unwrap();
    used
}

fn tokio_round_trips(runtime: &tokio::runtime::Runtime, iters: u64) -> Duration {
    let (to, mut from) = tokio::sync::mpsc::channel::<tokio::sync::oneshot::Sender<u64>>(64);
    let writer = std::thread::spawn(move || {
        let mut n = 0;
        while let Some(answer) = from.blocking_recv() {
            n += 1;
            let _ = answer.send(n);
        }
    });
    let used = runtime.block_on(async move {
        tokio::spawn(async move {
            let began = process_cpu();
            for _ in 0..iters {
                let (answer, answered) = tokio::sync::oneshot::channel();
                to.send(answer).await.unwrap();
                answered.await.unwrap();
            }
            process_cpu().saturating_sub(began)
        })
        .await
        .unwrap()
    });
    writer.join().unwrap();
    used
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("handoff");
    group.bench_function("std thread and back, process CPU a round trip", |b| {
        b.iter_custom(std_round_trips);
    });
    group.bench_function("tokio task and back, process CPU a round trip", |b| {
        b.iter_custom(|iters| tokio_round_trips(&runtime, iters));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
