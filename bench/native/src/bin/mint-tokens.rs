//! A benchmark (not a test; never run in CI): token requests per second and
//! p50/p99 latency of the mint against the in-process mock Ringside on
//! loopback, with a warm cache (one visitor, its token reused) and a cold one
//! (a new visitor every request), side by side with the seed's naive path
//! (an upsert and a mint upstream on every request). `known_no_reuse` is a
//! returning visitor with reuse turned off (`--reuse-fraction 0`): one
//! upstream call. `warm_redis`, `known_redis` and `cold_redis` are the same
//! with `--redis-url` (a `redis-server` the benchmark starts on a free
//! loopback port, as the tests do): the cost of sharing the state between
//! replicas.
//!
//! ```sh
//! cargo run --release -p ringside-bench --bin mint-tokens -- --seconds 3 --concurrency 64
//! ```
//!
//! Prints a table, then one JSON line with every figure.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use clap::Parser;
use ringside_mint::ceiling::Ceilings;
use ringside_mint::identity::Visitors;
use ringside_mint::metrics::{Call, Metrics};
use ringside_mint::ringside::{Ringside, UpstreamOptions};
use ringside_mint::store::Store;
use ringside_mint::{Limits, Mint, MintOptions};
use ringside_wire::customer::CreateCustomer;
use ringside_wire::token::TokenResponse;
use serde_json::{Value, json};

const KEY: &str = "sk_bench";

/// Measures the mint's token endpoint against the mock.
#[derive(Debug, Parser)]
struct Args {
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Seconds of unmeasured requests before each scenario (connections
    /// opened, caches and allocators warmed).
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Requests in flight at once (one keep-alive connection each).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Runtime worker threads (the machine's cores by default).
    #[arg(long)]
    threads: Option<usize>,
    /// The mint's --reuse-fraction (the warm scenario needs reuse on).
    #[arg(long, default_value_t = 0.5)]
    reuse_fraction: f64,
    /// Which scenarios to run, in this order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "warm,warm-redis,known,known-redis,cold,cold-redis,naive-warm,naive-cold"
    )]
    scenarios: Vec<Scenario>,
}

/// One measured setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scenario {
    /// The mint, one visitor: its token is reused.
    Warm,
    /// The mint, a new visitor every request.
    Cold,
    /// The mint with reuse off (the default), one returning visitor per
    /// loop: its customer is known, so one upstream call (the mint) a request.
    Known,
    /// [`Scenario::Warm`] with Redis.
    WarmRedis,
    /// [`Scenario::Known`] with Redis.
    KnownRedis,
    /// [`Scenario::Cold`] with Redis.
    ColdRedis,
    /// The naive path, one visitor: still two upstream calls a request.
    NaiveWarm,
    /// The naive path, a new visitor every request.
    NaiveCold,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Warm => "warm",
            Scenario::Cold => "cold",
            Scenario::Known => "known_no_reuse",
            Scenario::WarmRedis => "warm_redis",
            Scenario::KnownRedis => "known_redis",
            Scenario::ColdRedis => "cold_redis",
            Scenario::NaiveWarm => "naive_warm",
            Scenario::NaiveCold => "naive_cold",
        }
    }
}

fn main() {
    let args = Args::parse();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads);
    }
    let runtime = runtime.enable_all().build().expect("a runtime");
    runtime.block_on(bench(args));
}

async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// The seed's path: identity from the cookie (to be fair), then an upsert
/// and a mint upstream on every request.
#[derive(Debug, Clone)]
struct Naive {
    visitors: Arc<Visitors>,
    ringside: Ringside,
    origin: String,
}

