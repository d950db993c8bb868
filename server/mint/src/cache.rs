//! What saves upstream calls: the set of customers already upserted, and the
//! tokens already minted, each reused for the same (customer, origin, address)
//! until a configured share of its life is gone. Concurrent requests for the
//! same key share one upstream mint (single-flight): the first starts it as a
//! task of its own (so it finishes even if that browser goes away), the
//! others wait for its result. Both are bounded, forgetting the entry used
//! least recently first. With `--redis-url`, reuse and known customers live
//! in Redis ([`crate::store`]) and these serve only while it is unreachable;
//! the single-flight stays here, in front of Redis' cross-replica lock.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt, Shared};
use lru::LruCache;

use crate::error::MintError;

const SHARDS: usize = 16;

/// Which token a request may reuse: same customer, same origin, same address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// The customer handle.
    pub external_id: String,
    /// Index of the origin in the allowlist.
    pub origin: usize,
    /// The address the token is bound to, if any.
    pub ip: Option<IpAddr>,
}

/// A minted token and when (on the mint's monotonic clock) its life started.
#[derive(Debug, Clone)]
pub struct CachedToken {
    /// The Client Token.
    pub token: Arc<str>,
    /// Its `jti` (the client token id), which a widget may name as stale
    /// instead of the whole token.
    pub jti: Option<Arc<str>>,
    /// Ringside's `expires_at`, Unix seconds.
    pub expires_at: i64,
    /// When the mint request was sent: reuse is counted from there, so a
    /// slow answer never stretches it.
    pub minted_at: Duration,
    /// When Ringside's answer arrived: `expires_in` is counted from there.
    pub received_at: Duration,
    /// Ringside's `expires_in` at mint time.
    pub lifetime: Duration,
}

impl CachedToken {
    /// Seconds of life left at `now`, to the nearest second: a token handed
    /// out as it arrives says exactly what Ringside said.
    pub fn expires_in(&self, now: Duration) -> u64 {
        let left = (self.received_at + self.lifetime).saturating_sub(now);
        left.as_secs() + u64::from(left.subsec_millis() >= 500)
    }

    /// Whether less than `fraction` of its life is gone at `now`.
    fn reusable(&self, now: Duration, fraction: f64) -> bool {
        now < self.minted_at + self.lifetime.mul_f64(fraction)
    }

    /// Whether `stale` (a whole token, or a `jti`) names this token.
    pub fn is_named_by(&self, stale: Option<&str>) -> bool {
        stale.is_some_and(|stale| *self.token == *stale || self.jti.as_deref() == Some(stale))
    }
}

/// An upstream mint in progress, shared by everyone who asks meanwhile.
pub type Flight = Shared<BoxFuture<'static, Result<CachedToken, MintError>>>;

#[derive(Debug)]
enum Slot {
    Ready(CachedToken),
    Pending { id: u64, flight: Flight },
}

/// What [`TokenCache::get_or_start`] found.
#[derive(Debug)]
pub enum Lookup {
    /// A token fresh enough to hand out again.
    Reuse(CachedToken),
    /// A mint another request started; await it.
    Join(Flight),
    /// Nothing: this request started the mint; await it.
    Started(Flight),
}

/// Reusable tokens and mints in flight, sharded, with bounded memory.
pub struct TokenCache {
    shards: Box<[Mutex<LruCache<TokenKey, Slot>>]>,
    hasher: RandomState,
    reuse_fraction: f64,
    next_id: AtomicU64,
}

