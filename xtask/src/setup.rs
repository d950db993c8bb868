//! Installs what the project needs, idempotently and version-checked: the
//! wasm32 target, trunk, a wasm-bindgen-cli matching the crate, wasm-opt,
//! and for the tests Debian's Chromium, Firefox ESR and WebKitGTK (with
//! their WebDriver servers, and Xvfb for WebKit's window), Debian's
//! redis-server (the mint's replica tests start their own) and the e2e
//! npm packages.
//!
//! Tools go to a versioned folder per tool under `~/.cache/ringside-chat/tools`
//! (or `$RINGSIDE_TOOLS`), so clones share them and other projects' versions
//! are never replaced.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::process::{output, run};

/// trunk 0.22 needs a newer rustc than 1.95.
pub(crate) const TRUNK_VERSION: &str = "0.21.14";
/// wasm-opt from the npm package `binaryen`.
pub(crate) const BINARYEN_VERSION: &str = "132";
/// The JS minifier for the loader and the wasm-bindgen glue.
pub(crate) const ESBUILD_VERSION: &str = "0.28.2";
/// wasm-split, which cuts the widget's wasm at its split points
/// (`#[wasm_split]`, from `wasm_split_helpers` 0.2): the CLI of the same
/// series, whose markers the macro writes.
pub(crate) const WASM_SPLIT_VERSION: &str = "0.2.4";
/// The CommonMark spec whose examples the Markdown tests run (npm `commonmark-spec`).
pub(crate) const COMMONMARK_SPEC_VERSION: &str = "0.31.2";
/// Where Debian installs Chromium.
pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's ChromeDriver, for wasm-bindgen-test and the cross-browser subset.
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Firefox's WebDriver server, from crates.io (Debian ships none).
pub(crate) const GECKODRIVER_VERSION: &str = "0.36.0";

/// The cross-browser subset's other engines: Debian's packages, and a file
/// each installs.
const ENGINE_PACKAGES: [(&str, &str); 4] = [
    ("firefox-esr", "/usr/bin/firefox-esr"),
    // WebKitWebDriver, which starts WebKitGTK's MiniBrowser.
    ("webkit2gtk-driver", "/usr/bin/WebKitWebDriver"),
    // MiniBrowser needs a display: xvfb-run gives it a private one.
    ("xvfb", "/usr/bin/xvfb-run"),
    ("xauth", "/usr/bin/xauth"),
];

/// Where `cargo xtask setup` puts geckodriver.
pub(crate) fn geckodriver() -> PathBuf {
    tools_dir()
        .join(format!("geckodriver-{GECKODRIVER_VERSION}"))
        .join("bin/geckodriver")
}
/// Debian's Redis, which the mint's replica tests start on a free port.
pub(crate) const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// The flags every headless Chromium of the project starts with, from
/// `e2e/chromium.flags` (one per line, `#` comments), the list the browser
/// tests and the benchmarks read too.
pub(crate) fn chromium_flags() -> Result<Vec<String>> {
    let path = root().join("e2e/chromium.flags");
    let text =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut flags = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Plain flags only, so they can be written into JSON as they are.
        let plain = line.starts_with("--")
            && line
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
        if !plain {
            return Err(format!("{}: `{line}` is not a plain flag", path.display()));
        }
        flags.push(line.to_string());
    }
    Ok(flags)
}

/// The project's root (the workspace directory).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is in the workspace")
        .to_path_buf()
}

/// Cargo's target folder: `CARGO_TARGET_DIR`, or `target/` in the project.
pub(crate) fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The cargo that runs xtask, in the project's root. On CI (`CI` set) it
/// builds without incremental state: a clean clone never reuses it, and it
/// would take a gigabyte of disk.
pub(crate) fn cargo() -> Command {
    let mut command = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    if env::var_os("CI").is_some_and(|ci| !ci.is_empty() && ci != "false") {
        command.env("CARGO_INCREMENTAL", "0");
    }
    command
}

pub(crate) fn tools_dir() -> PathBuf {
    if let Some(dir) = env::var_os("RINGSIDE_TOOLS") {
        return PathBuf::from(dir);
    }
    let cache = env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env::var_os("HOME").unwrap_or_else(|| ".".into())).join(".cache")
        });
    cache.join("ringside-chat").join("tools")
}

