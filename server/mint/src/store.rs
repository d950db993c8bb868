//! The state replicas share, in Redis (`--redis-url`): rate limits, the
//! global visitor ceilings, the known customers, reusable tokens, the lock
//! that makes one replica mint for a key while the others wait for its
//! token, and the proof-of-work solutions already used. Every change is one
//! atomic step (a Lua script, `SET NX`, or a `MULTI` pipeline), never a
//! read-then-write, and every key has a TTL.
//!
//! Time for the rate limits is Redis' own (`TIME` inside the script): the
//! replicas' clocks never have to agree.
//!
//! When Redis is unreachable (each call is bounded by [`OP_TIMEOUT`]) the
//! caller falls back to this process's own state, and [`Health`] says so:
//! a warning when it goes down, an info line when it is back, `/healthz` and
//! `/metrics`. While down, Redis is tried again at most every
//! [`RETRY_AFTER_FAILURE`], so an outage costs requests no timeouts.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::ConnectionManager;
use redis::{AsyncCommands, Script};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::limit::Rate;

/// The longest one Redis call may take before the mint falls back.
pub const OP_TIMEOUT: Duration = Duration::from_millis(250);
/// After a failure, how long the mint serves from its own state before
/// trying Redis again.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(1);
/// How long a known customer is remembered in Redis.
const CUSTOMER_TTL_SECS: u64 = 7 * 24 * 60 * 60;

/// Checks every limit of `KEYS` at once (`ARGV`: pairs of interval and
/// tolerance, in ms): if any refuses, none counts, and the longest wait and
/// the (1-based) index of its key are returned; otherwise each key's
/// theoretical arrival time moves on and `{-1, 0}` is returned. GCRA, on
/// Redis' clock.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait, which = -1, 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  if tat > now + tolerance and tat - tolerance - now > wait then
    wait, which = tat - tolerance - now, i
  end
  tats[i] = tat + interval
end
if wait >= 0 then return {wait, which} end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tats[i], 'PX', tats[i] - now + 1000)
end
return {-1, 0}
";

/// The global visitor ceilings: one more new visitor this hour (`KEYS[1]`,
/// at most `ARGV[1]`) and its budget this UTC day (`KEYS[2]`, at most
/// `ARGV[2]` micro-dollars, adding `ARGV[3]`). 0 means no ceiling. Returns
/// 0 when counted, 1 when the hour is full, 2 when the day's budget is.
const CEILING: &str = r"
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local spent = tonumber(redis.call('GET', KEYS[2]) or '0')
local max_count = tonumber(ARGV[1])
local max_spent = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
if max_count > 0 and count + 1 > max_count then return 1 end
if max_spent > 0 and spent + budget > max_spent then return 2 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 7200)
redis.call('INCRBY', KEYS[2], budget)
redis.call('EXPIRE', KEYS[2], 172800)
return 0
";

/// Deletes `KEYS[1]` only if it still holds `ARGV[1]` (a lock's owner
/// releasing it; a stale token leaving, unless replaced meanwhile).
const DELETE_IF: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// Which global ceiling refused a new visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceiling {
    /// `--new-visitors-per-hour`.
    HourlyVisitors,
    /// `--visitor-budget-per-day-usd`.
    DailyBudget,
}

/// Whether Redis answers, as `/healthz` and `/metrics` tell it.
#[derive(Debug)]
pub struct Health {
    up: AtomicBool,
    errors: AtomicU64,
    failed_at_ms: AtomicU64,
    started: Instant,
}

impl Health {
    fn new() -> Self {
        Health {
            up: AtomicBool::new(true),
            errors: AtomicU64::new(0),
            failed_at_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Whether the last call to Redis succeeded.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Calls that failed or timed out so far.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether to try Redis now (always when up; once a second when down).
    fn should_try(&self) -> bool {
        self.is_up()
            || self
                .now_ms()
                .saturating_sub(self.failed_at_ms.load(Ordering::Relaxed))
                >= RETRY_AFTER_FAILURE.as_millis() as u64
    }

    fn succeeded(&self) {
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::info!(
                "redis is reachable again: limits, ceilings and caches are shared again"
            );
        }
    }

    fn failed(&self, error: &str) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        self.failed_at_ms.store(self.now_ms(), Ordering::Relaxed);
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                %error,
                "redis is unreachable: serving with this replica's own limits, ceilings and caches until it is back"
            );
        }
    }
}

/// A token as Redis keeps it for reuse.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredToken {
    token: String,
    #[serde(default)]
    jti: Option<String>,
    expires_at: i64,
    lifetime_ms: u64,
}

/// A reusable token found in Redis.
#[derive(Debug, Clone)]
pub struct SharedToken {
    /// The Client Token.
    pub token: String,
    /// Its `jti`.
    pub jti: Option<String>,
    /// Ringside's `expires_at`.
    pub expires_at: i64,
    /// What is left of its life.
    pub expires_in: Duration,
}

