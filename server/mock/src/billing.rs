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

use crate::error::ApiError;
use crate::rate::RateInfo;
use crate::state::Store;

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

/// Admits a request for `customer` (if any) at clock time `now_ms` and
/// charges it `usd`, in one step (the caller holds the store's lock).
pub fn admit_and_charge(
    store: &mut Store,
    now_ms: i64,
    customer: Option<&str>,
    usd: f64,
) -> Result<Option<RateInfo>, ApiError> {
    let Some(customer) = customer else {
        return Ok(None);
    };
    let rate = admit(store, customer, now_ms)?;
    charge(store, customer, usd);
    Ok(rate)
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
}
