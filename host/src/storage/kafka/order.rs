//! The append order of records across topics on Kafka, which a plugin's
//! merged stream follows (the way Kafka Streams picks the next record of a
//! task by timestamp). Record timestamps have millisecond resolution, and
//! two events of one customer can be appended within a millisecond, so the
//! gateway also writes the append time in microseconds as a header, strictly
//! increasing within the process; records of other producers fall back to
//! their timestamp.

use std::sync::atomic::{AtomicU64, Ordering};

use rdkafka::message::{Headers, Message};

/// The header carrying the append time, µs since the epoch, decimal.
pub(super) const APPEND_TIME_HEADER: &str = "streamplug-append-us";

/// The append time of a record produced now: the wall clock in µs, but
/// never equal to or below the previous one of this process.
pub(super) fn next_append_time_us() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(0);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// The append time of a consumed record, µs: the gateway's header, else
/// the record's timestamp, else 0.
pub(super) fn append_time_us(msg: &impl Message) -> u64 {
    let from_header = msg.headers().and_then(|hs| {
        hs.iter()
            .find(|h| h.key == APPEND_TIME_HEADER)
            .and_then(|h| std::str::from_utf8(h.value?).ok()?.parse().ok())
    });
    from_header.unwrap_or_else(|| {
        msg.timestamp()
            .to_millis()
            .and_then(|ms| u64::try_from(ms).ok())
            .map_or(0, |ms| ms.saturating_mul(1000))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_times_strictly_increase() {
        let times: Vec<u64> = (0..1000).map(|_| next_append_time_us()).collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]));
    }
}
