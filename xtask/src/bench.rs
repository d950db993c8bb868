//! `cargo xtask bench`: the benchmarks of issue #8, in one command. Never a
//! test: no figure fails it, and CI does not run it.
//!
//! It sets up (the browser tools too), builds what `cargo xtask build` builds,
//! plus release builds of the servers and the native benchmarks and the wasm
//! parser bench (`bench/sse-wasm`), installs `bench/`'s npm packages (the
//! peer, deep-chat, and playwright-core), then runs, in order:
//!
//! 1. `bench/weight.mjs`: the bytes of each shipped file;
//! 2. the criterion bench `bench/native/benches/sse.rs`: the SSE parser, natively;
//! 3. `bench/browser.mjs`: start-up, streaming cost, added latency and the
//!    parser in wasm, in Debian's headless Chromium, ours beside deep-chat's;
//! 4. the servers' own benchmarks ([`SERVER_BENCHES`]: the mint's tokens,
//!    the mock's streams);
//!
//! and `bench/report.mjs` writes `BENCHMARKS.md` and `BENCHMARKS.json` at the
//! root from what they measured. `--quick` runs fewer and shorter browser
//! runs, to try the command out.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Result;
use crate::process;
use crate::setup::{self, CHROMIUM, Tools, cargo, root, target_dir};
use crate::tasks;

/// `cargo xtask bench [--quick] [--runs N] [--before-dist DIR]`: `--runs`
/// sets the browser runs per figure (10; `--quick` 3); `--before-dist` also
/// measures the streaming and latency of another build's `dist/`, in turns
/// with this one and beside the same floor, for the report's
/// before-and-after table.
pub(crate) fn run(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let runs = value("--runs");
    let before_dist = value("--before-dist").map(PathBuf::from);
    let started_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let load_at_start = fs::read_to_string("/proc/loadavg").unwrap_or_default();

    setup::setup(true)?;
    let built = tasks::build()?;
    ensure_bench_packages(&built.tools)?;
    process::run(cargo().args([
        "build",
        "--release",
        "-p",
        "ringside-mock",
        "-p",
        "ringside-mint",
        "-p",
        "ringside-bench",
        "--bins",
    ]))?;
    let out = target_dir().join("bench");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let sse_wasm = build_sse_wasm(&built.tools, &out)?;

    let node = |script: &str| {
        let mut command = built.tools.command("node");
        command.arg(root().join("bench").join(script));
        command
    };
    // 1. Weight.
    process::run(
        node("weight.mjs")
            .arg("--dist")
            .arg(&built.dist)
            .arg("--out")
            .arg(out.join("weight.json")),
    )?;

    // 5. The parser, natively: criterion writes its estimates under target/criterion.
    let _ = fs::remove_dir_all(target_dir().join("criterion/sse"));
    process::run(cargo().args([
        "bench",
        "-p",
        "ringside-bench",
        "--bench",
        "sse",
        "--",
        "--warm-up-time",
        "1",
        "--measurement-time",
        if quick { "1" } else { "3" },
    ]))?;

    // 2–5. The browser figures.
    // One build's browser figures: `dist` measured into `file` of `out`.
    let browser = |dist: &Path, file: &str| {
        let mut command = node("browser.mjs");
        command
            .arg("--bin-dir")
            .arg(target_dir().join("release"))
            .arg("--dist")
            .arg(dist)
            .arg("--chromium")
            .arg(CHROMIUM)
            .arg("--out")
            .arg(out.join(file));
        if quick {
            command.args(["--runs", "3", "--sizes", "1000,4000"]);
        }
        if let Some(runs) = &runs {
            command.args(["--runs", runs]);
        }
        command
    };
    let mut command = browser(&built.dist, "browser.json");
    command.arg("--sse-wasm").arg(&sse_wasm);
    if let Some(dist) = &before_dist {
        // Measured in turns with this build, beside the same floor.
        command.arg("--before-dist").arg(dist);
    }
    process::run(&mut command)?;

    // 6. The servers, with the commands their docs give.
    for bench in SERVER_BENCHES {
        let figures = json_line(
            cargo()
                .args(["run", "--release", "--quiet", "-p", bench.package])
                .args(bench.target)
                .arg("--")
                .args(if quick { bench.quick } else { bench.full }),
        )?;
        fs::write(out.join(bench.figures), figures).map_err(|e| e.to_string())?;
    }

    let load_at_end = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    process::run(
        node("report.mjs")
            .arg("--in")
            .arg(&out)
            .arg("--criterion")
            .arg(target_dir().join("criterion"))
            .arg("--started-ms")
            .arg(started_ms.to_string())
            .arg("--load-start")
            .arg(load_at_start.trim())
            .arg("--load-end")
            .arg(load_at_end.trim())
            .args(if quick { &["--quick"][..] } else { &[][..] })
            .arg("--out-md")
            .arg(root().join("BENCHMARKS.md"))
            .arg("--out-json")
            .arg(root().join("BENCHMARKS.json")),
    )?;
    eprintln!("wrote BENCHMARKS.md and BENCHMARKS.json");
    Ok(())
}