async fn naive_token(
    State(naive): State<Naive>,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let identity = naive.visitors.visitor(&headers, false);
    let customer = CreateCustomer {
        external_id: identity.external_id.clone(),
        budget_usd: identity.budget_usd,
        rate_limit_rpm: identity.rate_limit_rpm,
        metadata: None,
    };
    let minted = async {
        naive.ringside.upsert_customer(&customer).await?;
        naive
            .ringside
            .mint(&identity.external_id, &naive.origin, Some(peer.ip()), 900)
            .await
    }
    .await;
    match minted {
        Ok(token) => {
            let body = TokenResponse {
                token: token.token.unwrap_or_default(),
                expires_at: token.expires_at,
                expires_in: Some(token.expires_in),
                api_base: None,
            };
            let mut response = Json(body).into_response();
            if let Some(cookie) = identity.set_cookie {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => error.into_response(),
    }
}

#[derive(Debug)]
struct Figures {
    requests: usize,
    errors: usize,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    upstream_calls: u64,
}

impl Figures {
    fn json(&self) -> Value {
        json!({
            "requests": self.requests,
            "errors": self.errors,
            "rps": self.rps.round(),
            "p50_ms": (self.p50_ms * 1000.0).round() / 1000.0,
            "p99_ms": (self.p99_ms * 1000.0).round() / 1000.0,
            "upstream_calls_per_request": if self.requests == 0 { 0.0 } else {
                ((self.upstream_calls as f64 / self.requests as f64) * 1000.0).round() / 1000.0
            },
        })
    }
}

/// Who the requests come from.
#[derive(Debug, Clone)]
enum Who {
    /// Every request the same visitor.
    One(String),
    /// Each loop its own visitor (one cookie per loop).
    PerLoop(Vec<String>),
    /// A new visitor every request.
    New,
}

/// Runs `concurrency` loops of requests to `url` for `seconds`.
async fn run(
    url: &str,
    origin: &str,
    who: &Who,
    args: &Args,
    upstream_calls: impl Fn() -> u64,
) -> Figures {
    // One client for the warm-up and the measure: its connections stay open.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .unwrap();
    if args.warmup > 0.0 {
        Box::pin(measure(
            &client,
            url,
            origin,
            who,
            args,
            args.warmup,
            &upstream_calls,
        ))
        .await;
    }
    measure(
        &client,
        url,
        origin,
        who,
        args,
        args.seconds,
        &upstream_calls,
    )
    .await
}

async fn measure(
    client: &reqwest::Client,
    url: &str,
    origin: &str,
    who: &Who,
    args: &Args,
    seconds: f64,
    upstream_calls: &impl Fn() -> u64,
) -> Figures {
    let before = upstream_calls();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut workers = tokio::task::JoinSet::new();
    for i in 0..args.concurrency {
        let client = client.clone();
        let url = url.to_string();
        let origin = origin.to_string();
        let cookie = match who {
            Who::One(cookie) => Some(cookie.clone()),
            Who::PerLoop(cookies) => Some(cookies[i % cookies.len()].clone()),
            Who::New => None,
        };
        workers.spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 14);
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let mut request = client.post(&url).header("origin", &origin);
                if let Some(cookie) = &cookie {
                    request = request.header("cookie", cookie);
                }
                match request.send().await {
                    Ok(response) if response.status() == StatusCode::OK => {
                        let _ = response.bytes().await;
                        latencies.push(sent.elapsed().as_micros() as u32);
                    }
                    Ok(response) => {
                        let _ = response.bytes().await;
                        errors += 1;
                    }
                    Err(_) => errors += 1,
                }
            }
            (latencies, errors)
        });
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    while let Some(done) = workers.join_next().await {
        let (mine, failed) = done.unwrap();
        latencies.extend(mine);
        errors += failed;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        f64::from(latencies[i]) / 1000.0
    };
    Figures {
        requests: latencies.len(),
        errors,
        rps: latencies.len() as f64 / elapsed,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        upstream_calls: upstream_calls() - before,
    }
}

