//! Counters for `GET /metrics`, in the Prometheus text exposition format
//! (version 0.0.4), written by hand: a few atomics, no registry.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// How a token request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A token minted upstream for this request.
    Minted,
    /// A cached token, still fresh enough, handed out again.
    Reused,
    /// A token from a mint another concurrent request started (single-flight).
    Shared,
    /// 403: Origin missing or not allowed.
    OriginDenied,
    /// 401: no valid identity.
    Unauthenticated,
    /// 429: a limit of the mint route.
    RateLimited,
    /// 400: a malformed request (e.g. a trusted proxy's `X-Forwarded-For`).
    BadRequest,
    /// 502: Ringside answered with an error.
    UpstreamError,
    /// 503: Ringside unreachable or too slow.
    UpstreamUnavailable,
    /// 500: the mint failed.
    Internal,
    /// 503: a global ceiling on new visitors is reached.
    CapacityReached,
    /// 401: a new visitor must solve the proof-of-work first.
    ChallengeRequired,
}

impl Outcome {
    const ALL: [Outcome; 12] = [
        Outcome::Minted,
        Outcome::Reused,
        Outcome::Shared,
        Outcome::OriginDenied,
        Outcome::Unauthenticated,
        Outcome::RateLimited,
        Outcome::BadRequest,
        Outcome::UpstreamError,
        Outcome::UpstreamUnavailable,
        Outcome::Internal,
        Outcome::CapacityReached,
        Outcome::ChallengeRequired,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Minted => "minted",
            Outcome::Reused => "reused",
            Outcome::Shared => "shared",
            Outcome::OriginDenied => "origin_denied",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::RateLimited => "rate_limited",
            Outcome::BadRequest => "bad_request",
            Outcome::UpstreamError => "upstream_error",
            Outcome::UpstreamUnavailable => "upstream_unavailable",
            Outcome::Internal => "internal_error",
            Outcome::CapacityReached => "visitor_capacity_reached",
            Outcome::ChallengeRequired => "challenge_required",
        }
    }
}

/// The two upstream calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `POST /v1/customers`.
    Upsert,
    /// `POST /v1/customers/{id}/client_tokens`.
    Mint,
}

impl Call {
    fn as_str(self) -> &'static str {
        match self {
            Call::Upsert => "upsert",
            Call::Mint => "mint",
        }
    }
}

/// How one upstream attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    /// The answer we wanted.
    Ok,
    /// An error status or an unreadable body.
    Error,
    /// Could not connect.
    Connect,
    /// Timed out.
    Timeout,
}

impl CallResult {
    const ALL: [CallResult; 4] = [
        CallResult::Ok,
        CallResult::Error,
        CallResult::Connect,
        CallResult::Timeout,
    ];

    fn as_str(self) -> &'static str {
        match self {
            CallResult::Ok => "ok",
            CallResult::Error => "error",
            CallResult::Connect => "connect_error",
            CallResult::Timeout => "timeout",
        }
    }
}

/// Which route limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    /// Per browser address.
    Ip,
    /// Per identity.
    Identity,
    /// New identities (cookie-less visitors) per browser address (IPv6: /64).
    NewVisitor,
    /// New visitors per IPv6 /56.
    NewVisitor56,
    /// New visitors per IPv6 /48.
    NewVisitor48,
}

impl LimitKind {
    const ALL: [LimitKind; 5] = [
        LimitKind::Ip,
        LimitKind::Identity,
        LimitKind::NewVisitor,
        LimitKind::NewVisitor56,
        LimitKind::NewVisitor48,
    ];

    /// The label value (and the `scope` of [`crate::error::MintError::RateLimited`]).
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Ip => "ip",
            LimitKind::Identity => "identity",
            LimitKind::NewVisitor => "new_visitor",
            LimitKind::NewVisitor56 => "new_visitor_56",
            LimitKind::NewVisitor48 => "new_visitor_48",
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Upper bounds of the upstream latency histogram, seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// Every counter the mint keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    outcomes: [AtomicU64; Outcome::ALL.len()],
    upstream: [[AtomicU64; CallResult::ALL.len()]; 2],
    retries: [AtomicU64; 2],
    latency: [Histogram; 2],
    rate_limited: [AtomicU64; LimitKind::ALL.len()],
    capacity_reached: [AtomicU64; 2],
    customer_cache_hits: AtomicU64,
    token_cache_hits: AtomicU64,
    /// Ratings of answers received (the feedback route).
    pub(crate) feedback: crate::feedback::Counts,
}

