//! Issue #12: the widget's Markdown against the CommonMark 0.31.2 spec's own
//! examples (npm `commonmark-spec`, installed by `cargo xtask setup`), section
//! by section, with the examples our safety policy refuses on purpose listed
//! once, below, with the reason for each. Also: every example, streamed with
//! a cut at every point, ends as the whole text shows (what `StreamView`
//! relies on).
//!
//! `cargo xtask conformance` prints the per-section table (README, "Markdown
//! conformance").
#![cfg(not(target_arch = "wasm32"))]

mod html;

use std::collections::BTreeMap;
use std::path::PathBuf;

use ringside_chat::markdown::stream::{follow, whole};
use ringside_chat::markdown::tree::safe_href;

/// The examples the widget renders differently on purpose. Raw HTML is
/// always shown as text (the widget never turns model text into markup), so
/// both HTML sections are left out whole; these are the rest.
const POLICY: &[(u32, &str)] = &[
    (21, "raw HTML (shown as text)"),
    (31, "raw HTML (shown as text)"),
    (201, "raw HTML (shown as text)"),
    (308, "raw HTML (shown as text)"),
    (309, "raw HTML (shown as text)"),
    (344, "raw HTML (shown as text)"),
    (475, "raw HTML (shown as text)"),
    (476, "raw HTML (shown as text)"),
    (477, "raw HTML (shown as text)"),
    (491, "raw HTML (shown as text)"),
    (494, "raw HTML (shown as text)"),
    (524, "raw HTML (shown as text)"),
    (536, "raw HTML (shown as text)"),
    (642, "raw HTML (shown as text)"),
    (643, "raw HTML (shown as text)"),
];
/// Examples where GitHub's dialect, which the widget speaks, differs from
/// CommonMark: bare URLs and e-mail addresses are links (GFM's extended
/// autolinks), as they are on GitHub.
const DIALECT: &[(u32, &str)] = &[
    (606, "GFM: an e-mail address is a link"),
    (608, "GFM: a bare URL is a link"),
    (611, "GFM: a bare URL is a link"),
    (612, "GFM: an e-mail address is a link"),
];
/// Sections left out whole, and why.
const POLICY_SECTIONS: &[(&str, &str)] = &[
    ("HTML blocks", "raw HTML is shown as text"),
    ("Raw HTML", "raw HTML is shown as text"),
];

/// The examples that fail today, each with what is wrong: known, counted,
/// and kept short.
const KNOWN_FAILURES: &[(u32, &str)] = &[(
    25,
    "entity names outside the compact table (&Dcaron;, &HilbertSpace;, …) stay text",
)];

struct Example {
    number: u32,
    section: String,
    markdown: String,
    html: String,
}

fn spec_path() -> PathBuf {
    if let Some(path) = std::env::var_os("COMMONMARK_SPEC") {
        return PathBuf::from(path);
    }
    let tools = std::env::var_os("RINGSIDE_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/ringside-chat/tools")
        });
    tools.join("commonmark-spec-0.31.2/node_modules/commonmark-spec/spec.txt")
}

/// The examples of spec.txt, as the package's own `index.js` reads them
/// (`→` stands for a tab).
fn examples() -> Vec<Example> {
    let path = spec_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the CommonMark spec at {} ({e}): `cargo xtask setup` installs it",
            path.display()
        )
    });
    let text = text.split("<!-- END TESTS -->").next().unwrap_or("");
    let fence = "`".repeat(32);
    let mut examples = Vec::new();
    let mut section = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with('#') {
            section = line.trim_start_matches('#').trim().to_string();
        } else if line == format!("{fence} example") {
            let (mut markdown, mut html, mut in_html) = (String::new(), String::new(), false);
            for line in lines.by_ref() {
                if line == fence {
                    break;
                }
                if line == "." && !in_html {
                    in_html = true;
                    continue;
                }
                let into = if in_html { &mut html } else { &mut markdown };
                into.push_str(&line.replace('→', "\t"));
                into.push('\n');
            }
            examples.push(Example {
                number: examples.len() as u32 + 1,
                section: section.clone(),
                markdown,
                html,
            });
        }
    }
    assert_eq!(examples.len(), 652, "the 0.31.2 spec has 652 examples");
    examples
}

fn render(text: &str) -> String {
    html::normalize(&html::render(&whole(text)))
}

