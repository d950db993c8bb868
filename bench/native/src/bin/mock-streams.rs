//! A benchmark (not a test): how many concurrent completion streams the mock
//! sustains on loopback with zero lost or reordered chunks, and what an open
//! stream costs it in memory.
//!
//! ```sh
//! cargo run --release -p ringside-bench --bin mock-streams -- --concurrency 5000
//! ```
//!
//! It starts the mock as a child process (this same executable re-run with
//! `--serve`, so the mock's memory is measured alone; `--mock-bin` runs a
//! `ringside-mock` binary instead), mints one Client Token, then opens
//! `--concurrency` streaming completions, spread over `--ramp-ms`. Each asks
//! its own question with a `max_tokens` between `--min-tokens` and
//! `--max-tokens`, so every stream has its own deterministic answer, which the
//! client computes in advance (`ringside_mock::answer`). Each stream is read
//! through the widget's `SseParser` and `StreamFrame::parse` and must be: the
//! role chunk, exactly the expected tokens in order, the finish chunk, then
//! `[DONE]` and the end of the body. The first-token delay (default 1.5 s, more
//! than the ramp) holds every stream open at once before tokens flow.
//!
//! It reports the streams that passed, the errors by kind, chunks, time, and
//! the mock's RSS (`VmRSS` of `/proc/<pid>/status`) before, at the peak of
//! open streams, and after, and ends with one JSON line for `cargo xtask bench`.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use ringside_mock::answer;
use ringside_wire::chat::{ChatMessage, ChatRequest, FinishReason, Role, StreamFrame};
use ringside_wire::sse::SseParser;
use tokio::sync::Mutex;

const KEY: &str = "sk_bench";
const ORIGIN: &str = "http://127.0.0.1:9";
const MODEL: &str = "fc:openai/gpt-4o-mini";

/// Measures concurrent streams of the mock Ringside on loopback.
#[derive(Debug, Parser)]
struct Args {
    /// Streams open at once.
    #[arg(long, default_value_t = 5000)]
    concurrency: usize,
    /// The shortest answer, in tokens.
    #[arg(long, default_value_t = 50)]
    min_tokens: u32,
    /// The longest answer, in tokens.
    #[arg(long, default_value_t = 100)]
    max_tokens: u32,
    /// Milliseconds between tokens.
    #[arg(long, default_value_t = 20)]
    token_delay_ms: u64,
    /// Milliseconds before the first token (keep it above --ramp-ms so that
    /// every stream is open at once).
    #[arg(long, default_value_t = 1500)]
    first_token_delay_ms: u64,
    /// Milliseconds over which the streams are opened.
    #[arg(long, default_value_t = 1000)]
    ramp_ms: u64,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
    /// Run this `ringside-mock` binary instead of this executable's `--serve`.
    #[arg(long)]
    mock_bin: Option<std::path::PathBuf>,
    /// Internal: be the mock (the flags after `--` are the mock's).
    #[arg(long, hide = true)]
    serve: bool,
    /// The mock's flags, with `--serve`.
    #[arg(last = true, hide = true)]
    mock_args: Vec<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if args.serve {
        return runtime.block_on(serve(args.mock_args));
    }
    runtime.block_on(bench(args))
}

/// The mock, exactly as the `ringside-mock` binary runs it.
async fn serve(mock_args: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    let config = ringside_mock::Config::parse_from(
        std::iter::once("ringside-mock".to_string()).chain(mock_args),
    );
    let listener = ringside_mock::bind(config.listen)?;
    let state =
        ringside_mock::AppState::with_options(config.settings(), config.options(), &config.issuer);
    println!("listening on http://{}", listener.local_addr()?);
    ringside_mock::run(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// The mock's process, killed when the benchmark ends however it ends.
#[derive(Debug)]
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `VmRSS` of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time (user + system) of a process so far, in seconds.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at state.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// What went wrong with one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Failure {
    Connect,
    Status,
    Body,
    Unparsable,
    LostOrReordered,
    NoFinish,
    NoDone,
    AfterDone,
}

#[derive(Debug, Default)]
struct Counters {
    open: AtomicUsize,
    peak_open: AtomicUsize,
    chunks: AtomicU64,
    ok: AtomicUsize,
}

fn request_for(i: usize, max: u32) -> ChatRequest {
    ChatRequest {
        model: MODEL.into(),
        messages: vec![ChatMessage {
            role: Role::User,
            content: format!("benchmark stream number {i}"),
        }],
        stream: true,
        user: None,
        max_tokens: Some(max),
        temperature: None,
        stream_options: None,
    }
}

/// Opens one stream and checks every byte of it.
async fn one_stream(
    http: reqwest::Client,
    url: String,
    token: Arc<str>,
    request: ChatRequest,
    expected: Vec<String>,
    finish: FinishReason,
    counters: Arc<Counters>,
) -> Result<(), Failure> {
    let response = http
        .post(format!("{url}/v1/chat/completions"))
        .header("authorization", format!("Client {token}"))
        .header("origin", ORIGIN)
        .header("content-type", "application/json")
        .body(serde_json::to_string(&request).expect("a request serialises"))
        .send()
        .await
        .map_err(|_| Failure::Connect)?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(Failure::Status);
    }
    let open = counters.open.fetch_add(1, Ordering::SeqCst) + 1;
    counters.peak_open.fetch_max(open, Ordering::SeqCst);
    let result = read_checked(response, &expected, finish, &counters).await;
    counters.open.fetch_sub(1, Ordering::SeqCst);
    result
}