fn shard_capacity(capacity: usize) -> NonZeroUsize {
    NonZeroUsize::new((capacity / SHARDS).max(16)).expect("at least 16")
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("reuse_fraction", &self.reuse_fraction)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// Reuses tokens until `reuse_fraction` (0 to 1; 0 never reuses) of their
    /// life is gone, holding about `capacity` tokens at most.
    pub fn new(reuse_fraction: f64, capacity: usize) -> Self {
        let per_shard = shard_capacity(capacity);
        TokenCache {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(LruCache::new(per_shard)))
                .collect(),
            hasher: RandomState::new(),
            reuse_fraction: reuse_fraction.clamp(0.0, 1.0),
            next_id: AtomicU64::new(0),
        }
    }

    /// The share of a token's life during which it is handed out again.
    pub fn reuse_fraction(&self) -> f64 {
        self.reuse_fraction
    }

    fn shard(&self, key: &TokenKey) -> &Mutex<LruCache<TokenKey, Slot>> {
        &self.shards[self.hasher.hash_one(key) as usize % SHARDS]
    }

    /// Tokens held for reuse.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .filter(|(_, slot)| matches!(slot, Slot::Ready(_)))
                    .count()
            })
            .sum()
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A reusable token at `now`, a mint to join, or else a mint started
    /// with `make(id)`, whose future must end with [`TokenCache::finish`]:
    /// at most one runs per key at a time.
    ///
    /// `stale` is a token (or the `jti` of one) the caller says Ringside
    /// refused (revoked, or expired by Ringside's clock): it is never handed
    /// out again. With `reuse` false (Redis holds the reusable tokens), only
    /// a mint in flight is joined.
    pub fn get_or_start<F>(
        &self,
        key: &TokenKey,
        now: Duration,
        stale: Option<&str>,
        reuse: bool,
        make: F,
    ) -> Lookup
    where
        F: FnOnce(u64) -> BoxFuture<'static, Result<CachedToken, MintError>>,
    {
        let mut map = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some(Slot::Ready(token))
                if reuse
                    && token.reusable(now, self.reuse_fraction)
                    && !token.is_named_by(stale) =>
            {
                return Lookup::Reuse(token.clone());
            }
            Some(Slot::Pending { flight, .. }) => return Lookup::Join(flight.clone()),
            _ => {}
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let flight = make(id).shared();
        map.put(
            key.clone(),
            Slot::Pending {
                id,
                flight: flight.clone(),
            },
        );
        Lookup::Started(flight)
    }

    /// Ends the flight `id` of `key` with its result: a token is kept for
    /// reuse (when reuse is on), an error is forgotten so the next request
    /// tries again.
    pub fn finish(&self, key: &TokenKey, id: u64, result: &Result<CachedToken, MintError>) {
        let mut map = self.shard(key).lock().unwrap_or_else(|e| e.into_inner());
        if !matches!(map.peek(key), Some(Slot::Pending { id: current, .. }) if *current == id) {
            return;
        }
        match result {
            Ok(token) if self.reuse_fraction > 0.0 => {
                map.put(key.clone(), Slot::Ready(token.clone()));
            }
            _ => {
                map.pop(key);
            }
        }
    }
}

/// The customer handles already upserted, with bounded memory (forgetting
/// one only costs an idempotent upsert; the least recently seen goes first).
pub struct KnownCustomers {
    shards: Box<[Mutex<LruCache<String, ()>>]>,
    hasher: RandomState,
}

impl std::fmt::Debug for KnownCustomers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownCustomers").finish_non_exhaustive()
    }
}

