//! The one token bucket of the gateway: governor's GCRA limiter, with the
//! quota every rate setting (`rate`, `burst`) becomes.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// A quota of `rate` a second with bursts of `burst` (at least one); none
/// when `rate` is 0 (no limit).
pub fn quota(rate: u32, burst: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(rate)?;
    let burst = NonZeroU32::new(burst).unwrap_or(rate);
    Some(Quota::per_second(rate).allow_burst(burst))
}

/// A limiter of `rate` a second with bursts of `burst`; none when `rate` is 0.
pub fn limiter(rate: u32, burst: u32) -> Option<DefaultDirectRateLimiter> {
    quota(rate, burst).map(RateLimiter::direct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_rate_holds_and_zero_is_no_limit() {
        let l = limiter(1, 3).unwrap();
        assert!((0..3).all(|_| l.check().is_ok()));
        assert!(l.check().is_err());
        assert!(limiter(0, 5).is_none());
    }
}
