//! What the mock remembers: customers, idempotency records and client tokens,
//! behind one lock that no handler holds across an `.await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ringside_wire::customer::{ClientToken, Customer};

use crate::clock::Clock;
use crate::jwt::TokenSigner;

/// How the mock answers, set by flags.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The one API key (scope `api:client_tokens`) servers authenticate with.
    pub api_key: String,
    /// Tokens in a generated answer.
    pub answer_tokens: usize,
    /// Delay before the first content token.
    pub first_token_delay: Duration,
    /// Delay between content tokens.
    pub token_delay: Duration,
}

/// Everything a handler needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Flags.
    pub settings: Arc<Settings>,
    /// Signs and verifies Client Tokens.
    pub signer: Arc<TokenSigner>,
    /// The (movable) clock.
    pub clock: Arc<Clock>,
    store: Arc<Mutex<Store>>,
}

impl AppState {
    /// Fresh state with a new signing key.
    pub fn new(settings: Settings, issuer: &str) -> Self {
        AppState {
            settings: Arc::new(settings),
            signer: Arc::new(TokenSigner::generate(issuer)),
            clock: Arc::new(Clock::default()),
            store: Arc::new(Mutex::new(Store::default())),
        }
    }

    /// Locks the store. A panic while it was held (a bug) does not wedge the
    /// mock: the data is plain maps, still consistent enough to serve tests.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One answer kept for an Idempotency-Key.
#[derive(Debug, Clone)]
pub enum Idempotent {
    /// The first request is still running.
    InProgress {
        /// Hash of the first request's body.
        body_hash: [u8; 32],
    },
    /// The first request finished with this answer.
    Done {
        /// Hash of the first request's body.
        body_hash: [u8; 32],
        /// Its status.
        status: u16,
        /// Its JSON body.
        body: Vec<u8>,
        /// When it was stored, Unix seconds (kept 24 h).
        at: i64,
    },
}

/// The mock's data.
#[derive(Debug, Default)]
pub struct Store {
    /// Customers by id.
    pub customers: HashMap<String, Customer>,
    /// Customer ids by external id.
    pub external_ids: HashMap<String, String>,
    /// Idempotency records by (API key, Idempotency-Key).
    pub idempotency: HashMap<(String, String), Idempotent>,
    /// Client tokens by id (the JWT itself is never kept).
    pub client_tokens: HashMap<String, ClientToken>,
}

impl Store {
    /// Finds a customer by `cus_…` id or by its external id.
    pub fn customer(&self, handle: &str) -> Option<&Customer> {
        match self.customers.get(handle) {
            Some(customer) => Some(customer),
            None => self.customers.get(self.external_ids.get(handle)?),
        }
    }
}

/// A random id with a prefix, e.g. `cus_7Qk2…`.
pub fn new_id(prefix: &str) -> String {
    use rand::{Rng, distributions::Alphanumeric};
    let suffix: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect();
    format!("{prefix}{suffix}")
}
