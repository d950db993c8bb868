//! `cargo xtask fuzz [--seconds N] [TARGET…]`: the cargo-fuzz (libFuzzer)
//! targets in `fuzz/`, each for N seconds (35 by default: all eight in under
//! six minutes, which is what `cargo xtask test` runs).
//!
//! cargo-fuzz is installed once, version-checked, in its own tools folder
//! (like every tool of [`crate::setup`]). It runs on the stable toolchain with
//! `--sanitizer none`: the default AddressSanitizer build needs `-Z` flags
//! (that is, nightly or `RUSTC_BOOTSTRAP=1`), and our code forbids `unsafe`,
//! so coverage-guided fuzzing finds its panics and wrong answers without it.
//! `--asan` turns it on (with `RUSTC_BOOTSTRAP=1`) for longer runs.
//!
//! Each target reads the corpus kept in the repo (`fuzz/corpus/<target>`)
//! and writes what it discovers to `target/fuzz/corpus/<target>`, so a run
//! never changes the repo; a crash is saved under `target/fuzz/artifacts/`
//! with the command that replays it. `fuzz/README.md` has the longer runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::process::{output, run};
use crate::setup::{self, root};

/// The cargo-fuzz release this project pins.
pub(crate) const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// Seconds per target of the run `cargo xtask test` makes.
pub(crate) const SHORT_RUN_SECS: u64 = 35;
/// Every target, in the order they run.
pub(crate) const TARGETS: &[&str] = &[
    "sse",
    "json",
    "markdown",
    "mock_jwt",
    "mock_request",
    "mint_request",
    "mint_session",
    "mint_identity",
];

/// `cargo xtask fuzz [--seconds N] [--asan] [TARGET…]`.
pub(crate) fn run_command(args: &[String]) -> Result {
    let mut seconds = SHORT_RUN_SECS;
    let mut asan = false;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--seconds takes a whole number of seconds")?;
            }
            "--asan" => asan = true,
            target if TARGETS.contains(&target) => targets.push(target),
            other => {
                return Err(format!(
                    "unknown fuzz target or flag `{other}`; targets: {}",
                    TARGETS.join(", ")
                ));
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    fuzz(&targets, seconds, asan)
}

/// The short run of every target that `cargo xtask test` makes.
pub(crate) fn short_run() -> Result {
    fuzz(TARGETS, SHORT_RUN_SECS, false)
}

fn fuzz(targets: &[&str], seconds: u64, asan: bool) -> Result {
    let cargo_fuzz = ensure_cargo_fuzz()?;
    let out = fuzz_target_dir();
    let sanitizer: &[&str] = if asan { &[] } else { &["--sanitizer", "none"] };
    let command = || {
        let mut command = Command::new(&cargo_fuzz);
        command
            .arg("fuzz")
            .current_dir(root().join("fuzz"))
            .env("CARGO_TARGET_DIR", out.join("build"));
        if asan {
            command.env("RUSTC_BOOTSTRAP", "1");
        }
        command
    };
    run(command().args(["build", "-O"]).args(sanitizer))?;
    for target in targets {
        let corpus = out.join("corpus").join(target);
        let artifacts = out.join("artifacts").join(target);
        for dir in [&corpus, &artifacts] {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let repo_corpus = root().join("fuzz/corpus").join(target);
        let log_path = out.join(format!("{target}.log"));
        let log = std::fs::File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let err_log = log.try_clone().map_err(|e| e.to_string())?;
        eprintln!(
            "fuzzing {target} for {seconds} s (log: {})",
            log_path.display()
        );
        let status = command()
            .args(["run", "-O"])
            .args(sanitizer)
            .arg(target)
            .arg(&corpus)
            .arg(&repo_corpus)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-timeout=10")
            .arg("-rss_limit_mb=4096")
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-print_final_stats=1")
            .stdout(log)
            .stderr(err_log)
            .status()
            .map_err(|e| format!("could not start cargo fuzz: {e}"))?;
        // libFuzzer logs every new input; show its summary, or the crash.
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let shown = if status.success() {
            lines
                .iter()
                .filter(|l| l.starts_with("Done ") || l.starts_with("stat::"))
                .copied()
                .collect::<Vec<_>>()
        } else {
            lines[lines.len().saturating_sub(80)..].to_vec()
        };
        eprintln!("  {}", shown.join("\n  "));
        if !status.success() {
            return Err(format!(
                "the fuzz target `{target}` failed: its input is in {}; replay it with\n  \
                 cd fuzz && cargo fuzz run -O{} {target} {}/<crash file>\n\
                 then fix the bug, add the input to fuzz/corpus/{target}/ and a unit test beside the code",
                artifacts.display(),
                if asan { "" } else { " --sanitizer none" },
                artifacts.display()
            ));
        }
    }
    eprintln!(
        "fuzzed {} target(s) for {seconds} s each: no crash",
        targets.len()
    );
    Ok(())
}

/// `target/fuzz` (under `CARGO_TARGET_DIR` when set): fuzz builds use other
/// compiler flags than the workspace's, so they get their own folder.
fn fuzz_target_dir() -> PathBuf {
    setup::target_dir().join("fuzz")
}

/// cargo-fuzz in its own versioned tools folder, installed when missing.
fn ensure_cargo_fuzz() -> Result<PathBuf> {
    let dir = setup::tools_dir().join(format!("cargo-fuzz-{CARGO_FUZZ_VERSION}"));
    let binary = dir.join("bin/cargo-fuzz");
    if is_version(&binary, CARGO_FUZZ_VERSION) {
        return Ok(binary);
    }
    eprintln!("installing cargo-fuzz {CARGO_FUZZ_VERSION} (a minute or two, once)");
    run(Command::new("cargo")
        .arg("install")
        .arg("--root")
        .arg(&dir)
        .args(["--locked", &format!("cargo-fuzz@{CARGO_FUZZ_VERSION}")]))?;
    if is_version(&binary, CARGO_FUZZ_VERSION) {
        Ok(binary)
    } else {
        Err(format!(
            "{} is not cargo-fuzz {CARGO_FUZZ_VERSION}",
            binary.display()
        ))
    }
}

fn is_version(binary: &Path, version: &str) -> bool {
    output(Command::new(binary).args(["fuzz", "--version"]))
        .is_some_and(|v| v.split_whitespace().any(|word| word == version))
}
