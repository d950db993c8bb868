//! The commands themselves.

use std::fs;
use std::path::{Path, PathBuf};

use crate::Result;
use crate::process::run;
use crate::setup::{self, CHROMIUM, Tools, cargo, root, target_dir};
use crate::slim;

/// The built servers and the widget's `dist/`.
pub(crate) struct Built {
    /// The tools, for later steps.
    pub(crate) tools: Tools,
    /// Where `ringside-mock` and `ringside-mint` are.
    pub(crate) bin_dir: PathBuf,
    /// The built demo page and widget.
    pub(crate) dist: PathBuf,
}

/// Sets up and builds everything the demo and the browser tests run.
pub(crate) fn build() -> Result<Built> {
    build_with(setup::setup(false)?)
}

/// Builds everything the demo and the browser tests run, with `tools`.
pub(crate) fn build_with(tools: Tools) -> Result<Built> {
    build_widget(&tools)?;
    run(cargo().args(["build", "-p", "ringside-mock", "-p", "ringside-mint"]))?;
    Ok(Built {
        tools,
        bin_dir: target_dir().join("debug"),
        dist: root().join("dist"),
    })
}

/// Every file the widget's build reads.
fn widget_inputs() -> Vec<PathBuf> {
    let root = root();
    let mut files: Vec<PathBuf> = [
        "index.html",
        "Trunk.toml",
        "Cargo.toml",
        "Cargo.lock",
        "wire/Cargo.toml",
        "xtask/src/slim.rs",
    ]
    .iter()
    .map(|f| root.join(f))
    .collect();
    for dir in ["src", "style", "js", "wire/src"] {
        collect_files(&root.join(dir), &mut files);
    }
    files.sort();
    files
}

pub(crate) fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// `trunk build --release`, skipped when no input changed since the last build.
fn build_widget(tools: &Tools) -> Result {
    let mut hash_input = Vec::new();
    for file in widget_inputs() {
        hash_input.extend_from_slice(file.to_string_lossy().as_bytes());
        hash_input.extend_from_slice(&fs::read(&file).unwrap_or_default());
    }
    let stamp = format!("{:016x}", setup::fnv1a(&hash_input));
    let dist = root().join("dist");
    let stamp_file = target_dir().join(".widget-build-stamp");
    let up_to_date = fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp)
        && dist.join("ringside-chat-widget_bg.wasm").exists()
        && slim::chunk_file(&dist).is_some()
        && dist.join("ringside-chat.js").exists();
    if up_to_date {
        eprintln!("dist/ is up to date");
        return Ok(());
    }
    // The linker keeps its relocations in the wasm, which wasm-split needs
    // to cut the answers chunk out of it (see `slim`).
    run(tools
        .command("trunk")
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
            "-Clink-args=--emit-relocs",
        )
        .args(["build", "--release"]))?;
    // What visitors download is minified: the loader (it must paint the
    // launcher in under 4 KB brotli), then the wasm and its glue.
    run(tools.command("esbuild").args([
        "js/ringside-chat.js",
        "--minify",
        "--target=es2020",
        "--legal-comments=none",
        "--log-level=warning",
        "--allow-overwrite",
        "--outfile=dist/ringside-chat.js",
    ]))?;
    // The module only widgets with persist: "server" load.
    run(tools.command("esbuild").args([
        "js/ringside-chat-threads.js",
        "--minify",
        "--format=esm",
        "--target=es2020",
        "--legal-comments=none",
        "--log-level=warning",
        "--allow-overwrite",
        "--outfile=dist/ringside-chat-threads.js",
    ]))?;
    let linked = target_dir().join("wasm32-unknown-unknown/wasm-release/ringside_chat.wasm");
    slim::slim(tools, &linked, &dist, &target_dir().join("slim"))?;
    for locale in locale_files()? {
        let name = locale.file_name().unwrap_or_default();
        fs::copy(&locale, dist.join(name)).map_err(|e| format!("{}: {e}", locale.display()))?;
    }
    fs::create_dir_all(target_dir()).map_err(|e| e.to_string())?;
    fs::write(&stamp_file, stamp).map_err(|e| e.to_string())
}