/// A lock held on a key; release it with [`Store::unlock`].
#[derive(Debug)]
pub struct Lock {
    key: String,
    owner: String,
}

/// The shared state in Redis.
pub struct Store {
    connection: ConnectionManager,
    prefix: String,
    health: Health,
    gcra: Script,
    ceiling: Script,
    delete_if: Script,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("prefix", &self.prefix)
            .field("health", &self.health)
            .finish_non_exhaustive()
    }
}

/// Why a Redis URL cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("--redis-url: {0}")]
pub struct BadRedisUrl(String);

impl Store {
    /// A store at `url` (`redis://[:password@]host:port[/db]`, or `rediss://`),
    /// connected lazily: a Redis that is down at start is only a warning.
    pub fn new(url: &str, prefix: &str) -> Result<Store, BadRedisUrl> {
        let client = redis::Client::open(url).map_err(|e| BadRedisUrl(e.to_string()))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(OP_TIMEOUT))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        let connection = ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| BadRedisUrl(e.to_string()))?;
        Ok(Store {
            connection,
            prefix: prefix.to_string(),
            health: Health::new(),
            gcra: Script::new(GCRA),
            ceiling: Script::new(CEILING),
            delete_if: Script::new(DELETE_IF),
        })
    }

    /// Whether Redis answers.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Pings Redis (at start, so a bad URL or a down Redis is logged at once).
    pub async fn ping(&self) -> bool {
        self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .is_some()
    }

    /// Runs `call` against Redis, within [`OP_TIMEOUT`]; `None` when Redis
    /// is down (the caller then uses its own state).
    async fn run<T, F, Fut>(&self, call: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.health.should_try() {
            return None;
        }
        match tokio::time::timeout(OP_TIMEOUT, call(self.connection.clone())).await {
            Ok(Ok(value)) => {
                self.health.succeeded();
                Some(value)
            }
            Ok(Err(error)) => {
                self.health.failed(&error.to_string());
                None
            }
            Err(_) => {
                self.health.failed("timed out");
                None
            }
        }
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}{kind}:{name}", self.prefix)
    }

    /// Counts one request against every `(key, rate)` at once (limits that
    /// are off are skipped): `Err((index, wait))` when the one at `index`
    /// refuses (the longest wait), and then none counts.
    pub async fn limit(&self, checks: &[(String, Rate)]) -> Option<Result<(), (usize, Duration)>> {
        let mut keys = Vec::new();
        let mut args = Vec::new();
        let mut indices = Vec::new();
        for (i, (name, rate)) in checks.iter().enumerate() {
            if let Some((interval, tolerance)) = rate.gcra() {
                keys.push(self.key("limit", name));
                args.push(interval.as_millis() as u64);
                args.push(tolerance.as_millis() as u64);
                indices.push(i);
            }
        }
        if keys.is_empty() {
            return Some(Ok(()));
        }
        let (wait, which): (i64, i64) = self
            .run(|mut c| async move {
                let mut invocation = self.gcra.prepare_invoke();
                for key in &keys {
                    invocation.key(key);
                }
                for arg in &args {
                    invocation.arg(arg);
                }
                invocation.invoke_async(&mut c).await
            })
            .await?;
        Some(if wait < 0 {
            Ok(())
        } else {
            let index = indices
                .get(usize::try_from(which - 1).unwrap_or(0))
                .copied()
                .unwrap_or(0);
            Err((index, Duration::from_millis(wait as u64)))
        })
    }

    /// Counts one new visitor and its budget against the global ceilings of
    /// this hour and this UTC day (`unix` is the replica's wall time).
    pub async fn ceiling(
        &self,
        unix: i64,
        max_per_hour: u64,
        max_micros_per_day: u64,
        budget_micros: u64,
    ) -> Option<Result<(), Ceiling>> {
        let hour = self.key("visitors-hour", &(unix.div_euclid(3600)).to_string());
        let day = self.key("budget-day", &(unix.div_euclid(86_400)).to_string());
        let result: i64 = self
            .run(|mut c| async move {
                self.ceiling
                    .key(&hour)
                    .key(&day)
                    .arg(max_per_hour)
                    .arg(max_micros_per_day)
                    .arg(budget_micros)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Some(match result {
            0 => Ok(()),
            1 => Err(Ceiling::HourlyVisitors),
            _ => Err(Ceiling::DailyBudget),
        })
    }

    /// Whether the customer `external_id` was upserted (by any replica).
    pub async fn customer_known(&self, external_id: &str) -> Option<bool> {
        let key = self.key("customer", &digest(&[external_id]));
        self.run(|mut c| async move { c.exists(&key).await }).await
    }

    /// Remembers that `external_id` exists upstream.
    pub async fn customer_add(&self, external_id: &str) {
        let key = self.key("customer", &digest(&[external_id]));
        self.run(|mut c| async move { c.set_ex::<_, _, ()>(&key, 1, CUSTOMER_TTL_SECS).await })
            .await;
    }

    /// Forgets `external_id` (Ringside said it does not exist).
    pub async fn customer_forget(&self, external_id: &str) {
        let key = self.key("customer", &digest(&[external_id]));
        self.run(|mut c| async move { c.del::<_, ()>(&key).await })
            .await;
    }

    /// The name of the token slot (and lock) of one customer, origin and address.
    pub fn token_slot(external_id: &str, origin: &str, ip: Option<std::net::IpAddr>) -> String {
        digest(&[
            external_id,
            origin,
            &ip.map(|ip| ip.to_string()).unwrap_or_default(),
        ])
    }

    /// The reusable token of `slot`, unless it is the one `stale` names (a
    /// whole token or a `jti`): that one is deleted, for every replica.
    /// `reuse_fraction` of a token's life is its reuse window.
    pub async fn token_get(
        &self,
        slot: &str,
        stale: Option<&str>,
        reuse_fraction: f64,
    ) -> Option<Option<SharedToken>> {
        let key = self.key("token", slot);
        let (value, pttl): (Option<String>, i64) = self
            .run(|mut c| {
                let key = key.clone();
                async move {
                    redis::pipe()
                        .atomic()
                        .get(&key)
                        .pttl(&key)
                        .query_async(&mut c)
                        .await
                }
            })
            .await?;
        let Some(value) = value else {
            return Some(None);
        };
        let Ok(stored) = serde_json::from_str::<StoredToken>(&value) else {
            return Some(None);
        };
        let named = stale
            .is_some_and(|stale| stale == stored.token || stored.jti.as_deref() == Some(stale));
        if named {
            self.run(|mut c| async move {
                self.delete_if
                    .key(&key)
                    .arg(&value)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await;
            return Some(None);
        }
        if pttl <= 0 {
            return Some(None);
        }
        // The key lives for the reuse window; the token lives on after it.
        let window = Duration::from_millis(stored.lifetime_ms).mul_f64(reuse_fraction);
        let after = Duration::from_millis(stored.lifetime_ms).saturating_sub(window);
        Some(Some(SharedToken {
            token: stored.token,
            jti: stored.jti,
            expires_at: stored.expires_at,
            expires_in: Duration::from_millis(pttl as u64) + after,
        }))
    }

    /// Keeps a token for reuse by every replica for `window`.
    pub async fn token_put(
        &self,
        slot: &str,
        token: &str,
        jti: Option<&str>,
        expires_at: i64,
        lifetime: Duration,
        window: Duration,
    ) {
        if window.is_zero() {
            return;
        }
        let key = self.key("token", slot);
        let value = serde_json::to_string(&StoredToken {
            token: token.to_string(),
            jti: jti.map(str::to_string),
            expires_at,
            lifetime_ms: lifetime.as_millis() as u64,
        })
        .expect("a token serialises");
        let ms = window.as_millis().max(1) as u64;
        self.run(|mut c| async move { c.pset_ex::<_, _, ()>(&key, value, ms).await })
            .await;
    }

    /// Takes the lock of `slot` for `ttl` (so one replica mints while the
    /// others wait for its token): `Some(Some(lock))` when taken,
    /// `Some(None)` when another holds it, `None` when Redis is down.
    pub async fn lock(&self, slot: &str, ttl: Duration) -> Option<Option<Lock>> {
        let key = self.key("lock", slot);
        let owner = format!("{:016x}", rand::random::<u64>());
        let ms = ttl.as_millis().max(1) as u64;
        let taken: Option<String> = self
            .run(|mut c| {
                let (key, owner) = (key.clone(), owner.clone());
                async move {
                    redis::cmd("SET")
                        .arg(&key)
                        .arg(&owner)
                        .arg("NX")
                        .arg("PX")
                        .arg(ms)
                        .query_async(&mut c)
                        .await
                }
            })
            .await?;
        Some(taken.map(|_| Lock { key, owner }))
    }

    /// Releases `lock`, if it is still ours.
    pub async fn unlock(&self, lock: Lock) {
        self.run(|mut c| async move {
            self.delete_if
                .key(&lock.key)
                .arg(&lock.owner)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await;
    }

    /// Claims `name` once for `ttl`: `Some(true)` the first time, `Some(false)`
    /// ever after (a proof-of-work solution sent twice).
    pub async fn claim_once(&self, kind: &str, name: &str, ttl: Duration) -> Option<bool> {
        let key = self.key(kind, &digest(&[name]));
        let secs = ttl.as_secs().max(1);
        let set: Option<String> = self
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(&key)
                    .arg(1)
                    .arg("NX")
                    .arg("EX")
                    .arg(secs)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Some(set.is_some())
    }
}

/// A short, fixed-length Redis key part for `parts` (so no caller text ends
/// up in a key as is).
fn digest(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