async fn read_checked(
    mut response: reqwest::Response,
    expected: &[String],
    finish: FinishReason,
    counters: &Counters,
) -> Result<(), Failure> {
    let mut parser = SseParser::new();
    // 0: expect the role chunk; then content; then finish; then [DONE].
    let mut next_token = 0usize;
    let mut saw_role = false;
    let mut saw_finish = false;
    let mut saw_done = false;
    let mut failure = None;
    loop {
        let bytes = match response.chunk().await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => break,
            Err(_) => return Err(Failure::Body),
        };
        parser.feed(&bytes, &mut |event| {
            if failure.is_some() {
                return;
            }
            counters.chunks.fetch_add(1, Ordering::Relaxed);
            let frame = match StreamFrame::parse(&event.data) {
                Ok(frame) => frame,
                Err(_) => {
                    failure = Some(Failure::Unparsable);
                    return;
                }
            };
            if saw_done {
                failure = Some(Failure::AfterDone);
                return;
            }
            match frame {
                StreamFrame::Done => saw_done = true,
                StreamFrame::Error(_) => failure = Some(Failure::Body),
                StreamFrame::Chunk(chunk) => {
                    if !saw_role {
                        let role = chunk.choices.first().and_then(|c| c.delta.role);
                        if role != Some(Role::Assistant) {
                            failure = Some(Failure::LostOrReordered);
                        }
                        saw_role = true;
                    } else if let Some(content) = chunk.content() {
                        if saw_finish
                            || expected.get(next_token).map(String::as_str) != Some(content)
                        {
                            failure = Some(Failure::LostOrReordered);
                        }
                        next_token += 1;
                    } else if chunk.finish_reason().is_some() {
                        if chunk.finish_reason() != Some(finish) || next_token != expected.len() {
                            failure = Some(Failure::LostOrReordered);
                        }
                        saw_finish = true;
                    }
                }
            }
        });
        if let Some(failure) = failure {
            return Err(failure);
        }
    }
    if !saw_finish {
        return Err(if next_token == expected.len() {
            Failure::NoFinish
        } else {
            Failure::LostOrReordered
        });
    }
    if !saw_done {
        return Err(Failure::NoDone);
    }
    counters.ok.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