/// The widget's bundled translations (`js/locales/ringside-chat.<locale>.json`),
/// served beside the loader, which fetches one only for a page in that language.
pub(crate) fn locale_files() -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(root().join("js/locales"))
        .map_err(|e| format!("js/locales: {e}"))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// `cargo xtask package`: the npm package, as a tarball made by `npm pack`.
pub(crate) fn package() -> Result {
    let tools = setup::setup(false)?;
    let tarball = package_with(&tools)?;
    eprintln!("packed {}", tarball.display());
    Ok(())
}

fn package_with(tools: &Tools) -> Result<PathBuf> {
    build_widget(tools)?;
    let root = root();
    let out = target_dir().join("npm");
    let staging = out.join("package");
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
    let copy = |from: PathBuf, name: &str| {
        fs::copy(&from, staging.join(name)).map_err(|e| format!("copying {}: {e}", from.display()))
    };
    for name in ["index.js", "index.d.ts", "package.json", "README.md"] {
        copy(root.join("js/npm").join(name), name)?;
    }
    let chunk = slim::chunk_file(&root.join("dist")).ok_or("dist/ has no answers chunk")?;
    for name in [
        "ringside-chat.js",
        "ringside-chat-threads.js",
        "ringside-chat-widget.js",
        "ringside-chat-widget_bg.wasm",
        &chunk,
    ] {
        copy(root.join("dist").join(name), name)?;
    }
    for locale in locale_files()? {
        let name = locale
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        copy(locale, &name)?;
    }
    run(tools
        .command("npm")
        .current_dir(&staging)
        .args(["pack", "--silent", "--pack-destination"])
        .arg(&out))?;
    Ok(out.join("ringside-chat-0.1.0.tgz"))
}

/// The example host apps the browser tests drive: the Vite app is installed
/// from the packed tarball, type-checked and built.
fn build_examples(tools: &Tools) -> Result {
    let tarball = package_with(tools)?;
    let app = root().join("examples/vite-app");
    // A fresh tarball each time: reinstall it so the app sees this build.
    let installed = app.join("node_modules/ringside-chat");
    let _ = fs::remove_dir_all(&installed);
    let lock = fs::read(app.join("package-lock.json")).unwrap_or_default();
    let stamp = app.join("node_modules/.ringside-lock-stamp");
    let want = format!("{:016x}", setup::fnv1a(&lock));
    if fs::read_to_string(&stamp).ok().as_deref() != Some(want.as_str()) {
        run(tools
            .command("npm")
            .current_dir(&app)
            .args(["ci", "--no-audit", "--no-fund"]))?;
        fs::write(&stamp, want).map_err(|e| e.to_string())?;
    }
    run(tools
        .command("npm")
        .current_dir(&app)
        .args(["install", "--no-audit", "--no-fund", "--no-save"])
        .arg(&tarball))?;
    run(tools
        .command("npx")
        .current_dir(&app)
        .args(["tsc", "--noEmit"]))?;
    run(tools
        .command("npx")
        .current_dir(&app)
        .args(["vite", "build", "--logLevel", "warn"]))
}

