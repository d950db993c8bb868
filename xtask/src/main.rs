//! The project's commands, in the cargo-xtask style: `cargo xtask <command>`.
//!
//! - `demo`: set up, build, run the mock and the mint (serving the demo's
//!   pages) at http://127.0.0.1:8080/ until Ctrl-C.
//! - `screenshots`: the README's screenshots of the demo, in `docs/`.
//! - `test`: set up (browser and test tools too), then run every check and
//!   test: fmt, clippy, the docs' links, unit and HTTP tests, the browser-side unit tests
//!   (wasm-bindgen-test), a short fuzzing run, the browser tests.
//! - `build`: set up and build the widget (`dist/`) and the servers.
//! - `package`: the npm package, packed by `npm pack`.
//! - `setup`: install what is missing, idempotently; `--browser` adds the test tools.
//! - `bench`: run the benchmarks (never a test) and write `BENCHMARKS.md`/`.json`.
//! - `fuzz`: run the cargo-fuzz targets in `fuzz/` (`--seconds N` each, `TARGET…`).
//! - `conformance`: the Markdown conformance table (CommonMark spec examples), into the README.
//!
//! The layout: [`setup`] installs and finds tools, [`tasks`] runs the commands,
//! [`demo`] the demo and its screenshots,
//! [`bench`](mod@bench) the benchmarks, [`fuzz`] the fuzz targets, [`process`] starts and
//! stops child processes, [`slim`] the widget's last build steps (unused
//! exports out, wasm-opt, the glue minified), [`tidy`] the conventions
//! (also a `#[test]`).

mod bench;
mod demo;
mod fuzz;
mod process;
mod setup;
mod slim;
mod tasks;
mod tidy;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::demo(),
        Some("screenshots") => demo::screenshots(),
        Some("test") => tasks::test(&args[1..]),
        Some("build") => tasks::build().map(drop),
        Some("setup") => setup::setup(args.iter().any(|a| a == "--browser")).map(drop),
        Some("tidy") => tidy::tidy(),
        Some("package") => tasks::package(),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::run_command(&args[1..]),
        Some("conformance") => tasks::conformance(),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 demo    set up, build and run the demo at http://127.0.0.1:8080/\n  \
                 screenshots  take the README's screenshots of the demo (docs/*.png)\n  \
                 test    set up and run every check and test (what CI runs)\n  \
                 build   set up and build the widget (dist/) and the servers\n  \
                 package build the npm package (target/npm/ringside-chat-0.1.0.tgz)\n  \
                 setup   install missing tools (--browser: also the browser-test tools)\n  \
                 tidy    check the project's conventions\n  \
                 bench   run the benchmarks, write BENCHMARKS.md and .json (--quick, --runs N, --before-dist DIR)\n  \
                 fuzz    run the fuzz targets (--seconds N each, default 35; TARGET… to choose)\n  \
                 conformance  the Markdown conformance table (CommonMark spec examples), into the README"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

/// An error of a command, already in words for the person running it.
pub(crate) type Result<T = ()> = std::result::Result<T, String>;
