//! Money and limits: the price table, the per-customer rate limit (a sliding
//! 60-second window on the mock's movable clock) and the wallet and budget
//! checks, in the contract's order (rate limit, wallet, budget).
//!
//! # The rules
//! - **Admission.** A request for a customer is checked, in order: over
//!   `rate_limit_rpm` in the last 60 s → 429 `rate_limit_exceeded`; a wallet
//!   (`wallet_balance_usd` not null) at 0 → 402 `customer_wallet_empty`;
//!   `spent_usd >= budget_usd` → 402 `customer_budget_exceeded`. Only
//!   admitted requests enter the rate window; refused ones do not count.
//! - **Charging.** An admitted call is priced from the table below, for its
//!   whole answer, when it is admitted (a stream the client abandons is still
//!   paid in full). The price is added to `spent_usd` and taken from the
//!   wallet, if there is one, which never goes below 0.
//! - **Crossing the line.** The checks run before a call, so the call that
//!   crosses the budget or empties the wallet completes; the next is refused.
//!
//! # Prices (US dollars per million tokens)
//! | model | prompt | completion |
//! | --- | --- | --- |
//! | `fc:openai/gpt-4o-mini` | 0.15 | 0.60 |
//! | `fc:openai/gpt-4o` | 2.50 | 10.00 |
//! | `fc:anthropic/claude-3-5-haiku` | 0.80 | 4.00 |
//! | `fc:meta/llama-3.1-8b` | 0.05 | 0.08 |
//! | `fc:openai/text-embedding-3-small` | 0.02 | – |
//! | `fc:openai/text-embedding-3-large` | 0.13 | – |
//! | `fc:openai/omni-moderation-latest` | 0 | – |
//!
//! Threads and messages are free. Tokens are counted as the answers report
//! them in `usage`.

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

use crate::error::ApiError;
use crate::state::{AppState, Store};

/// The length of the rate-limit window.
pub const WINDOW_MS: i64 = 60_000;

/// One model's price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// The model id.
    pub model: &'static str,
    /// Dollars per million prompt (input) tokens.
    pub prompt_per_million: f64,
    /// Dollars per million completion (output) tokens.
    pub completion_per_million: f64,
}

/// Every model the mock serves and its price.
pub const PRICES: &[Price] = &[
    price("fc:openai/gpt-4o-mini", 0.15, 0.60),
    price("fc:openai/gpt-4o", 2.50, 10.00),
    price("fc:anthropic/claude-3-5-haiku", 0.80, 4.00),
    price("fc:meta/llama-3.1-8b", 0.05, 0.08),
    price("fc:openai/text-embedding-3-small", 0.02, 0.0),
    price("fc:openai/text-embedding-3-large", 0.13, 0.0),
    price("fc:openai/omni-moderation-latest", 0.0, 0.0),
];

const fn price(model: &'static str, prompt: f64, completion: f64) -> Price {
    Price {
        model,
        prompt_per_million: prompt,
        completion_per_million: completion,
    }
}

/// The price of one call, in dollars (0 for a model not in the table).
pub fn cost(model: &str, prompt_tokens: u32, completion_tokens: u32) -> f64 {
    PRICES.iter().find(|p| p.model == model).map_or(0.0, |p| {
        (f64::from(prompt_tokens) * p.prompt_per_million
            + f64::from(completion_tokens) * p.completion_per_million)
            / 1e6
    })
}

/// Where a customer stands against its rate limit, for the `x-ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateInfo {
    /// `rate_limit_rpm`.
    pub limit: u32,
    /// Requests left in the window.
    pub remaining: u32,
    /// Milliseconds until the oldest request leaves the window.
    pub reset_ms: i64,
}

impl RateInfo {
    /// Sets `x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests` and
    /// `x-ratelimit-reset-requests` (a duration such as `12s`, as OpenAI writes it).
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit-requests", HeaderValue::from(self.limit));
        headers.insert(
            "x-ratelimit-remaining-requests",
            HeaderValue::from(self.remaining),
        );
        if let Ok(value) = HeaderValue::from_str(&duration_text(self.reset_ms)) {
            headers.insert("x-ratelimit-reset-requests", value);
        }
    }
}