/// The installed tools: a `PATH` that finds them first.
#[derive(Debug, Clone)]
pub(crate) struct Tools {
    /// `PATH` with the tools' folders in front.
    pub(crate) path: OsString,
}

impl Tools {
    /// A command that finds the project's tools on its `PATH`.
    pub(crate) fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command.env("PATH", &self.path).current_dir(root());
        command
    }
}

/// Installs whatever is missing; `browser` adds the browser-test tools.
pub(crate) fn setup(browser: bool) -> Result<Tools> {
    let tools = tools_dir();
    fs::create_dir_all(&tools).map_err(|e| format!("cannot create {}: {e}", tools.display()))?;

    ensure_wasm_target()?;
    let trunk_dir = tools.join(format!("trunk-{TRUNK_VERSION}"));
    ensure_cargo_tool(
        &trunk_dir,
        "trunk",
        &format!("trunk {TRUNK_VERSION}"),
        &["--locked", &format!("trunk@{TRUNK_VERSION}")],
    )?;

    let bindgen = wasm_bindgen_version()?;
    let bindgen_dir = tools.join(format!("wasm-bindgen-{bindgen}"));
    // Without --locked: the CLI's lockfile does not resolve on this index.
    ensure_cargo_tool(
        &bindgen_dir,
        "wasm-bindgen",
        &format!("wasm-bindgen {bindgen}"),
        &[&format!("wasm-bindgen-cli@{bindgen}")],
    )?;

    let binaryen_dir = tools.join(format!("binaryen-{BINARYEN_VERSION}"));
    ensure_npm_tool(
        &binaryen_dir,
        "wasm-opt",
        &format!("binaryen@{BINARYEN_VERSION}"),
        &format!("version {BINARYEN_VERSION}"),
    )?;

    let esbuild_dir = tools.join(format!("esbuild-{ESBUILD_VERSION}"));
    ensure_npm_tool(&esbuild_dir, "esbuild", ESBUILD_VERSION, ESBUILD_VERSION)?;

    // It has no `--version`: its folder is named for the version.
    let split_dir = tools.join(format!("wasm-split-{WASM_SPLIT_VERSION}"));
    if !split_dir.join("bin/wasm-split-cli").exists() {
        eprintln!("installing wasm-split {WASM_SPLIT_VERSION} (this takes a few minutes, once)");
        run(Command::new("cargo")
            .arg("install")
            .arg("--root")
            .arg(&split_dir)
            .args([
                "--locked",
                "--features",
                "build-binary",
                &format!("wasm_split_cli_support@{WASM_SPLIT_VERSION}"),
            ]))?;
    }
    ensure_commonmark_spec()?;

    let mut paths = vec![
        trunk_dir.join("bin"),
        bindgen_dir.join("bin"),
        binaryen_dir.join("node_modules/.bin"),
        esbuild_dir.join("node_modules/.bin"),
        split_dir.join("bin"),
    ];
    paths.extend(env::split_paths(&env::var_os("PATH").unwrap_or_default()));
    let path = env::join_paths(paths).map_err(|e| e.to_string())?;

    if browser {
        ensure_chromium()?;
        ensure_engines()?;
        ensure_redis()?;
        ensure_e2e_packages()?;
    }
    Ok(Tools { path })
}

fn version_matches(binary: &Path, expected: &str) -> bool {
    output(Command::new(binary).arg("--version")).is_some_and(|v| v.contains(expected))
}

/// An npm package's binary in its own folder, installed when its version is not the pinned one.
fn ensure_npm_tool(dir: &Path, binary: &str, package: &str, expected: &str) -> Result {
    let package = if package.contains('@') {
        package.to_string()
    } else {
        format!("{binary}@{package}")
    };
    if version_matches(&dir.join("node_modules/.bin").join(binary), expected) {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir)
        .arg(package))
}

/// The CommonMark spec's text, with its examples (`tests/commonmark.rs`
/// reads it from the `COMMONMARK_SPEC` the test command sets).
pub(crate) fn commonmark_spec() -> PathBuf {
    tools_dir()
        .join(format!("commonmark-spec-{COMMONMARK_SPEC_VERSION}"))
        .join("node_modules/commonmark-spec/spec.txt")
}

