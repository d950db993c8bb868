//! The identity provider's JWK set (`--session-jwks-url`): fetched at start
//! with a timeout, cached, and fetched again
//! - when a token names a `kid` the cache lacks (keys rotate), but at most
//!   once a minute: a flood of made-up `kid`s costs the provider one request
//!   a minute, and each such token a 401 meanwhile;
//! - in the background once the keys are an hour old (a key the provider
//!   removed stops being accepted).
//!
//! When the provider is down or answers nonsense, the keys already held are
//! kept and served: signed-in users keep getting tokens through an outage of
//! their identity provider's key endpoint.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::StreamExt;
use ringside_jwt::{KeyError, KeySet};

use crate::clock::Clock;

/// The least time between two fetches of the set (unknown `kid`s, retries
/// after failures).
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(60);
/// Keys older than this are fetched again, in the background.
pub const MAX_KEY_AGE: Duration = Duration::from_secs(60 * 60);
/// The largest JWKS document read, in bytes.
pub const MAX_DOCUMENT: usize = 256 * 1024;
/// How long one fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a fetch of the JWK set failed (the keys held stay in use).
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The request failed (connection, timeout, body).
    #[error("fetching the JWK set failed: {0}")]
    Request(String),
    /// The provider answered with another status than 200.
    #[error("the JWK set URL answered {0}")]
    Status(u16),
    /// The document is over [`MAX_DOCUMENT`].
    #[error("the JWK set is over {MAX_DOCUMENT} bytes")]
    TooLarge,
    /// The document holds no usable key.
    #[error("{0}")]
    Keys(#[from] KeyError),
}

#[derive(Debug, Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Duration>,
    attempted_at: Option<Duration>,
}

/// A cached JWK set.
#[derive(Debug)]
pub struct Jwks {
    url: String,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    state: RwLock<State>,
    refreshing: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

impl Jwks {
    /// The set at `url`, not fetched yet; time (for the once-a-minute rule)
    /// comes from `clock`.
    pub fn new(url: &str, clock: Arc<dyn Clock>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            // Keys come from exactly the configured URL.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client builds");
        Jwks {
            url: url.to_string(),
            http,
            clock,
            state: RwLock::new(State::default()),
            refreshing: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        }
    }

    /// The keys held, if a fetch ever succeeded.
    pub fn keys(&self) -> Option<Arc<KeySet>> {
        self.state
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys
            .clone()
    }

    /// How many fetches were attempted so far.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Fetches the set now (at start), whatever the last attempt.
    pub async fn load(&self) -> Result<usize, JwksError> {
        let _one = self.refreshing.lock().await;
        self.fetch_and_keep().await
    }

    /// Fetches the set again for a token whose `kid` is unknown, unless a
    /// fetch was attempted in the last minute. Concurrent callers share one
    /// fetch. Failures are logged; the keys held stay.
    pub async fn refresh_for_unknown_kid(&self) {
        let _one = self.refreshing.lock().await;
        if !self.may_fetch() {
            return;
        }
        if let Err(error) = self.fetch_and_keep().await {
            tracing::warn!(url = %self.url, %error, "session keys: keeping the cached JWK set");
        }
    }

    /// Starts a background fetch when the keys are older than
    /// [`MAX_KEY_AGE`] (and none was attempted in the last minute).
    pub fn refresh_if_old(self: &Arc<Self>) {
        let old = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            let now = self.clock.monotonic();
            state
                .fetched_at
                .is_some_and(|at| now.saturating_sub(at) >= MAX_KEY_AGE)
        };
        if old && self.may_fetch() {
            let jwks = self.clone();
            tokio::spawn(async move { jwks.refresh_for_unknown_kid().await });
        }
    }

    fn may_fetch(&self) -> bool {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.monotonic();
        state
            .attempted_at
            .is_none_or(|at| now.saturating_sub(at) >= MIN_REFRESH_INTERVAL)
    }

    async fn fetch_and_keep(&self) -> Result<usize, JwksError> {
        self.state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .attempted_at = Some(self.clock.monotonic());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let (keys, skipped) = self.fetch().await?;
        for line in &skipped {
            tracing::warn!(url = %self.url, key = %line, "session keys: a key of the JWK set is left out");
        }
        let count = keys.len();
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        state.keys = Some(Arc::new(keys));
        state.fetched_at = Some(self.clock.monotonic());
        tracing::info!(url = %self.url, keys = count, "session keys: JWK set fetched");
        Ok(count)
    }

    async fn fetch(&self) -> Result<(KeySet, Vec<String>), JwksError> {
        let failed = |e: reqwest::Error| JwksError::Request(e.without_url().to_string());
        let response = self
            .http
            .get(&self.url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(failed)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(JwksError::Status(response.status().as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_DOCUMENT as u64)
        {
            return Err(JwksError::TooLarge);
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            body.extend_from_slice(&chunk.map_err(failed)?);
            if body.len() > MAX_DOCUMENT {
                return Err(JwksError::TooLarge);
            }
        }
        Ok(KeySet::from_jwks(&body)?)
    }
}
