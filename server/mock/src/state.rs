//! What the mock remembers: customers, idempotency records, client tokens,
//! threads and rate-limit windows, as plain data (the store of mini-redis'
//! `db.rs`): this module depends on nothing else in the crate. The handlers
//! reach it through [`AppState::store`](crate::AppState::store), one lock
//! that no handler holds across an `.await`; the test controls' own data
//! (scripts, pacing) is [`crate::controls::Controls`], under its own lock.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use ringside_wire::customer::{ClientToken, Customer};
use ringside_wire::threads::{Thread, ThreadMessage};

/// How the mock answers, set by flags. (The mint's tests build this literal:
/// new settings go to [`Options`](crate::Options).)
#[derive(Debug, Clone)]
pub struct Settings {
    /// The full API key (every scope, `api:client_tokens` included) that
    /// servers authenticate with.
    pub api_key: String,
    /// Tokens in a generated answer.
    pub answer_tokens: usize,
    /// Delay before the first content token.
    pub first_token_delay: Duration,
    /// Delay between content tokens.
    pub token_delay: Duration,
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

/// A minted Client Token as the mock keeps it (the JWT itself is never kept).
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// Mint order, so lists come out newest first.
    pub seq: u64,
    /// What the list and revoke routes show.
    pub token: ClientToken,
}

/// A thread, its owner and its messages.
#[derive(Debug, Clone)]
pub struct ThreadRecord {
    /// Creation order, so lists come out newest first.
    pub seq: u64,
    /// The customer that created it; `None` when a server key did.
    pub owner: Option<String>,
    /// The thread.
    pub thread: Thread,
    /// Its messages, oldest first.
    pub messages: Vec<ThreadMessage>,
}

/// The mock's data.
#[derive(Debug)]
pub struct Store {
    /// Customers by id.
    pub customers: HashMap<String, Customer>,
    /// Customer ids by external id.
    pub external_ids: HashMap<String, String>,
    /// Idempotency records by (API key, Idempotency-Key).
    pub idempotency: HashMap<(String, String), Idempotent>,
    /// Client tokens by id.
    pub client_tokens: HashMap<String, TokenRecord>,
    /// Threads by id.
    pub threads: HashMap<String, ThreadRecord>,
    /// Admitted requests per customer id, in clock milliseconds, for the
    /// sliding rate-limit window.
    pub windows: HashMap<String, VecDeque<i64>>,
    /// A counter for ordering records.
    pub seq: u64,
    /// Client-token records past which the next mint forgets long-expired ones.
    forget_at: usize,
}

/// A client token's record is kept this long after it expired (for the list
/// and revoke routes), then forgotten, so minting for days costs bounded
/// memory. A forgotten token is still refused as expired: the expiry is
/// judged from the token itself, before its record is looked up.
pub const FORGET_EXPIRED_AFTER_SECS: i64 = 3600;

/// The fewest records at which forgetting is worth a pass over them.
const FORGET_AT_LEAST: usize = 1024;

impl Default for Store {
    fn default() -> Self {
        Store {
            customers: HashMap::new(),
            external_ids: HashMap::new(),
            idempotency: HashMap::new(),
            client_tokens: HashMap::new(),
            threads: HashMap::new(),
            windows: HashMap::new(),
            seq: 0,
            forget_at: FORGET_AT_LEAST,
        }
    }
}

impl Store {
    /// Keeps a minted client token's record, and now and then forgets the
    /// ones expired for over [`FORGET_EXPIRED_AFTER_SECS`] at `now`. A pass
    /// runs when the records have doubled since the last, so its cost per
    /// mint stays constant.
    pub fn remember_token(&mut self, token: ClientToken, now: i64) {
        let seq = self.next_seq();
        self.client_tokens
            .insert(token.id.clone(), TokenRecord { seq, token });
        if self.client_tokens.len() >= self.forget_at {
            let horizon = now.saturating_sub(FORGET_EXPIRED_AFTER_SECS);
            self.client_tokens
                .retain(|_, record| record.token.expires_at > horizon);
            self.forget_at = FORGET_AT_LEAST.max(2 * self.client_tokens.len());
        }
    }

    /// Finds a customer by `cus_…` id or by its external id.
    pub fn customer(&self, handle: &str) -> Option<&Customer> {
        match self.customers.get(handle) {
            Some(customer) => Some(customer),
            None => self.customers.get(self.external_ids.get(handle)?),
        }
    }

    /// Finds a customer by `cus_…` id or by its external id, to change it.
    pub fn customer_mut(&mut self, handle: &str) -> Option<&mut Customer> {
        let id = match self.customers.contains_key(handle) {
            true => handle.to_string(),
            false => self.external_ids.get(handle)?.clone(),
        };
        self.customers.get_mut(&id)
    }

    /// The next number of the record counter.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
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

#[cfg(test)]
mod tests {
    use super::*;

    fn token(id: usize, expires_at: i64) -> ClientToken {
        ClientToken {
            id: format!("ct_{id}"),
            object: "client_token".into(),
            token: None,
            expires_at,
            expires_in: 0,
            customer_id: "cus_1".into(),
            scope: Vec::new(),
            origin_allowlist: Vec::new(),
            bind_ip: None,
            revoked: false,
        }
    }

    /// The store is plain data, as mini-redis' `db.rs`: it reaches into no
    /// other module (which once made a circle of them: error, billing,
    /// state, controls, error).
    #[test]
    fn the_store_depends_on_nothing_else_in_the_crate() {
        let path = concat!("crate", "::");
        let reaching: Vec<&str> = include_str!("state.rs")
            .lines()
            .filter(|line| !line.trim_start().starts_with("//") && line.contains(path))
            .collect();
        assert!(reaching.is_empty(), "{reaching:#?}");
    }

    #[test]
    fn long_expired_token_records_are_forgotten_and_live_ones_kept() {
        let mut store = Store::default();
        let now = 1_000_000;
        for i in 0..10_000 {
            // Every other one expired two hours ago; the rest live on.
            let expires_at = if i % 2 == 0 { now - 7200 } else { now + 900 };
            store.remember_token(token(i, expires_at), now);
        }
        let live = store
            .client_tokens
            .values()
            .filter(|r| r.token.expires_at > now)
            .count();
        assert_eq!(live, 5_000, "no live token is ever forgotten");
        assert!(
            store.client_tokens.len() < 7_000,
            "most long-expired ones are: {} kept",
            store.client_tokens.len()
        );
        // Expired within the hour: kept, for the list and revoke routes.
        store.remember_token(token(99_999, now - 60), now);
        store.forget_at = 0;
        store.remember_token(token(100_000, now + 900), now);
        assert!(store.client_tokens.contains_key("ct_99999"));
        assert!(
            store
                .client_tokens
                .values()
                .all(|r| r.token.expires_at > now - 3600)
        );
    }
}
