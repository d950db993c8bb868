//! The answer renderer's model on arbitrary text: Markdown blocks, inline
//! formatting, the element tree and the streaming model. It never panics or
//! hangs, and:
//! - only allowlisted tags and attributes appear, with the values the tree
//!   may give them: every link goes to `http:`, `https:` or `mailto:` and
//!   passes `safe_href`; `input` is only a disabled checkbox; classes are the
//!   widget's own;
//! - no letter of the text is lost (but what is not shown by design: link
//!   targets and definitions, fences' info strings, entity names, task
//!   markers, `<br>`, table cells past the header's);
//! - streaming changes nothing: cut anywhere, or fed a piece at a time, the
//!   trees a renderer follows to the end are the whole text's trees (what
//!   `StreamView` relies on), and a final block never changes unless a link
//!   definition arrives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_chat::markdown::stream::{follow, whole};
use ringside_chat::markdown::tree::{Attr, Node, Tag, safe_href};

const CLASSES: &[&str] = &[
    "rsc-code",
    "rsc-code__bar",
    "rsc-code__lang",
    "rsc-code__copy",
    "rsc-table",
    "rsc-task",
    "rsc-left",
    "rsc-center",
    "rsc-right",
];

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
            if *tag == Tag::Input {
                assert!(children.is_empty(), "an input with content");
                assert!(
                    attrs.contains(&(Attr::Type, "checkbox".into()))
                        && attrs.contains(&(Attr::Disabled, String::new())),
                    "an input that is not a disabled checkbox: {attrs:?}"
                );
            }
            for (attr, value) in attrs {
                match attr {
                    Attr::Start => {
                        assert_eq!(*tag, Tag::Ol, "start on a <{}>", tag.name());
                        assert!(value.parse::<u64>().is_ok(), "start is a number: {value:?}");
                    }
                    Attr::Class => {
                        assert!(CLASSES.contains(&value.as_str()), "a foreign class: {value:?}")
                    }
                    Attr::Rel => assert_eq!(value, "noopener noreferrer nofollow"),
                    Attr::Target => assert_eq!(value, "_blank"),
                    Attr::Title => assert_eq!(*tag, Tag::A, "a title on a <{}>", tag.name()),
                    Attr::TabIndex => assert_eq!(value, "0"),
                    Attr::Checked | Attr::Disabled => {
                        assert_eq!(*tag, Tag::Input);
                        assert!(value.is_empty());
                    }
                    Attr::Type => assert!(
                        matches!(value.as_str(), "button" | "checkbox"),
                        "a type {value:?}"
                    ),
                    Attr::Action => assert_eq!(value, "copy-code"),
                    Attr::AriaLabel | Attr::Href => {}
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

/// Text that is not shown by design: skip inputs that have any.
fn drops_text_by_design(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    // A table row's cells past the header's are dropped, as GFM says.
    text.contains("](")
        || text.contains("]:")
        || text.contains('|')
        || text.contains(['&', '<', '!'])
        || lower.contains("[x]")
        || text.lines().any(|line| {
            ["```", "~~~"].iter().any(|fence| {
                // The parser's words are split at spaces and tabs, as the spec's.
                line.split_once(fence).is_some_and(|(_, info)| {
                    let info = info.trim_matches([' ', '\t']);
                    info.split([' ', '\t']).filter(|w| !w.is_empty()).nth(1).is_some()
                })
            })
        })
}

/// The trees a renderer following the stream's updates shows at the end;
/// every tree built from text not final yet is checked on the way.
fn streamed(pieces: &[&str]) -> Vec<Node> {
    follow(pieces, |tail| {
        for node in tail {
            check(node, &mut String::new());
        }
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let whole = whole(text);
    let mut shown = String::new();
    for node in &whole {
        check(node, &mut shown);
    }
    if !drops_text_by_design(text) {
        assert!(
            letters_kept(text, &shown),
            "letters were lost: {text:?} became {shown:?}"
        );
    }

    // A few cuts, as a stream would deliver them, and one piece per line.
    let mut cuts: Vec<usize> = [1, 2, 3, 5, 8]
        .iter()
        .map(|d| text.len() * d / 8)
        .collect();
    cuts.dedup();
    for cut in cuts {
        if text.is_char_boundary(cut) {
            assert_eq!(
                streamed(&[&text[..cut], &text[cut..]]),
                whole,
                "cut at {cut}: {text:?}"
            );
        }
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!(streamed(&lines), whole, "line by line: {text:?}");
});