/// Sets the `x-ratelimit-*` headers of an admitted request, if it has a limit.
pub fn with_rate(mut response: Response, rate: Option<RateInfo>) -> Response {
    if let Some(rate) = rate {
        rate.apply(response.headers_mut());
    }
    response
}

/// Admits a request for `customer` (if any) and charges it `usd`, in one
/// step under the store's lock.
pub fn admit_and_charge(
    state: &AppState,
    customer: Option<&str>,
    usd: f64,
) -> Result<Option<RateInfo>, ApiError> {
    let Some(customer) = customer else {
        return Ok(None);
    };
    let mut store = state.store();
    let rate = admit(&mut store, customer, state.clock.now_ms())?;
    charge(&mut store, customer, usd);
    Ok(rate)
}

/// `950ms`, `12s`, `1m0s`: whole seconds rounded up from one second on.
pub fn duration_text(ms: i64) -> String {
    let ms = u64::try_from(ms).unwrap_or(0);
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = ms.div_ceil(1000);
    if secs < 60 {
        format!("{secs}s")
    } else {
        format!("{}m{}s", secs / 60, secs % 60)
    }
}

/// Checks a request for `customer_id` at clock time `now_ms` against its rate
/// limit, wallet and budget, in that order; on success records it in the
/// rate window. An unknown customer (deleted by a reset) has no limits.
pub fn admit(
    store: &mut Store,
    customer_id: &str,
    now_ms: i64,
) -> Result<Option<RateInfo>, ApiError> {
    let Some(customer) = store.customers.get(customer_id) else {
        return Ok(None);
    };
    let rpm = customer.rate_limit_rpm;
    let wallet_empty = customer.wallet_balance_usd.is_some_and(|b| b <= 0.0);
    let over_budget = customer
        .budget_usd
        .is_some_and(|budget| customer.spent_usd >= budget);

    if let Some(limit) = rpm {
        let window = store.windows.entry(customer_id.to_string()).or_default();
        while window.front().is_some_and(|&t| t <= now_ms - WINDOW_MS) {
            window.pop_front();
        }
        if window.len() >= limit as usize {
            let reset_ms = window
                .front()
                .map_or(0, |&oldest| oldest + WINDOW_MS - now_ms);
            return Err(ApiError::RateLimited {
                limit,
                retry_after_secs: u64::try_from(reset_ms).unwrap_or(0).div_ceil(1000).max(1),
                reset_ms,
            });
        }
    }
    if wallet_empty {
        return Err(ApiError::WalletEmpty);
    }
    if over_budget {
        return Err(ApiError::BudgetExceeded);
    }
    Ok(rpm.map(|limit| {
        let window = store.windows.entry(customer_id.to_string()).or_default();
        window.push_back(now_ms);
        let oldest = window.front().copied().unwrap_or(now_ms);
        RateInfo {
            limit,
            remaining: limit.saturating_sub(u32::try_from(window.len()).unwrap_or(u32::MAX)),
            reset_ms: oldest + WINDOW_MS - now_ms,
        }
    }))
}

/// Adds `usd` to what `customer_id` spent and takes it from its wallet.
pub fn charge(store: &mut Store, customer_id: &str, usd: f64) {
    if usd <= 0.0 {
        return;
    }
    if let Some(customer) = store.customers.get_mut(customer_id) {
        customer.spent_usd = round_nano(customer.spent_usd + usd);
        if let Some(balance) = &mut customer.wallet_balance_usd {
            *balance = round_nano((*balance - usd).max(0.0));
        }
    }
}

/// Rounds to a billionth of a dollar, so sums do not show float noise.
pub fn round_nano(usd: f64) -> f64 {
    (usd * 1e9).round() / 1e9
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_per_million_tokens() {
        let usd = cost("fc:openai/gpt-4o", 1_000_000, 1_000_000);
        assert!((usd - 12.5).abs() < 1e-9, "{usd}");
        assert_eq!(cost("fc:nobody/unknown", 10, 10), 0.0);
    }

    #[test]
    fn reset_durations_read_like_openai_headers() {
        assert_eq!(duration_text(-5), "0ms");
        assert_eq!(duration_text(950), "950ms");
        assert_eq!(duration_text(1000), "1s");
        assert_eq!(duration_text(11_001), "12s");
        assert_eq!(duration_text(60_000), "1m0s");
    }
}
