//! The project's conventions, checked: as a `#[test]` (so `cargo test`
//! alone catches a slip, as rust-analyzer's `tidy.rs` does) and as
//! `cargo xtask tidy`.
//!
//! - Every Rust file opens with a `//!` doc saying what it is for.
//! - No source file names an API that turns text into HTML (`innerHTML` and
//!   its kin): model and user text must never become markup. Clippy's
//!   `disallowed-methods` (`clippy.toml`) refuses the same APIs in Rust by
//!   their paths.

use std::fs;
use std::path::Path;

use crate::Result;
use crate::setup::root;
use crate::tasks::collect_files;

/// The folders whose files are checked.
const CHECKED: &[&str] = &[
    "src",
    "wire",
    "server",
    "xtask",
    "bench",
    "js",
    "e2e/tests",
    "demo",
];

/// The names no source file may contain, and the one file that must (this one).
const BANNED: &[&str] = &[
    "inner_html",
    "innerHTML",
    "outerHTML",
    "insertAdjacentHTML",
    "document.write",
];

/// Every break of the conventions under `root`, one line each.
pub(crate) fn problems(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for dir in CHECKED {
        collect_files(&root.join(dir), &mut files);
    }
    let mut problems = Vec::new();
    for file in files
        .iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "node_modules"))
    {
        let Some(ext) = file.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        let Ok(text) = fs::read_to_string(file) else {
            continue;
        };
        let shown = file.strip_prefix(root).unwrap_or(file).display();
        if ext == "rs" && !text.trim_start().starts_with("//!") {
            problems.push(format!(
                "{shown}: a Rust file opens with a `//!` doc saying what it is for"
            ));
        }
        let tidy_itself = file.ends_with("xtask/src/tidy.rs");
        if matches!(ext, "rs" | "js" | "mjs" | "ts") && !tidy_itself {
            for banned in BANNED {
                if text.contains(banned) {
                    problems.push(format!(
                        "{shown}: `{banned}` is banned (no text may become HTML)"
                    ));
                }
            }
        }
    }
    problems
}

/// `cargo xtask tidy`.
pub(crate) fn tidy() -> Result {
    let problems = problems(&root());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "tidy found {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_projects_conventions_hold() {
        let problems = problems(&root());
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// The check itself: a file that breaks both rules is named twice.
    #[test]
    fn a_file_without_its_doc_that_writes_html_is_found() {
        let dir = std::env::temp_dir().join(format!("ringside-tidy-{}", std::process::id()));
        let src = dir.join("src");
        fs::create_dir_all(&src).unwrap();
        fs::write(
            src.join("bad.rs"),
            "fn f(e: &Element) { e.set_inner_html(\"\") }\n",
        )
        .unwrap();
        fs::write(src.join("good.rs"), "//! Good.\n").unwrap();
        let found = problems(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found.iter().all(|p| p.starts_with("src/bad.rs")),
            "{found:?}"
        );
    }
}
