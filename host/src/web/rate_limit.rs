//! Ingest rate limits (governor's GCRA): a key counts against its own
//! `rate_per_sec`; every other caller (customers, staff) against the limit
//! of its client address. Over the limit: `429` with `Retry-After`, nothing
//! written. The per-address state forgets addresses that have been quiet,
//! so it stays bounded under many addresses.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, NotUntil, RateLimiter};

use super::problem::Problem;
use crate::auth::Principal;

/// Counter of ingest requests refused by a rate limit, by kind.
pub const LIMITED: &str = "streamplug_ingest_rate_limited_total";

/// How often quiet addresses are forgotten.
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// The limits of one listener.
pub struct IngestLimits {
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

fn refused(
    kind: &'static str,
    who: &str,
    not_until: &NotUntil<<DefaultClock as governor::clock::Clock>::Instant>,
) -> Problem {
    metrics::counter!(LIMITED, "kind" => kind).increment(1);
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    let secs = u32::try_from(wait.as_secs())
        .unwrap_or(u32::MAX)
        .saturating_add(1);
    Problem::rate_limited(
        format!("{who} is over its ingest rate limit; retry in {secs} s"),
        secs,
    )
}

impl IngestLimits {
    /// `rate` requests a second per address with bursts of `burst` (0: none).
    pub fn new(rate: u32, burst: u32) -> Self {
        Self {
            per_address: crate::rate::quota(rate, burst).map(RateLimiter::keyed),
        }
    }

    /// Take one request of `principal` from `peer`, or the 429 to answer.
    pub fn check(&self, principal: &Principal, peer: Option<IpAddr>) -> Result<(), Problem> {
        if let Principal::Key(key) = principal {
            return match &key.limiter {
                Some(limiter) => limiter
                    .check()
                    .map_err(|n| refused("key", &principal.label(), &n)),
                None => Ok(()),
            };
        }
        match (&self.per_address, peer) {
            (Some(limiter), Some(ip)) => limiter
                .check_key(&ip)
                .map_err(|n| refused("address", &format!("address {ip}"), &n)),
            _ => Ok(()),
        }
    }

    /// Forget quiet addresses every minute until `shutdown`.
    pub fn spawn_forgetting(self: &Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        if self.per_address.is_none() {
            return;
        }
        let limits = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(FORGET_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Some(limiter) = &limits.per_address {
                            limiter.retain_recent();
                            limiter.shrink_to_fit();
                        }
                    }
                    changed = shutdown.changed() => if changed.is_err() || *shutdown.borrow() { return },
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{ApiKey, Scopes};

    #[test]
    fn addresses_and_keys_are_limited_apart() {
        let limits = IngestLimits::new(1, 2);
        let customer = Principal::Customer("c".into());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limits.check(&customer, Some(a)).is_ok());
        assert!(limits.check(&customer, Some(a)).is_ok());
        let refused = limits.check(&customer, Some(a)).unwrap_err();
        assert_eq!(refused.status, 429);
        assert!(limits.check(&customer, Some(b)).is_ok(), "another address");
        let key = Principal::Key(ApiKey::internal("shop", Scopes::all()));
        assert!(
            (0..100).all(|_| limits.check(&key, Some(a)).is_ok()),
            "a key without a rate"
        );
        assert!(
            IngestLimits::new(0, 0).check(&customer, Some(a)).is_ok(),
            "off"
        );
    }
}