fn call_index(call: Call) -> usize {
    match call {
        Call::Upsert => 0,
        Call::Mint => 1,
    }
}

impl Metrics {
    /// Counts a finished token request.
    pub fn outcome(&self, outcome: Outcome) {
        let i = Outcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        self.outcomes[i].fetch_add(1, Relaxed);
        if outcome == Outcome::Reused {
            self.token_cache_hits.fetch_add(1, Relaxed);
        }
    }

    /// Counts one upstream attempt and its duration.
    pub fn upstream(&self, call: Call, result: CallResult, took: Duration) {
        let r = CallResult::ALL
            .iter()
            .position(|c| *c == result)
            .unwrap_or(0);
        self.upstream[call_index(call)][r].fetch_add(1, Relaxed);
        let histogram = &self.latency[call_index(call)];
        let secs = took.as_secs_f64();
        for (bucket, bound) in histogram.buckets.iter().zip(BUCKETS) {
            if secs <= bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        histogram.count.fetch_add(1, Relaxed);
        histogram
            .sum_micros
            .fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    /// Counts a retry of an upstream call.
    pub fn retry(&self, call: Call) {
        self.retries[call_index(call)].fetch_add(1, Relaxed);
    }

    /// Counts a refusal by a route limit.
    pub fn rate_limited(&self, kind: LimitKind) {
        let i = LimitKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        self.rate_limited[i].fetch_add(1, Relaxed);
    }

    /// Counts a new visitor refused by a global ceiling
    /// (`hourly_visitors` or `daily_budget`).
    pub fn capacity_reached(&self, ceiling: &str) {
        let i = usize::from(ceiling == "daily_budget");
        self.capacity_reached[i].fetch_add(1, Relaxed);
    }

    /// Counts an upsert skipped because the customer is known.
    pub fn customer_cache_hit(&self) {
        self.customer_cache_hits.fetch_add(1, Relaxed);
    }

    /// Total upstream attempts of `call` so far.
    pub fn upstream_attempts(&self, call: Call) -> u64 {
        self.upstream[call_index(call)]
            .iter()
            .map(|c| c.load(Relaxed))
            .sum()
    }

    /// The exposition text; `cached_tokens` is the token cache's size;
    /// `redis` whether Redis answers and its errors so far, when configured.
    pub fn render(&self, cached_tokens: usize, redis: Option<(bool, u64)>) -> String {
        let mut out = String::with_capacity(4096);
        family(
            &mut out,
            "ringside_mint_requests_total",
            "counter",
            "Token requests answered, by outcome (minted, reused and shared are successes).",
        );
        for (outcome, count) in Outcome::ALL.iter().zip(&self.outcomes) {
            let _ = writeln!(
                out,
                "ringside_mint_requests_total{{outcome=\"{}\"}} {}",
                outcome.as_str(),
                count.load(Relaxed)
            );
        }
        family(
            &mut out,
            "ringside_mint_cache_hits_total",
            "counter",
            "Upstream calls saved: token = a cached token reused, customer = an upsert skipped.",
        );
        let _ = writeln!(
            out,
            "ringside_mint_cache_hits_total{{cache=\"token\"}} {}\nringside_mint_cache_hits_total{{cache=\"customer\"}} {}",
            self.token_cache_hits.load(Relaxed),
            self.customer_cache_hits.load(Relaxed)
        );
        family(
            &mut out,
            "ringside_mint_rate_limited_total",
            "counter",
            "Token requests refused with 429, by limit.",
        );
        for (kind, count) in LimitKind::ALL.iter().zip(&self.rate_limited) {
            let _ = writeln!(
                out,
                "ringside_mint_rate_limited_total{{limit=\"{}\"}} {}",
                kind.as_str(),
                count.load(Relaxed)
            );
        }
        family(
            &mut out,
            "ringside_mint_upstream_requests_total",
            "counter",
            "Attempts at Ringside calls, by call and result (error, connect_error and timeout are upstream errors).",
        );
        for call in [Call::Upsert, Call::Mint] {
            for (result, count) in CallResult::ALL.iter().zip(&self.upstream[call_index(call)]) {
                let _ = writeln!(
                    out,
                    "ringside_mint_upstream_requests_total{{call=\"{}\",result=\"{}\"}} {}",
                    call.as_str(),
                    result.as_str(),
                    count.load(Relaxed)
                );
            }
        }
        family(
            &mut out,
            "ringside_mint_upstream_retries_total",
            "counter",
            "Retried Ringside calls, by call.",
        );
        for call in [Call::Upsert, Call::Mint] {
            let _ = writeln!(
                out,
                "ringside_mint_upstream_retries_total{{call=\"{}\"}} {}",
                call.as_str(),
                self.retries[call_index(call)].load(Relaxed)
            );
        }
        family(
            &mut out,
            "ringside_mint_upstream_duration_seconds",
            "histogram",
            "Duration of each attempt at a Ringside call.",
        );
        for call in [Call::Upsert, Call::Mint] {
            let histogram = &self.latency[call_index(call)];
            for (bound, count) in BUCKETS.iter().zip(&histogram.buckets) {
                let _ = writeln!(
                    out,
                    "ringside_mint_upstream_duration_seconds_bucket{{call=\"{}\",le=\"{bound}\"}} {}",
                    call.as_str(),
                    count.load(Relaxed)
                );
            }
            let count = histogram.count.load(Relaxed);
            let _ = writeln!(
                out,
                "ringside_mint_upstream_duration_seconds_bucket{{call=\"{0}\",le=\"+Inf\"}} {count}\nringside_mint_upstream_duration_seconds_sum{{call=\"{0}\"}} {1}\nringside_mint_upstream_duration_seconds_count{{call=\"{0}\"}} {count}",
                call.as_str(),
                histogram.sum_micros.load(Relaxed) as f64 / 1e6,
            );
        }
        family(
            &mut out,
            "ringside_mint_cached_tokens",
            "gauge",
            "Tokens held for reuse.",
        );
        let _ = writeln!(out, "ringside_mint_cached_tokens {cached_tokens}");
        family(
            &mut out,
            "ringside_mint_visitor_capacity_reached_total",
            "counter",
            "New visitors refused with 503 visitor_capacity_reached, by ceiling (--new-visitors-per-hour, --visitor-budget-per-day-usd).",
        );
        for (ceiling, count) in ["hourly_visitors", "daily_budget"]
            .iter()
            .zip(&self.capacity_reached)
        {
            let _ = writeln!(
                out,
                "ringside_mint_visitor_capacity_reached_total{{ceiling=\"{ceiling}\"}} {}",
                count.load(Relaxed)
            );
        }
        if let Some((up, errors)) = redis {
            family(
                &mut out,
                "ringside_mint_redis_up",
                "gauge",
                "1 when Redis answers; 0 while the mint serves with this replica's own limits and caches.",
            );
            let _ = writeln!(out, "ringside_mint_redis_up {}", u8::from(up));
            family(
                &mut out,
                "ringside_mint_redis_errors_total",
                "counter",
                "Redis calls that failed or timed out (each fell back to this replica's own state).",
            );
            let _ = writeln!(out, "ringside_mint_redis_errors_total {errors}");
        }
        self.feedback.render(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_family_with_help_and_type() {
        let metrics = Metrics::default();
        metrics.outcome(Outcome::Reused);
        metrics.upstream(Call::Mint, CallResult::Ok, Duration::from_millis(20));
        metrics.rate_limited(LimitKind::Ip);
        let text = metrics.render(3, Some((false, 2)));
        for line in [
            "ringside_mint_requests_total{outcome=\"reused\"} 1",
            "ringside_mint_cache_hits_total{cache=\"token\"} 1",
            "ringside_mint_rate_limited_total{limit=\"ip\"} 1",
            "ringside_mint_upstream_requests_total{call=\"mint\",result=\"ok\"} 1",
            "ringside_mint_upstream_duration_seconds_bucket{call=\"mint\",le=\"0.025\"} 1",
            "ringside_mint_upstream_duration_seconds_bucket{call=\"mint\",le=\"0.01\"} 0",
            "ringside_mint_upstream_duration_seconds_count{call=\"mint\"} 1",
            "ringside_mint_cached_tokens 3",
            "ringside_mint_redis_up 0",
            "ringside_mint_redis_errors_total 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
        for family in text.lines().filter_map(|l| l.strip_prefix("# TYPE ")) {
            let name = family.split(' ').next().unwrap();
            assert!(text.contains(&format!("# HELP {name} ")), "{name} has HELP");
        }
    }
}
