//! A bounded soak test (not a test of CI; issue #7): hundreds of simulated
//! browser sessions against the real `ringside-mint` and `ringside-mock`
//! binaries on loopback, speaking the widget's HTTP: each session POSTs the
//! mint's `/api/chat-token` with its page's `Origin` and its visitor cookie,
//! then streams completions from the mock with `Authorization: Client <jwt>`
//! and reads them through the widget's own `SseParser` and frame decoder.
//!
//! Every answer is checked chunk for chunk against the mock's deterministic
//! answer to the same question (asked once, non-streamed, with the server
//! key): the text must be equal and the number of content chunks must be the
//! answer's `completion_tokens`, so a lost or duplicated chunk fails it. The
//! resident memory of both server processes is sampled every few seconds.
//!
//! ```sh
//! cargo build --release -p ringside-mock -p ringside-mint
//! cargo run --release -p ringside-bench --bin soak -- --minutes 3 --sessions 300
//! ```
//!
//! Prints the memory samples as they come, then a summary and one JSON line;
//! exits non-zero if any answer was wrong or any request failed.
//!
//! A run on the 2-core development machine (release build, 300 sessions,
//! 3 minutes, 60 s tokens): 47 608 answers (1 428 240 chunks, 262 answers a
//! second) and 1 200 tokens minted, 0 wrong, 0 errors; first token p50 51 ms,
//! p99 55 ms (the mock's pacing is 50 ms); resident memory from the end of the
//! first minute to the end: mock 11.9 → 12.3 MiB (it keeps every minted
//! token's record, as Ringside lists them), mint 12.3 → 12.6 MiB. With the
//! widget's default 900 s tokens (`--ttl-seconds 900`, 4 minutes): 63 163
//! answers, 0 wrong, 0 errors; mint 11.8 MiB throughout, mock 11.7 → 11.9
//! MiB and flat from the second minute on.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;
use rand::Rng;
use ringside_wire::chat::StreamFrame;
use ringside_wire::sse::SseParser;
use ringside_wire::token::TokenResponse;
use serde_json::{Value, json};

const KEY: &str = "sk_test_soak";
const ORIGIN: &str = "http://127.0.0.1:9999";
const MODEL: &str = "fc:openai/gpt-4o-mini";

/// Soaks the mint and the mock with simulated widget sessions.
#[derive(Debug, Parser)]
struct Args {
    /// How long to run (at most 30).
    #[arg(long, default_value_t = 3.0)]
    minutes: f64,
    /// Simulated browser sessions at once (at most 2000).
    #[arg(long, default_value_t = 300)]
    sessions: usize,
    /// Distinct questions the sessions pick from.
    #[arg(long, default_value_t = 64)]
    questions: usize,
    /// Each session waits a random 0..=N ms between questions (reading).
    #[arg(long, default_value_t = 1500)]
    think_ms: u64,
    /// Token lifetime the mint asks for: sessions re-mint at 80% of it, as
    /// the widget does.
    #[arg(long, default_value_t = 60)]
    ttl_seconds: u32,
    /// Seconds between memory samples.
    #[arg(long, default_value_t = 5)]
    sample_secs: u64,
    /// Where the `ringside-mock` and `ringside-mint` binaries are (the
    /// folder of this example's profile by default).
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

/// A server process, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(binary: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
    let mut child = Command::new(binary)
        .args(args)
        .envs(envs.iter().copied())
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({e}): build it with `cargo build --release -p ringside-mock -p ringside-mint`",
                binary.display()
            )
        });
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let url = lines
        .find_map(|line| line.ok()?.strip_prefix("listening on ").map(str::to_string))
        .expect("the server says where it listens");
    // Keep draining stdout so the server never blocks on it.
    std::thread::spawn(move || lines.for_each(drop));
    Server { child, url }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// What every session adds up.
#[derive(Default)]
struct Tally {
    answers: AtomicU64,
    chunks: AtomicU64,
    mints: AtomicU64,
    wrong: AtomicU64,
    errors: AtomicU64,
    first_token_ms: Mutex<Vec<u64>>,
    samples: Mutex<Vec<String>>,
}

