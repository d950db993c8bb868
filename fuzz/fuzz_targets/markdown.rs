//! The answer renderer's model on arbitrary text: Markdown blocks, inline
//! formatting and the element tree. It never panics or hangs, and:
//! - every link in the tree goes to `http:`, `https:` or `mailto:` and passes
//!   `safe_href`; `href` is only on links, `start` only on numbered lists;
//! - no letter of the text is lost (links' targets and fences' info strings
//!   aside, which are not shown by design);
//! - streaming changes nothing: the finished blocks of a prefix are the first
//!   blocks of the whole, and re-parsing the unfinished tail alone gives the
//!   prefix's unfinished blocks (what `StreamView` relies on).
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_chat::markdown::tree::{self, Attr, Node, Tag, safe_href};
use ringside_chat::markdown::{Parsed, parse};

fn check(node: &Node, shown: &mut String) {
    match node {
        Node::Text(text) => shown.push_str(text),
        Node::Element {
            tag,
            attrs,
            children,
        } => {
            let href = attrs.iter().find(|(a, _)| *a == Attr::Href);
            if *tag == Tag::A {
                let (_, href) = href.expect("a link always has an href");
                assert_eq!(
                    safe_href(href).as_deref(),
                    Some(href.as_str()),
                    "an unsafe href: {href:?}"
                );
                let scheme = href.split(':').next().unwrap_or("").to_ascii_lowercase();
                assert!(
                    matches!(scheme.as_str(), "http" | "https" | "mailto"),
                    "a link with the scheme {scheme:?}: {href:?}"
                );
                assert!(
                    !href.chars().any(|c| c.is_whitespace() || c.is_control()),
                    "a link with whitespace or a control character: {href:?}"
                );
                shown.push_str(href);
                shown.push(' ');
            } else {
                assert!(href.is_none(), "an href on a <{}>", tag.name());
            }
            for (attr, value) in attrs {
                match attr {
                    Attr::Start => {
                        assert_eq!(*tag, Tag::Ol, "start on a <{}>", tag.name());
                        assert!(value.parse::<u64>().is_ok(), "start is a number: {value:?}");
                    }
                    Attr::Class => {
                        assert!(value.starts_with("rsc-code"), "a foreign class: {value:?}")
                    }
                    Attr::Rel => assert_eq!(value, "noopener noreferrer nofollow"),
                    Attr::Target => assert_eq!(value, "_blank"),
                    _ => {}
                }
            }
            for child in children {
                check(child, shown);
            }
            shown.push(' ');
        }
    }
}

fn letters(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().filter(|c| c.is_alphabetic())
}

/// Whether `needle`'s letters appear, in order, among `haystack`'s.
fn letters_kept(needle: &str, haystack: &str) -> bool {
    let mut shown = letters(haystack);
    letters(needle).all(|wanted| shown.any(|c| c == wanted))
}

/// Link targets are shown only as `href`s (or not at all when unsafe), and a
/// fence's info string only by its first word: skip texts that have either.
fn drops_text_by_design(text: &str) -> bool {
    text.contains("](")
        || text.lines().any(|line| {
            ["```", "~~~"].iter().any(|fence| {
                line.split_once(fence)
                    .is_some_and(|(_, info)| info.trim().split_whitespace().nth(1).is_some())
            })
        })
}

fn blocks_of(parsed: &Parsed) -> Vec<Node> {
    parsed.blocks.iter().map(tree::block).collect()
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let whole = parse(text, true);
    assert_eq!(
        whole.finished,
        whole.blocks.len(),
        "a done text has every block finished"
    );
    let mut shown = String::new();
    for node in blocks_of(&whole) {
        check(&node, &mut shown);
    }
    if !drops_text_by_design(text) {
        assert!(
            letters_kept(text, &shown),
            "letters were lost: {text:?} became {shown:?}"
        );
    }

    // A few prefixes, as a stream would deliver them.
    let mut cuts: Vec<usize> = [1, 2, 3, 5, 8]
        .iter()
        .map(|d| text.len() * d / 8)
        .chain(
            text.char_indices()
                .filter(|(_, c)| *c == '\n')
                .map(|(i, _)| i + 1)
                .take(4),
        )
        .collect();
    cuts.dedup();
    for cut in cuts {
        if !text.is_char_boundary(cut) {
            continue;
        }
        let partial = parse(&text[..cut], false);
        assert!(partial.finished <= partial.blocks.len());
        assert!(partial.finished_end <= cut, "finished_end is past the text");
        assert!(
            partial.finished <= whole.blocks.len(),
            "a prefix finished more blocks than the whole text has: {:?}",
            &text[..cut]
        );
        assert_eq!(
            partial.blocks[..partial.finished],
            whole.blocks[..partial.finished],
            "a finished block changed when more text arrived: {:?} then {text:?}",
            &text[..cut]
        );
        let tail = parse(&text[partial.finished_end..cut], false);
        assert_eq!(
            tail.blocks,
            partial.blocks[partial.finished..],
            "re-parsing the unfinished tail changed it: {:?}",
            &text[..cut]
        );
        for node in blocks_of(&partial) {
            check(&node, &mut String::new());
        }
    }
});