async fn first_cookie(url: &str, origin: &str) -> String {
    let response = reqwest::Client::new()
        .post(url)
        .header("origin", origin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the mint answers");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

/// A fresh mock and, in front of it, the server under test (the mint, or
/// the naive path): its token route, its page origin, its upstream counter.
struct Stack {
    route: String,
    origin: String,
    upstream: Arc<dyn Fn() -> u64 + Send + Sync>,
    _stop: Vec<tokio::sync::oneshot::Sender<()>>,
}

async fn until(stop: tokio::sync::oneshot::Receiver<()>) {
    let _ = stop.await;
}

/// A `redis-server` of the benchmark's own on a free loopback port,
/// nothing saved to disk; stopped when dropped.
struct RedisServer {
    url: String,
    child: std::process::Child,
}

impl RedisServer {
    async fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts (`cargo xtask setup` installs Debian's)");
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server answers"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        RedisServer {
            url: format!("redis://127.0.0.1:{port}"),
            child,
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn stack(naive: bool, reuse_fraction: f64, redis: Option<&RedisServer>) -> Stack {
    // The mock, as fast as it goes: no answer pacing (no chat is measured).
    let settings = ringside_mock::state::Settings {
        api_key: KEY.into(),
        answer_tokens: 1,
        first_token_delay: Duration::ZERO,
        token_delay: Duration::ZERO,
    };
    let (mock_listener, mock_url) = listen().await;
    let (stop_mock, stopped) = tokio::sync::oneshot::channel();
    tokio::spawn(ringside_mock::run(
        mock_listener,
        ringside_mock::AppState::new(settings, "ringside-mock"),
        until(stopped),
    ));
    let (listener, url) = listen().await;
    let (stop_server, stopped) = tokio::sync::oneshot::channel();
    let upstream: Arc<dyn Fn() -> u64 + Send + Sync> = if naive {
        let metrics = Arc::new(Metrics::default());
        let naive = Naive {
            visitors: Arc::new(Visitors::random()),
            ringside: Ringside::new(
                &mock_url,
                KEY.to_string().into(),
                UpstreamOptions::default(),
                metrics.clone(),
            ),
            origin: url.clone(),
        };
        tokio::spawn(ringside_mint::serve(
            listener,
            Router::new()
                .route("/api/chat-token", post(naive_token))
                .with_state(naive),
            until(stopped),
        ));
        Arc::new(move || {
            metrics.upstream_attempts(Call::Mint) + metrics.upstream_attempts(Call::Upsert)
        })
    } else {
        // Route limits off: one client address makes every request here.
        let mut options = MintOptions::new(&mock_url, KEY.to_string().into(), vec![url.clone()]);
        options.limits = Limits::OFF;
        options.ceilings = Ceilings::OFF;
        options.reuse_fraction = reuse_fraction;
        if let Some(redis) = redis {
            options.store = Some(Arc::new(
                Store::new(&redis.url, "bench:").expect("a Redis URL"),
            ));
        }
        let mint = Mint::new(options);
        tokio::spawn(ringside_mint::run(
            listener,
            mint.clone(),
            None,
            until(stopped),
        ));
        Arc::new(move || {
            mint.metrics().upstream_attempts(Call::Mint)
                + mint.metrics().upstream_attempts(Call::Upsert)
        })
    };
    Stack {
        route: format!("{url}/api/chat-token"),
        origin: url,
        upstream,
        _stop: vec![stop_mock, stop_server],
    }
}

async fn bench(args: Args) {
    let mut results = Vec::new();
    for scenario in args.scenarios.clone() {
        // Each scenario gets fresh servers, so none inherits another's state.
        let naive = matches!(scenario, Scenario::NaiveWarm | Scenario::NaiveCold);
        let reuse = if matches!(scenario, Scenario::Known | Scenario::KnownRedis) {
            0.0
        } else {
            args.reuse_fraction
        };
        let redis = match scenario {
            Scenario::WarmRedis | Scenario::KnownRedis | Scenario::ColdRedis => {
                Some(RedisServer::start().await)
            }
            _ => None,
        };
        let stack = stack(naive, reuse, redis.as_ref()).await;
        let calls = {
            let upstream = stack.upstream.clone();
            move || upstream()
        };
        let who = match scenario {
            Scenario::Warm | Scenario::WarmRedis | Scenario::NaiveWarm => {
                Who::One(first_cookie(&stack.route, &stack.origin).await)
            }
            Scenario::Known | Scenario::KnownRedis => {
                let mut cookies = Vec::with_capacity(args.concurrency);
                for _ in 0..args.concurrency {
                    cookies.push(first_cookie(&stack.route, &stack.origin).await);
                }
                Who::PerLoop(cookies)
            }
            Scenario::Cold | Scenario::ColdRedis | Scenario::NaiveCold => Who::New,
        };
        let figures = run(&stack.route, &stack.origin, &who, &args, calls).await;
        results.push((scenario, figures));
        drop(stack);
        drop(redis);
    }

    println!(
        "{:<15} {:>10} {:>9} {:>9} {:>16} {:>7}",
        "scenario", "tokens/s", "p50 ms", "p99 ms", "upstream/request", "errors"
    );
    let mut summary = serde_json::Map::new();
    for (scenario, figures) in &results {
        let json = figures.json();
        println!(
            "{:<15} {:>10.0} {:>9.3} {:>9.3} {:>16} {:>7}",
            scenario.name(),
            figures.rps,
            figures.p50_ms,
            figures.p99_ms,
            json["upstream_calls_per_request"],
            figures.errors
        );
        summary.insert(scenario.name().into(), json);
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    summary.insert("bench".into(), json!("ringside-mint"));
    summary.insert("seconds_per_scenario".into(), json!(args.seconds));
    summary.insert("concurrency".into(), json!(args.concurrency));
    summary.insert("threads".into(), json!(threads));
    summary.insert("reuse_fraction".into(), json!(args.reuse_fraction));
    println!("{}", Value::Object(summary));
}