impl Tally {
    fn note(&self, what: String) {
        let mut samples = self.samples.lock().expect("not poisoned");
        if samples.len() < 10 {
            eprintln!("  problem: {what}");
            samples.push(what);
        }
    }
}

/// The mock's answer to `question`: its text and how many chunks it has.
#[derive(Debug, Clone)]
struct Expected {
    text: String,
    chunks: u64,
}

async fn expected_answers(mock: &str, count: usize) -> Vec<Expected> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    for n in 0..count {
        let completion: Value = http
            .post(format!("{mock}/v1/chat/completions"))
            .bearer_auth(KEY)
            .json(&json!({"model": MODEL, "messages": [{"role": "user", "content": question(n)}]}))
            .send()
            .await
            .expect("the mock answers")
            .json()
            .await
            .expect("a completion");
        out.push(Expected {
            text: completion["choices"][0]["message"]["content"]
                .as_str()
                .expect("content")
                .to_string(),
            chunks: completion["usage"]["completion_tokens"]
                .as_u64()
                .expect("usage"),
        });
    }
    out
}

fn question(n: usize) -> String {
    format!("Soak question number {n}: how does the widget stream?")
}

/// One simulated browser: a visitor cookie, a token refreshed at 80% of its
/// life, questions with think time between them, until `deadline`.
async fn session(
    mint: String,
    expected: Arc<Vec<Expected>>,
    tally: Arc<Tally>,
    deadline: Instant,
    think_ms: u64,
) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(2)
        .build()
        .expect("a client");
    let mut cookie: Option<String> = None;
    let mut token: Option<(TokenResponse, Instant)> = None;
    // Sessions start spread over the first seconds, as visitors arrive.
    let start_in = rand::thread_rng().gen_range(0..3000);
    tokio::time::sleep(Duration::from_millis(start_in)).await;
    while Instant::now() < deadline {
        let fresh = token.as_ref().is_some_and(|(t, at)| {
            at.elapsed().as_secs_f64() < t.expires_in.unwrap_or(0) as f64 * 0.8
        });
        if !fresh {
            let mut request = http
                .post(format!("{mint}/api/chat-token"))
                .header("origin", ORIGIN);
            if let Some(cookie) = &cookie {
                request = request.header("cookie", cookie);
            }
            match request.send().await {
                Ok(response) if response.status() == 200 => {
                    if let Some(set) = response.headers().get("set-cookie") {
                        let pair = set.to_str().unwrap_or("").split(';').next().unwrap_or("");
                        cookie = Some(pair.to_string());
                    }
                    match response.json::<TokenResponse>().await {
                        Ok(body) => {
                            tally.mints.fetch_add(1, Ordering::Relaxed);
                            token = Some((body, Instant::now()));
                        }
                        Err(e) => {
                            tally.errors.fetch_add(1, Ordering::Relaxed);
                            tally.note(format!("token body: {e}"));
                        }
                    }
                }
                Ok(response) => {
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                    tally.note(format!("token: {}", response.status()));
                }
                Err(e) => {
                    tally.errors.fetch_add(1, Ordering::Relaxed);
                    tally.note(format!("token: {e}"));
                }
            }
        }
        let Some((current, _)) = &token else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let n = rand::thread_rng().gen_range(0..expected.len());
        ask(&http, current, n, &expected[n], &tally).await;
        let think = rand::thread_rng().gen_range(0..=think_ms);
        tokio::time::sleep(Duration::from_millis(think)).await;
    }
}