impl KnownCustomers {
    /// Remembers about `capacity` customers at most.
    pub fn new(capacity: usize) -> Self {
        let per_shard = shard_capacity(capacity);
        KnownCustomers {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(LruCache::new(per_shard)))
                .collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> &Mutex<LruCache<String, ()>> {
        &self.shards[self.hasher.hash_one(key) as usize % SHARDS]
    }

    /// Whether `external_id` was upserted.
    pub fn contains(&self, external_id: &str) -> bool {
        self.shard(external_id)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(external_id)
            .is_some()
    }

    /// Forgets `external_id` (Ringside said it does not exist).
    pub fn remove(&self, external_id: &str) {
        self.shard(external_id)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop(external_id);
    }

    /// Remembers that `external_id` exists upstream.
    pub fn insert(&self, external_id: &str) {
        self.shard(external_id)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(external_id.to_string(), ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> TokenKey {
        TokenKey {
            external_id: name.into(),
            origin: 0,
            ip: None,
        }
    }

    fn token(minted_at: Duration) -> CachedToken {
        CachedToken {
            token: "t".into(),
            jti: Some("ct_t".into()),
            expires_at: 0,
            minted_at,
            received_at: minted_at,
            lifetime: Duration::from_secs(900),
        }
    }

    /// Mints a token for `k` at time zero and keeps it, as a first request does.
    async fn holding_a_new_token(cache: &TokenCache, k: &TokenKey) {
        let Lookup::Started(flight) = cache.get_or_start(k, Duration::ZERO, None, true, |_| {
            async { Ok(token(Duration::ZERO)) }.boxed()
        }) else {
            panic!("an empty cache starts a mint");
        };
        let result = flight.await;
        cache.finish(k, 0, &result);
    }

    #[tokio::test]
    async fn a_token_is_reused_until_the_configured_share_of_its_life_is_gone() {
        let cache = TokenCache::new(0.5, 100);
        let k = key("a");
        holding_a_new_token(&cache, &k).await;
        let at = |secs| Duration::from_secs(secs);
        match cache.get_or_start(&k, at(449), None, true, |_| unreachable_flight()) {
            Lookup::Reuse(t) => assert_eq!(t.expires_in(at(449)), 451, "the remaining life"),
            other => panic!("expected a reuse, got {other:?}"),
        }
        assert!(
            matches!(
                cache.get_or_start(&k, at(450), None, true, |_| async {
                    Ok(token(Duration::from_secs(450)))
                }
                .boxed()),
                Lookup::Started(_)
            ),
            "half its life gone: mint anew"
        );
    }

    #[tokio::test]
    async fn a_pending_mint_is_joined_and_a_failed_one_forgotten() {
        let cache = TokenCache::new(0.5, 100);
        let k = key("b");
        let Lookup::Started(flight) = cache.get_or_start(&k, Duration::ZERO, None, true, |_| {
            async { Err(MintError::Unavailable("down".into())) }.boxed()
        }) else {
            panic!("an empty cache starts a mint");
        };
        let joined = cache.get_or_start(&k, Duration::ZERO, None, true, |_| unreachable_flight());
        assert!(
            matches!(joined, Lookup::Join(_)),
            "the second request joins"
        );
        let result = flight.await;
        cache.finish(&k, 0, &result);
        assert!(
            matches!(
                cache.get_or_start(&k, Duration::ZERO, None, true, |_| async {
                    Ok(token(Duration::ZERO))
                }
                .boxed()),
                Lookup::Started(_)
            ),
            "an error is not cached"
        );
    }

    fn unreachable_flight() -> BoxFuture<'static, Result<CachedToken, MintError>> {
        async { Err(MintError::Internal("this flight must not start".into())) }.boxed()
    }

    #[test]
    fn known_customers_stay_within_their_capacity_and_a_flood_forgets_only_the_oldest() {
        let known = KnownCustomers::new(16 * 16);
        known.insert("ext:visitor_regular");
        for i in 0..10_000 {
            known.insert(&format!("ext:visitor_{i}"));
            // A visitor who keeps coming back stays known through the flood
            // (issue #13: a full shard used to be cleared).
            assert!(known.contains("ext:visitor_regular"), "forgotten after {i}");
        }
        assert!(known.contains("ext:visitor_9999"));
        assert!(!known.contains("ext:visitor_0"), "the oldest is forgotten");
        let held: usize = known.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= 16 * 16, "{held}");
    }

    #[tokio::test]
    async fn a_token_named_stale_by_its_jti_or_whole_is_not_reused() {
        let cache = TokenCache::new(0.5, 100);
        let k = key("s");
        holding_a_new_token(&cache, &k).await;
        for stale in ["t", "ct_t"] {
            assert!(
                matches!(
                    cache.get_or_start(&k, Duration::ZERO, Some(stale), true, |_| {
                        unreachable_flight()
                    }),
                    Lookup::Started(_)
                ),
                "{stale} names the cached token"
            );
            cache.finish(&k, u64::MAX, &Err(MintError::Internal("x".into())));
            let mut map = cache.shard(&k).lock().unwrap();
            map.put(k.clone(), Slot::Ready(token(Duration::ZERO)));
        }
        assert!(matches!(
            cache.get_or_start(&k, Duration::ZERO, Some("ct_other"), true, |_| {
                unreachable_flight()
            }),
            Lookup::Reuse(_)
        ));
    }
}
