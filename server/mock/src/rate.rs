//! What a customer's rate limit says in the `x-ratelimit-*` headers, on an
//! admitted request ([`with_rate`]) and on a 429
//! ([`ApiError::RateLimited`](crate::error::ApiError::RateLimited)).

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_durations_read_like_openai_headers() {
        assert_eq!(duration_text(-5), "0ms");
        assert_eq!(duration_text(950), "950ms");
        assert_eq!(duration_text(1000), "1s");
        assert_eq!(duration_text(11_001), "12s");
        assert_eq!(duration_text(60_000), "1m0s");
    }
}