async fn ask(
    http: &reqwest::Client,
    token: &TokenResponse,
    n: usize,
    expected: &Expected,
    tally: &Tally,
) {
    let api_base = token
        .api_base
        .as_deref()
        .expect("the mint names its gateway");
    let started = Instant::now();
    let response = http
        .post(format!("{api_base}/v1/chat/completions"))
        .header("authorization", format!("Client {}", token.token))
        .header("origin", ORIGIN)
        .json(&json!({"model": MODEL, "messages": [{"role": "user", "content": question(n)}], "stream": true}))
        .send()
        .await;
    let response = match response {
        Ok(response) if response.status() == 200 => response,
        Ok(response) => {
            tally.errors.fetch_add(1, Ordering::Relaxed);
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            tally.note(format!("chat: {status} {body}"));
            return;
        }
        Err(e) => {
            tally.errors.fetch_add(1, Ordering::Relaxed);
            tally.note(format!("chat: {e}"));
            return;
        }
    };
    let mut parser = SseParser::new();
    let mut text = String::new();
    let mut chunks = 0u64;
    let mut done = false;
    let mut first_token: Option<Duration> = None;
    let mut problem: Option<String> = None;
    let mut body = response.bytes_stream();
    while let Some(read) = body.next().await {
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(e) => {
                problem = Some(format!("stream broke: {e}"));
                break;
            }
        };
        parser.feed(&bytes, &mut |event| match StreamFrame::parse(&event.data) {
            Ok(StreamFrame::Chunk(chunk)) => {
                if let Some(content) = chunk.content() {
                    first_token.get_or_insert_with(|| started.elapsed());
                    text.push_str(content);
                    chunks += 1;
                }
            }
            Ok(StreamFrame::Done) => done = true,
            Ok(StreamFrame::Error(e)) => problem = Some(format!("error frame: {}", e.code)),
            Err(e) => problem = Some(format!("bad frame: {e}")),
        });
    }
    if problem.is_none() && !done {
        problem = Some("no [DONE]".into());
    }
    if let Some(problem) = problem {
        tally.errors.fetch_add(1, Ordering::Relaxed);
        tally.note(problem);
        return;
    }
    tally.answers.fetch_add(1, Ordering::Relaxed);
    tally.chunks.fetch_add(chunks, Ordering::Relaxed);
    if let Some(first) = first_token {
        let mut times = tally.first_token_ms.lock().expect("not poisoned");
        times.push(first.as_millis() as u64);
    }
    if text != expected.text || chunks != expected.chunks {
        tally.wrong.fetch_add(1, Ordering::Relaxed);
        tally.note(format!(
            "question {n}: {chunks} chunks (expected {}), text {}",
            expected.chunks,
            if text == expected.text {
                "equal"
            } else {
                "different"
            }
        ));
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Average of the samples taken within `range` seconds of the start.
fn average(samples: &[(f64, u64, u64)], from: f64, to: f64, which: usize) -> f64 {
    let picked: Vec<u64> = samples
        .iter()
        .filter(|(t, _, _)| *t >= from && *t <= to)
        .map(|s| if which == 0 { s.1 } else { s.2 })
        .collect();
    picked.iter().sum::<u64>() as f64 / picked.len().max(1) as f64
}

fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let minutes = args.minutes.clamp(0.1, 30.0);
    let sessions = args.sessions.clamp(1, 2000);
    let bin_dir = args.bin_dir.clone().unwrap_or_else(|| {
        // Beside this binary: target/<profile>/soak.
        let exe = std::env::current_exe().expect("the binary's path");
        exe.parent().expect("target/<profile>").to_path_buf()
    });

    let mock = start(
        &bin_dir.join("ringside-mock"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--answer-tokens",
            "30",
            "--first-token-delay-ms",
            "50",
            "--token-delay-ms",
            "10",
        ],
        &[("RINGSIDE_MOCK_API_KEY", KEY)],
    );
    let ttl = args.ttl_seconds.to_string();
    let mint = start(
        &bin_dir.join("ringside-mint"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--ringside-url",
            &mock.url,
            "--allowed-origin",
            ORIGIN,
            "--ttl-seconds",
            &ttl,
            "--ip-rate-per-minute",
            "0",
            "--identity-rate-per-minute",
            "0",
            "--new-visitor-rate-per-minute",
            "0",
            "--visitor-rate-limit-rpm",
            "100000",
            "--visitor-budget-usd",
            "1000",
            "--new-visitors-per-hour",
            "0",
            "--visitor-budget-per-day-usd",
            "0",
            "--max-connections-per-ip",
            "100000",
        ],
        &[
            ("FC_API_KEY", KEY),
            (
                "RINGSIDE_MINT_COOKIE_SECRET",
                "soak-cookie-secret-of-at-least-32-bytes",
            ),
        ],
    );
    let expected = Arc::new(expected_answers(&mock.url, args.questions.max(1)).await);
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(minutes * 60.0);
    println!(
        "soak: {sessions} sessions for {minutes} min; mock {} (pid {}), mint {} (pid {})",
        mock.url,
        mock.child.id(),
        mint.url,
        mint.child.id()
    );
    println!("  t(s)  mock RSS (MiB)  mint RSS (MiB)  answers  chunks  mints  wrong  errors");

    let mut tasks = Vec::new();
    for _ in 0..sessions {
        tasks.push(tokio::spawn(session(
            mint.url.clone(),
            expected.clone(),
            tally.clone(),
            deadline,
            args.think_ms,
        )));
    }
    let (mock_pid, mint_pid) = (mock.child.id(), mint.child.id());
    let mut samples: Vec<(f64, u64, u64)> = Vec::new();
    let mut counts: HashMap<&str, u64> = HashMap::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(args.sample_secs.max(1))).await;
        let t = started.elapsed().as_secs_f64();
        let (mock_kib, mint_kib) = (rss_kib(mock_pid), rss_kib(mint_pid));
        samples.push((t, mock_kib, mint_kib));
        counts.insert("answers", tally.answers.load(Ordering::Relaxed));
        println!(
            "{t:6.0}  {:14.1}  {:14.1}  {:7}  {:6}  {:5}  {:5}  {:6}",
            mock_kib as f64 / 1024.0,
            mint_kib as f64 / 1024.0,
            counts["answers"],
            tally.chunks.load(Ordering::Relaxed),
            tally.mints.load(Ordering::Relaxed),
            tally.wrong.load(Ordering::Relaxed),
            tally.errors.load(Ordering::Relaxed),
        );
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut first = tally.first_token_ms.lock().expect("not poisoned").clone();
    first.sort_unstable();
    let total = minutes * 60.0;
    // Memory after the first minute's ramp-up, against the last minute's.
    let warm = (60.0f64).min(total / 3.0);
    let (mock_early, mint_early) = (
        average(&samples, warm, warm + 30.0, 0),
        average(&samples, warm, warm + 30.0, 1),
    );
    let (mock_late, mint_late) = (
        average(&samples, total - 30.0, total + 60.0, 0),
        average(&samples, total - 30.0, total + 60.0, 1),
    );
    let answers = tally.answers.load(Ordering::Relaxed);
    let wrong = tally.wrong.load(Ordering::Relaxed);
    let errors = tally.errors.load(Ordering::Relaxed);
    let summary = json!({
        "sessions": sessions,
        "seconds": elapsed.round(),
        "answers": answers,
        "answers_per_second": (answers as f64 / elapsed * 10.0).round() / 10.0,
        "chunks": tally.chunks.load(Ordering::Relaxed),
        "mints": tally.mints.load(Ordering::Relaxed),
        "wrong_answers": wrong,
        "errors": errors,
        "first_token_ms": {"p50": percentile(&first, 0.5), "p99": percentile(&first, 0.99), "max": first.last().copied().unwrap_or(0)},
        "rss_mib": {
            "mock": {"after_warmup": (mock_early / 1024.0 * 10.0).round() / 10.0, "end": (mock_late / 1024.0 * 10.0).round() / 10.0,
                      "max": mib(samples.iter().map(|s| s.1).max().unwrap_or(0))},
            "mint": {"after_warmup": (mint_early / 1024.0 * 10.0).round() / 10.0, "end": (mint_late / 1024.0 * 10.0).round() / 10.0,
                      "max": mib(samples.iter().map(|s| s.2).max().unwrap_or(0))},
        },
    });
    println!(
        "\n{answers} answers ({} chunks) in {elapsed:.0} s, {} tokens minted: {wrong} wrong, {errors} errors; \
         first token p50 {} ms, p99 {} ms",
        tally.chunks.load(Ordering::Relaxed),
        tally.mints.load(Ordering::Relaxed),
        percentile(&first, 0.5),
        percentile(&first, 0.99),
    );
    println!(
        "RSS after warm-up → end: mock {:.1} → {:.1} MiB, mint {:.1} → {:.1} MiB",
        mock_early / 1024.0,
        mock_late / 1024.0,
        mint_early / 1024.0,
        mint_late / 1024.0
    );
    println!("{summary}");
    drop((mock, mint));
    if wrong > 0 || errors > 0 || answers == 0 {
        std::process::exit(1);
    }
}