/// `cargo xtask test`: what CI runs.
pub(crate) fn test(extra: &[String]) -> Result {
    let tools = setup::setup(true)?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    crate::tidy::tidy()?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().args([
        "clippy",
        "-p",
        "ringside-chat-widget",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The docs build without a warning: every intra-doc link resolves.
    run(cargo()
        .args(["doc", "--no-deps", "--workspace"])
        .env("RUSTDOCFLAGS", "-D warnings"))?;
    run(cargo()
        .args(["test", "--workspace"])
        .env("COMMONMARK_SPEC", setup::commonmark_spec()))?;
    browser_unit_tests(&tools)?;
    crate::fuzz::short_run()?;
    build_examples(&tools)?;
    let built = build_with(tools)?;
    run(built
        .tools
        .command("npx")
        .current_dir(root().join("e2e"))
        .args(["playwright", "test"])
        .args(extra)
        .env("RINGSIDE_BIN_DIR", &built.bin_dir)
        .env("RINGSIDE_DIST", &built.dist)
        .env("CHROMIUM", CHROMIUM)
        .env("GECKODRIVER", setup::geckodriver()))?;
    eprintln!("all checks and tests passed");
    Ok(())
}

/// `cargo xtask conformance`: runs the Markdown conformance tests against
/// the CommonMark spec's examples and writes their per-section table into
/// the README, between its `conformance` markers.
pub(crate) fn conformance() -> Result {
    setup::setup(false)?;
    let table = target_dir().join("conformance.md");
    run(cargo()
        .args(["test", "-p", "ringside-chat-widget", "--test", "commonmark"])
        .env("COMMONMARK_SPEC", setup::commonmark_spec())
        .env("CONFORMANCE_TABLE", &table))?;
    let table = fs::read_to_string(&table).map_err(|e| format!("{}: {e}", table.display()))?;
    let readme_path = root().join("README.md");
    let readme = fs::read_to_string(&readme_path).map_err(|e| e.to_string())?;
    let (start, end) = ("<!-- conformance:start -->\n", "<!-- conformance:end -->");
    let (Some(a), Some(b)) = (readme.find(start), readme.find(end)) else {
        return Err("README.md has no <!-- conformance:start/end --> markers".into());
    };
    let updated = format!("{}{start}{table}{}", &readme[..a], &readme[b..]);
    fs::write(&readme_path, updated).map_err(|e| e.to_string())?;
    eprint!("{table}");
    eprintln!("wrote the table into README.md");
    Ok(())
}

/// The unit tests of the code the browser runs, again, compiled to wasm and
/// run in headless Chromium by wasm-bindgen-test: the shared wire crate (the
/// SSE parser, the JSON reader, the frame decoder) and the widget's logic
/// (Markdown and its allowlisted tree, the conversation, the token rules).
fn browser_unit_tests(tools: &Tools) -> Result {
    // The runner writes each test module's glue and wasm to a temporary
    // folder; keep it beside the build rather than in a /tmp that may be small.
    let scratch = target_dir().join("tmp");
    fs::create_dir_all(&scratch)
        .map_err(|e| format!("cannot create {}: {e}", scratch.display()))?;
    // The browser: Debian's Chromium with the project's flags (headless is
    // the runner's own default).
    let capabilities = scratch.join("webdriver.json");
    fs::write(
        &capabilities,
        webdriver_capabilities(&setup::chromium_flags()?),
    )
    .map_err(|e| format!("cannot write {}: {e}", capabilities.display()))?;
    run(cargo()
        .env("TMPDIR", &scratch)
        .env("PATH", &tools.path)
        .args(["test", "-p", "ringside-wire", "-p", "ringside-chat-widget"])
        .args(["--lib", "--target", "wasm32-unknown-unknown"])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", setup::CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &capabilities))
}

/// wasm-bindgen-test's WebDriver capabilities: Debian's Chromium with
/// `flags` (plain flags: nothing in them needs escaping in JSON).
fn webdriver_capabilities(flags: &[String]) -> String {
    let args = flags
        .iter()
        .map(|flag| format!("\"{flag}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!("{{\"goog:chromeOptions\": {{\"binary\": \"{CHROMIUM}\", \"args\": [{args}]}}}}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wasm_tests_start_chromium_with_the_projects_flags() {
        let flags = setup::chromium_flags().unwrap();
        assert!(flags.iter().any(|f| f == "--disable-background-networking"));
        assert!(flags.iter().all(|f| f.starts_with("--")), "{flags:?}");
        assert_eq!(
            webdriver_capabilities(&["--a".into(), "--b=c".into()]),
            "{\"goog:chromeOptions\": {\"binary\": \"/usr/bin/chromium\", \"args\": [\"--a\", \"--b=c\"]}}\n"
        );
    }
}