/// The spec's HTML as the widget's policy shows it: links to targets it
/// refuses keep their text only, and images show their description.
fn expected(spec_html: &str) -> String {
    let mut out = String::new();
    let mut rest = spec_html;
    let mut dropped_links = 0;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find('>').map_or(rest.len(), |e| e + 1);
        let tag = &rest[..end];
        if let Some(attrs) = tag.strip_prefix("<a href=\"") {
            let href = html::unescape(&attrs[..attrs.find('"').unwrap_or(0)]);
            if safe_href(&href).is_none() {
                dropped_links += 1;
                rest = &rest[end..];
                continue;
            }
        } else if tag == "</a>" && dropped_links > 0 {
            dropped_links -= 1;
            rest = &rest[end..];
            continue;
        } else if let Some(attrs) = tag.strip_prefix("<img ") {
            let alt = attrs.split("alt=\"").nth(1).unwrap_or("");
            out.push_str(&alt[..alt.find('"').unwrap_or(0)]);
            rest = &rest[end..];
            continue;
        }
        out.push_str(tag);
        rest = &rest[end..];
    }
    out.push_str(rest);
    html::normalize(&out)
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: Vec<u32>,
    policy: usize,
}

#[test]
fn the_commonmark_spec_examples_render_as_the_spec_says_outside_the_safety_policy() {
    let mut sections: BTreeMap<(usize, String), Tally> = BTreeMap::new();
    let mut order = Vec::new();
    let mut report = String::new();
    for example in examples() {
        if !order.contains(&example.section) {
            order.push(example.section.clone());
        }
        let key = (
            order.iter().position(|s| *s == example.section).unwrap(),
            example.section.clone(),
        );
        let tally = sections.entry(key).or_default();
        let refused = POLICY
            .iter()
            .chain(DIALECT)
            .any(|(n, _)| *n == example.number)
            || POLICY_SECTIONS.iter().any(|(s, _)| *s == example.section);
        if refused {
            tally.policy += 1;
            continue;
        }
        let got = render(&example.markdown);
        let want = expected(&example.html);
        if got == want {
            tally.passed += 1;
        } else {
            tally.failed.push(example.number);
            report.push_str(&format!(
                "--- example {} ({})\n{:?}\nwant {:?}\ngot  {:?}\n",
                example.number, example.section, example.markdown, want, got
            ));
        }
    }

    let mut table = String::from(
        "| section | pass | of | left out (policy, GFM) |\n| --- | ---: | ---: | ---: |\n",
    );
    let (mut passed, mut total, mut refused) = (0, 0, 0);
    for ((_, name), tally) in &sections {
        let run = tally.passed + tally.failed.len();
        table.push_str(&format!(
            "| {name} | {} | {run} | {} |\n",
            tally.passed, tally.policy
        ));
        passed += tally.passed;
        total += run;
        refused += tally.policy;
    }
    let percent = 100.0 * passed as f64 / total as f64;
    table.push_str(&format!(
        "| **all** | **{passed}** | **{total}** ({percent:.1} %) | {refused} |\n"
    ));
    println!("{table}");
    if let Some(out) = std::env::var_os("CONFORMANCE_TABLE") {
        std::fs::write(out, &table).expect("the table is written");
    }
    eprintln!("{report}");

    let failed: Vec<u32> = sections.values().flat_map(|t| t.failed.clone()).collect();
    let unexpected: Vec<&u32> = failed
        .iter()
        .filter(|n| !KNOWN_FAILURES.iter().any(|(k, _)| k == *n))
        .collect();
    let fixed: Vec<u32> = KNOWN_FAILURES
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !failed.contains(n))
        .collect();
    assert!(
        unexpected.is_empty(),
        "examples fail that are not known failures: {unexpected:?} (details above)"
    );
    assert!(
        fixed.is_empty(),
        "known failures pass now: take {fixed:?} off KNOWN_FAILURES"
    );
    assert!(percent >= 97.0, "{percent:.1} % pass, below 97 %");
    for ((_, name), tally) in &sections {
        if name == "Lists" || name == "List items" {
            assert!(tally.failed.is_empty(), "{name}: {:?} fail", tally.failed);
        }
    }
}

#[test]
fn every_spec_example_streamed_with_a_cut_anywhere_ends_as_the_whole_text() {
    for example in examples() {
        let text = example.markdown.as_str();
        let want = whole(text);
        for cut in 0..=text.len() {
            if text.is_char_boundary(cut) {
                assert_eq!(
                    follow(&[&text[..cut], &text[cut..]], |_| {}),
                    want,
                    "example {} cut at {cut}: {text:?}",
                    example.number
                );
            }
        }
        let chars: Vec<String> = text.chars().map(String::from).collect();
        let pieces: Vec<&str> = chars.iter().map(String::as_str).collect();
        assert_eq!(
            follow(&pieces, |_| {}),
            want,
            "example {} a character at a time",
            example.number
        );
    }
}
