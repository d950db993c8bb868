//! Rate limits on the mint route itself (per address, per identity, and on
//! new identities per /64, /56 and /48), as GCRA: each key keeps one
//! "theoretical arrival time", so a limit costs one map entry per active key,
//! and a refusal knows exactly when the next request would pass
//! (`Retry-After`). These are the limits of one process; with `--redis-url`
//! the same arithmetic runs in Redis ([`crate::store`]) and these serve only
//! while Redis is unreachable.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lru::LruCache;

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

impl Rate {
    /// The GCRA parameters: the emission interval and the burst tolerance
    /// (`None` when the limit is off).
    pub fn gcra(self) -> Option<(Duration, Duration)> {
        if self.per_minute == 0 {
            return None;
        }
        let interval = Duration::from_secs(60) / self.per_minute;
        Some((interval, interval * self.burst.max(1).saturating_sub(1)))
    }
}

/// A rate limit per key, with bounded memory: past its capacity, the key
/// used least recently is forgotten (a flood of distinct keys pushes out
/// the oldest entries one by one, never everyone's at once).
pub struct Limiter<K: Hash + Eq> {
    interval: Duration,
    tolerance: Duration,
    enabled: bool,
    shards: Box<[Mutex<LruCache<K, Duration>>]>,
    hasher: RandomState,
    clock: Arc<dyn Clock>,
}

impl<K: Hash + Eq> std::fmt::Debug for Limiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("interval", &self.interval)
            .field("tolerance", &self.tolerance)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter of `rate` that remembers at most about `capacity` keys.
    pub fn new(rate: Rate, capacity: usize, clock: Arc<dyn Clock>) -> Self {
        let (interval, tolerance) = rate.gcra().unwrap_or_default();
        let per_shard = NonZeroUsize::new((capacity / SHARDS).max(16)).expect("at least 16");
        Limiter {
            interval,
            tolerance,
            enabled: rate.gcra().is_some(),
            shards: (0..SHARDS)
                .map(|_| Mutex::new(LruCache::new(per_shard)))
                .collect(),
            hasher: RandomState::new(),
            clock,
        }
    }

    fn shard(&self, key: &K) -> &Mutex<LruCache<K, Duration>> {
        &self.shards[self.hasher.hash_one(key) as usize % SHARDS]
    }

    /// Counts a request of `key`: `Err(wait)` when it is over the limit.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.peek(key)?;
        self.commit(key);
        Ok(())
    }

    /// Whether a request of `key` would pass now, without counting it.
    pub fn peek(&self, key: &K) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        let now = self.clock.monotonic();
        let mut map = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let tat = map.get(key).copied().unwrap_or(now).max(now);
        if tat > now + self.tolerance {
            return Err(tat - self.tolerance - now);
        }
        Ok(())
    }

    /// Counts a request of `key` (after [`Limiter::peek`] said it passes).
    pub fn commit(&self, key: &K) {
        if !self.enabled {
            return;
        }
        let now = self.clock.monotonic();
        let mut map = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        let tat = map.get(key).copied().unwrap_or(now).max(now);
        map.put(key.clone(), tat + self.interval);
    }
}

/// The key of an address for per-address limits: IPv6 clients usually own a
/// whole /64, so it counts as one address.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(v6_prefix(v6, 64)),
        v4 => v4,
    }
}

/// The /`bits` block of an IPv6 address (a site gets a /56 or a /48, and a
/// tunnel broker hands out /64s from them by the thousand); `None` for IPv4,
/// whose addresses are scarce enough to be limited one by one.
pub fn v6_block(ip: IpAddr, bits: u8) -> Option<IpAddr> {
    match ip.to_canonical() {
        IpAddr::V6(v6) => Some(IpAddr::V6(v6_prefix(v6, bits))),
        IpAddr::V4(_) => None,
    }
}

fn v6_prefix(v6: Ipv6Addr, bits: u8) -> Ipv6Addr {
    let bits = u32::from(bits.min(128));
    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
    (u128::from(v6) & mask).into()
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
    fn a_flood_of_keys_stays_within_the_capacity_and_forgets_the_least_recent_first() {
        let clock = Arc::new(ManualClock::new());
        let limiter = Limiter::new(Rate::new(1, 1), 16 * 16, clock);
        assert!(limiter.check(&u32::MAX).is_ok());
        for i in 0..10_000u32 {
            let _ = limiter.check(&i);
            // Someone limited keeps coming back: recently used, never evicted.
            assert!(
                limiter.check(&u32::MAX).is_err(),
                "a flood of {i} other keys reset a limited key"
            );
        }
        let held: usize = limiter.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= 16 * 16, "{held} keys held");
        assert!(
            limiter.check(&0).is_ok(),
            "the oldest of the flood was forgotten"
        );
    }

    #[test]
    fn ipv6_blocks_of_56_and_48_bits_group_the_64s_a_tunnel_hands_out() {
        let a = "2001:db8:aa:bb01::1".parse().unwrap();
        let b = "2001:db8:aa:bbff::1".parse().unwrap();
        let c = "2001:db8:aa:cc00::1".parse().unwrap();
        assert_ne!(address_key(a), address_key(b), "two /64s");
        assert_eq!(v6_block(a, 56), v6_block(b, 56), "one /56");
        assert_ne!(v6_block(a, 56), v6_block(c, 56));
        assert_eq!(v6_block(a, 48), v6_block(c, 48), "one /48");
        assert_eq!(v6_block("1.2.3.4".parse().unwrap(), 48), None);
        assert_eq!(v6_block("::ffff:1.2.3.4".parse().unwrap(), 48), None);
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