async fn bench(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if args.min_tokens == 0 || args.min_tokens > args.max_tokens {
        return Err("need 0 < --min-tokens <= --max-tokens".into());
    }
    let mock_flags = [
        "--listen".to_string(),
        "127.0.0.1:0".into(),
        "--api-key".into(),
        KEY.into(),
        "--answer-tokens".into(),
        args.max_tokens.to_string(),
        "--first-token-delay-ms".into(),
        args.first_token_delay_ms.to_string(),
        "--token-delay-ms".into(),
        args.token_delay_ms.to_string(),
    ];
    let mut command = match &args.mock_bin {
        Some(bin) => Command::new(bin),
        None => {
            let mut command = Command::new(std::env::current_exe()?);
            command.arg("--serve").arg("--");
            command
        }
    };
    let mut child = Killed(
        command
            .args(&mock_flags)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?,
    );
    let pid = child.0.id();
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    let url = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                if let Some(url) = line?.strip_prefix("listening on ") {
                    return Ok(url.to_string());
                }
            }
            Err(std::io::Error::other("the mock ended before listening"))
        }),
    )
    .await???;
    if !url.starts_with("http://127.0.0.1:") {
        return Err(format!("not loopback: {url}").into());
    }

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(args.timeout_secs))
        .build()?;
    let created = http
        .post(format!("{url}/v1/customers"))
        .bearer_auth(KEY)
        .json(&serde_json::json!({ "external_id": "ext:bench" }))
        .send()
        .await?;
    if !created.status().is_success() {
        return Err(format!("creating the customer: {}", created.status()).into());
    }
    let minted: serde_json::Value = http
        .post(format!("{url}/v1/customers/ext:bench/client_tokens"))
        .bearer_auth(KEY)
        .json(&serde_json::json!({ "ttl_seconds": 3600, "scope": ["chat"], "origin_allowlist": [ORIGIN] }))
        .send()
        .await?
        .json()
        .await?;
    let token: Arc<str> = minted["token"].as_str().ok_or("no token")?.into();

    let span = (args.max_tokens - args.min_tokens + 1) as usize;
    let mut plans = Vec::with_capacity(args.concurrency);
    let mut expected_chunks = 0u64;
    for i in 0..args.concurrency {
        let max = args.min_tokens + (i % span) as u32;
        let request = request_for(i, max);
        let expected: Vec<String> = answer::generate(&request, args.max_tokens as usize)
            .into_iter()
            .take(max as usize)
            .collect();
        let finish = if max < args.max_tokens {
            FinishReason::Length
        } else {
            FinishReason::Stop
        };
        expected_chunks += expected.len() as u64 + 3;
        plans.push((request, expected, finish));
    }

    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_before = rss_kib(pid).unwrap_or(0);
    let cpu_before = cpu_secs(pid).unwrap_or(0.0);
    let counters = Arc::new(Counters::default());
    let peak = Arc::new(Mutex::new((0usize, 0u64)));
    let sampler = {
        let counters = counters.clone();
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let open = counters.open.load(Ordering::SeqCst);
                if let Some(rss) = rss_kib(pid) {
                    let mut peak = peak.lock().await;
                    if open > peak.0 || (open == peak.0 && rss > peak.1) {
                        *peak = (open, rss);
                    }
                }
            }
        })
    };

    println!(
        "opening {} streams of {}–{} tokens, {} ms apart after {} ms, over {} ms…",
        args.concurrency,
        args.min_tokens,
        args.max_tokens,
        args.token_delay_ms,
        args.first_token_delay_ms,
        args.ramp_ms
    );
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.concurrency);
    let step = Duration::from_micros(args.ramp_ms * 1000 / args.concurrency.max(1) as u64);
    for (i, (request, expected, finish)) in plans.into_iter().enumerate() {
        let start_at = started + step * i as u32;
        tasks.push(tokio::spawn({
            let http = http.clone();
            let url = url.clone();
            let token = token.clone();
            let counters = counters.clone();
            async move {
                tokio::time::sleep_until(start_at.into()).await;
                one_stream(http, url, token, request, expected, finish, counters).await
            }
        }));
    }
    let mut failures = std::collections::BTreeMap::<Failure, usize>::new();
    let deadline = Duration::from_secs(args.timeout_secs);
    let mut timed_out = 0usize;
    for task in tasks {
        let left = deadline.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(failure))) => *failures.entry(failure).or_default() += 1,
            Ok(Err(_)) => *failures.entry(Failure::Body).or_default() += 1,
            Err(_) => timed_out += 1,
        }
    }
    let elapsed = started.elapsed();
    sampler.abort();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rss_after = rss_kib(pid).unwrap_or(0);
    let mock_cpu = cpu_secs(pid).unwrap_or(0.0) - cpu_before;
    let (peak_open_sampled, rss_during) = *peak.lock().await;
    drop(child);

    let ok = counters.ok.load(Ordering::SeqCst);
    let chunks = counters.chunks.load(Ordering::SeqCst);
    let peak_open = counters.peak_open.load(Ordering::SeqCst);
    let errors: usize = failures.values().sum::<usize>() + timed_out;
    let lost = failures
        .get(&Failure::LostOrReordered)
        .copied()
        .unwrap_or(0);
    let ideal = Duration::from_millis(
        args.ramp_ms
            + args.first_token_delay_ms
            + args.token_delay_ms * u64::from(args.max_tokens.saturating_sub(1)),
    );
    let per_stream_kib = if peak_open_sampled > 0 {
        rss_during.saturating_sub(rss_before) as f64 / peak_open_sampled as f64
    } else {
        0.0
    };
    println!("streams ok:        {ok} of {}", args.concurrency);
    println!("errors:            {errors} {failures:?} timed out: {timed_out}");
    println!("lost or reordered: {lost}");
    println!("chunks:            {chunks} of {expected_chunks} expected");
    println!(
        "time:              {:.2} s (ideal {:.2} s), {:.0} chunks/s",
        elapsed.as_secs_f64(),
        ideal.as_secs_f64(),
        chunks as f64 / elapsed.as_secs_f64()
    );
    println!("peak open streams: {peak_open} (sampled with RSS: {peak_open_sampled})");
    println!(
        "mock RSS:          before {rss_before} KiB, during {rss_during} KiB, after {rss_after} KiB"
    );
    println!("per open stream:   {per_stream_kib:.1} KiB");
    println!(
        "mock CPU:          {mock_cpu:.2} s ({:.1} µs per chunk)",
        mock_cpu * 1e6 / chunks.max(1) as f64
    );
    let figures = serde_json::json!({
        "bench": "mock_streams",
        "concurrency": args.concurrency,
        "min_tokens": args.min_tokens,
        "max_tokens": args.max_tokens,
        "token_delay_ms": args.token_delay_ms,
        "first_token_delay_ms": args.first_token_delay_ms,
        "streams_ok": ok,
        "errors": errors,
        "lost_or_reordered": lost,
        "chunks": chunks,
        "expected_chunks": expected_chunks,
        "elapsed_s": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "ideal_s": ideal.as_secs_f64(),
        "chunks_per_s": (chunks as f64 / elapsed.as_secs_f64()).round(),
        "peak_open": peak_open,
        "rss_before_kib": rss_before,
        "rss_during_kib": rss_during,
        "rss_after_kib": rss_after,
        "kib_per_open_stream": (per_stream_kib * 10.0).round() / 10.0,
        "mock_cpu_s": (mock_cpu * 100.0).round() / 100.0,
    });
    println!("{figures}");
    if errors > 0 {
        std::process::exit(1);
    }
    Ok(())
}