/// A server benchmark: where it lives, how it is run, where its figures go.
struct ServerBench {
    /// Its package.
    package: &'static str,
    /// Its target in the package (`--bin NAME` or `--example NAME`).
    target: [&'static str; 2],
    /// Its arguments for `--quick`.
    quick: &'static [&'static str],
    /// Its arguments for a full run.
    full: &'static [&'static str],
    /// The file of `target/bench` its JSON line goes to, for `report.mjs`.
    figures: &'static str,
}

/// The servers' benchmarks, binaries of `bench/native`.
const SERVER_BENCHES: &[ServerBench] = &[
    ServerBench {
        package: "ringside-bench",
        target: ["--bin", "mint-tokens"],
        quick: &["--seconds", "1"],
        full: &["--seconds", "3"],
        figures: "mint.json",
    },
    ServerBench {
        package: "ringside-bench",
        target: ["--bin", "mock-streams"],
        quick: &["--concurrency", "1000"],
        full: &["--concurrency", "5000"],
        figures: "streams.json",
    },
];

/// `npm ci` in `bench/`, only when its lockfile changed since the last install.
fn ensure_bench_packages(tools: &Tools) -> Result {
    let bench = root().join("bench");
    let lock = fs::read(bench.join("package-lock.json"))
        .map_err(|e| format!("bench/package-lock.json: {e}"))?;
    let stamp_path = bench.join("node_modules/.ringside-lock-stamp");
    let stamp = format!("{:016x}", setup::fnv1a(&lock));
    if fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) {
        return Ok(());
    }
    process::run(
        tools
            .command("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&bench)
            // The benchmarks drive Debian's Chromium; nothing may download a browser.
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"),
    )?;
    fs::write(&stamp_path, stamp).map_err(|e| e.to_string())
}

/// The SSE parser bench as the widget is built: profile `wasm-release`,
/// wasm-bindgen for the web, `wasm-opt -Oz`. Returns the folder of its files.
fn build_sse_wasm(tools: &Tools, out: &Path) -> Result<PathBuf> {
    process::run(cargo().args([
        "build",
        "-p",
        "ringside-bench-sse",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]))?;
    let wasm = target_dir().join("wasm32-unknown-unknown/wasm-release/ringside_bench_sse.wasm");
    let dir = out.join("sse-wasm");
    process::run(
        tools
            .command("wasm-bindgen")
            .args(["--target", "web", "--out-dir"])
            .arg(&dir)
            .arg(&wasm),
    )?;
    let bg = dir.join("ringside_bench_sse_bg.wasm");
    process::run(
        tools
            .command("wasm-opt")
            .arg("-Oz")
            .arg(&bg)
            .arg("-o")
            .arg(&bg),
    )?;
    Ok(dir)
}

/// Runs `command`, showing its output, and returns the last line of its
/// stdout that is a JSON object: the figures the servers' benchmarks end
/// with. A benchmark that reports errors still exits non-zero; its figures
/// are kept (they say so).
fn json_line(command: &mut Command) -> Result<String> {
    let shown = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("$ {shown}");
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprint!("{stdout}");
    stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .map(|line| line.trim().to_string())
        .ok_or_else(|| format!("{shown} printed no JSON figures ({})", output.status))
}