fn ensure_commonmark_spec() -> Result {
    let spec = commonmark_spec();
    let manifest = spec.with_file_name("package.json");
    let installed = fs::read_to_string(&manifest)
        .is_ok_and(|m| m.contains(&format!("\"version\": \"{COMMONMARK_SPEC_VERSION}\"")));
    if installed && spec.exists() {
        return Ok(());
    }
    let dir = tools_dir().join(format!("commonmark-spec-{COMMONMARK_SPEC_VERSION}"));
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(format!("commonmark-spec@{COMMONMARK_SPEC_VERSION}")))
}

fn ensure_wasm_target() -> Result {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

fn ensure_cargo_tool(dir: &Path, binary: &str, expected: &str, install_args: &[&str]) -> Result {
    if version_matches(&dir.join("bin").join(binary), expected) {
        return Ok(());
    }
    eprintln!("installing {expected} (this takes a few minutes, once)");
    run(Command::new("cargo")
        .arg("install")
        .arg("--root")
        .arg(dir)
        .args(install_args))
}

/// The `wasm-bindgen` version in Cargo.lock: the CLI must match it exactly.
fn wasm_bindgen_version() -> Result<String> {
    let lock = fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock ({e}); run `cargo generate-lockfile`"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \""))
        {
            return Ok(version.trim_end_matches('"').to_string());
        }
    }
    Err("Cargo.lock has no wasm-bindgen package".into())
}

fn ensure_chromium() -> Result {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    eprintln!("installing Debian's chromium and chromium-driver");
    apt_install(&["chromium", "chromium-driver"])
}

/// Firefox ESR, WebKitGTK's WebDriver and MiniBrowser, Xvfb (Debian), and
/// geckodriver (crates.io, pinned).
fn ensure_engines() -> Result {
    let missing: Vec<&str> = ENGINE_PACKAGES
        .iter()
        .filter(|(_, file)| !Path::new(file).exists())
        .map(|(package, _)| *package)
        .collect();
    if !missing.is_empty() {
        eprintln!("installing Debian's {}", missing.join(", "));
        apt_install(&missing)?;
    }
    let dir = tools_dir().join(format!("geckodriver-{GECKODRIVER_VERSION}"));
    ensure_cargo_tool(
        &dir,
        "geckodriver",
        &format!("geckodriver {GECKODRIVER_VERSION}"),
        &["--locked", &format!("geckodriver@{GECKODRIVER_VERSION}")],
    )
}

/// Debian's `redis-server`, only the binary: the tests start their own on
/// a free loopback port, so no service is enabled or started here.
fn ensure_redis() -> Result {
    if Path::new(REDIS_SERVER).exists() {
        return Ok(());
    }
    eprintln!("installing Debian's redis-server (the mint's replica tests start their own)");
    apt_install(&["redis-server"])
}

/// `apt-get install` (through `sudo -n` when not root), with an `apt-get
/// update` first if the package lists are too old to find them.
fn apt_install(packages: &[&str]) -> Result {
    let sudo = output(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() != "0");
    let apt = |args: &[&str]| {
        let mut command = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            command.args(["-n", "apt-get"]);
        }
        // Wait for another install to finish rather than fail on its lock.
        command
            .args(["-o", "DPkg::Lock::Timeout=600"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive");
        command
    };
    let install = |packages: &[&str]| {
        let mut command = apt(&["install", "-y", "--no-install-recommends"]);
        command.args(packages);
        command
    };
    if run(&mut install(packages)).is_err() {
        run(&mut apt(&["update"]))?;
        run(&mut install(packages))?;
    }
    Ok(())
}

/// `npm ci` in `e2e/`, only when its lockfile changed since the last install.
fn ensure_e2e_packages() -> Result {
    let e2e = root().join("e2e");
    let lock = fs::read(e2e.join("package-lock.json"))
        .map_err(|e| format!("e2e/package-lock.json: {e}"))?;
    let stamp_path = e2e.join("node_modules/.ringside-lock-stamp");
    let stamp = format!("{:016x}", fnv1a(&lock));
    if fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) {
        return Ok(());
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&e2e)
        // The tests drive Debian's Chromium; no test tool may download a browser.
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))?;
    fs::write(&stamp_path, stamp).map_err(|e| e.to_string())
}

/// A stable hash for change stamps.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
