//! Rate limits on the mint route itself (per address, per identity, and on
//! new identities per address), as GCRA: each key keeps one "theoretical
//! arrival time", so a limit costs one map entry per active key, and a refusal
//! knows exactly when the next request would pass (`Retry-After`).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::Clock;

const SHARDS: usize = 16;

/// A sustained rate with a burst allowance; `per_minute == 0` turns it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests per minute, sustained.
    pub per_minute: u32,
    /// Requests allowed at once after a quiet spell (at least 1).
    pub burst: u32,
}

impl Rate {
    /// No limit.
    pub const OFF: Rate = Rate {
        per_minute: 0,
        burst: 0,
    };

    /// `per_minute` sustained, `burst` at once.
    pub const fn new(per_minute: u32, burst: u32) -> Self {
        Rate { per_minute, burst }
    }
}

/// A rate limit per key, with bounded memory.
pub struct Limiter<K> {
    interval: Duration,
    tolerance: Duration,
    enabled: bool,
    shards: Box<[Mutex<HashMap<K, Duration>>]>,
    hasher: RandomState,
    capacity_per_shard: usize,
    clock: Arc<dyn Clock>,
}

impl<K> std::fmt::Debug for Limiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("interval", &self.interval)
            .field("tolerance", &self.tolerance)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter of `rate` that remembers at most about `capacity` keys: past
    /// that, keys whose state has fully recovered are forgotten first, then,
    /// under a flood of distinct keys, a whole shard.
    pub fn new(rate: Rate, capacity: usize, clock: Arc<dyn Clock>) -> Self {
        let enabled = rate.per_minute > 0;
        let interval = if enabled {
            Duration::from_secs(60) / rate.per_minute
        } else {
            Duration::ZERO
        };
        Limiter {
            interval,
            tolerance: interval * rate.burst.saturating_sub(1),
            enabled,
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            capacity_per_shard: (capacity / SHARDS).max(16),
            clock,
        }
    }

    /// Counts a request of `key`: `Err(wait)` when it is over the limit.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        let now = self.clock.monotonic();
        let shard = &self.shards[self.hasher.hash_one(key) as usize % SHARDS];
        let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
        let tat = map.get(key).copied().unwrap_or(now).max(now);
        if tat > now + self.tolerance {
            return Err(tat - self.tolerance - now);
        }
        if map.len() >= self.capacity_per_shard && !map.contains_key(key) {
            map.retain(|_, tat| *tat > now);
            if map.len() >= self.capacity_per_shard {
                map.clear();
            }
        }
        map.insert(key.clone(), tat + self.interval);
        Ok(())
    }
}

/// The key of an address for per-address limits: IPv6 clients usually own a
/// whole /64, so it counts as one address.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn a_burst_passes_then_requests_wait_exactly_one_interval() {
        let clock = Arc::new(ManualClock::new());
        let limiter = Limiter::new(Rate::new(60, 3), 1_000, clock.clone());
        for i in 0..3 {
            assert!(limiter.check(&"a").is_ok(), "request {i} of the burst");
        }
        let wait = limiter.check(&"a").unwrap_err();
        assert_eq!(wait, Duration::from_secs(1), "60/min: one more each second");
        assert!(limiter.check(&"b").is_ok(), "other keys are unaffected");
        clock.advance(Duration::from_millis(999));
        assert!(limiter.check(&"a").is_err());
        clock.advance(Duration::from_millis(1));
        assert!(limiter.check(&"a").is_ok());
        assert!(limiter.check(&"a").is_err());
        clock.advance(Duration::from_secs(60));
        for _ in 0..3 {
            assert!(
                limiter.check(&"a").is_ok(),
                "a quiet spell refills the burst"
            );
        }
    }

    #[test]
    fn a_flood_of_keys_stays_within_the_capacity() {
        let clock = Arc::new(ManualClock::new());
        let limiter = Limiter::new(Rate::new(1, 1), 16 * 16, clock);
        for i in 0..10_000u32 {
            let _ = limiter.check(&i);
        }
        let held: usize = limiter.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= 16 * 16, "{held} keys held");
    }

    #[test]
    fn an_off_limit_allows_everything_and_ipv6_counts_per_slash_64() {
        let limiter = Limiter::new(Rate::OFF, 100, Arc::new(ManualClock::new()));
        for _ in 0..1_000 {
            assert!(limiter.check(&1).is_ok());
        }
        assert_eq!(
            address_key("2001:db8::1".parse().unwrap()),
            address_key("2001:db8::ffff:1".parse().unwrap())
        );
        assert_ne!(
            address_key("2001:db8:0:1::1".parse().unwrap()),
            address_key("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            address_key("::ffff:1.2.3.4".parse().unwrap()),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
    }
}
