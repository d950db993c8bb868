//! From Markdown to an element tree built only from allowed tags and
//! attributes: the tree's types cannot express anything else, and link
//! targets pass [`safe_href`]. The DOM is built from this tree with
//! `createElement` and text nodes, never from HTML strings.

use super::Block;
use super::inline::{self, Inline};

/// The elements an answer may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// `p`
    P,
    /// `h3` to `h6` (the panel's title is the `h2`).
    H(u8),
    /// `strong`
    Strong,
    /// `em`
    Em,
    /// `code`
    Code,
    /// `pre`
    Pre,
    /// `ul`
    Ul,
    /// `ol`
    Ol,
    /// `li`
    Li,
    /// `blockquote`
    Blockquote,
    /// `a`, with a checked `href`.
    A,
    /// `br`
    Br,
    /// `hr`
    Hr,
    /// `div`, for the code block's frame.
    Div,
    /// `span`, for the code block's language label.
    Span,
    /// `button`, the code block's copy button.
    Button,
}

impl Tag {
    /// The element's name.
    pub fn name(self) -> &'static str {
        match self {
            Tag::P => "p",
            Tag::H(3) => "h3",
            Tag::H(4) => "h4",
            Tag::H(5) => "h5",
            Tag::H(_) => "h6",
            Tag::Strong => "strong",
            Tag::Em => "em",
            Tag::Code => "code",
            Tag::Pre => "pre",
            Tag::Ul => "ul",
            Tag::Ol => "ol",
            Tag::Li => "li",
            Tag::Blockquote => "blockquote",
            Tag::A => "a",
            Tag::Br => "br",
            Tag::Hr => "hr",
            Tag::Div => "div",
            Tag::Span => "span",
            Tag::Button => "button",
        }
    }
}

/// The attributes an answer's elements may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    /// `class`, always one of the widget's own class names.
    Class,
    /// `href`, always a [`safe_href`].
    Href,
    /// `rel`, always `noopener noreferrer nofollow`.
    Rel,
    /// `target`, always `_blank`.
    Target,
    /// `start` of an `ol`.
    Start,
    /// `type` of the copy button.
    Type,
    /// `aria-label` of the copy button.
    AriaLabel,
    /// `data-action` of the copy button (what the transcript's listener does).
    Action,
}

impl Attr {
    /// The attribute's name.
    pub fn name(self) -> &'static str {
        match self {
            Attr::Class => "class",
            Attr::Href => "href",
            Attr::Rel => "rel",
            Attr::Target => "target",
            Attr::Start => "start",
            Attr::Type => "type",
            Attr::AriaLabel => "aria-label",
            Attr::Action => "data-action",
        }
    }
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// An element.
    Element {
        /// Its tag.
        tag: Tag,
        /// Its attributes.
        attrs: Vec<(Attr, String)>,
        /// Its children.
        children: Vec<Node>,
    },
    /// Text, shown as is.
    Text(String),
}

fn element(tag: Tag, children: Vec<Node>) -> Node {
    Node::Element {
        tag,
        attrs: Vec::new(),
        children,
    }
}

fn with_class(tag: Tag, class: &str, children: Vec<Node>) -> Node {
    Node::Element {
        tag,
        attrs: vec![(Attr::Class, class.to_string())],
        children,
    }
}

/// The target of a link, if it may be followed: `http:`, `https:` or
/// `mailto:` only, with no whitespace or control characters anywhere.
pub fn safe_href(target: &str) -> Option<String> {
    if target.is_empty() || target.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (scheme, rest) = target.split_once(':')?;
    let allowed = ["http", "https", "mailto"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s));
    let has_host =
        !scheme.eq_ignore_ascii_case("mailto") && rest.starts_with("//") && rest.len() > 2;
    let has_address = scheme.eq_ignore_ascii_case("mailto") && rest.len() > 1;
    (allowed && (has_host || has_address)).then(|| target.to_string())
}

fn inlines(items: Vec<Inline>) -> Vec<Node> {
    items
        .into_iter()
        .map(|item| match item {
            Inline::Text(text) => Node::Text(text),
            Inline::Emphasis(children) => element(Tag::Em, inlines(children)),
            Inline::Strong(children) => element(Tag::Strong, inlines(children)),
            Inline::Code(code) => element(Tag::Code, vec![Node::Text(code)]),
            Inline::Break => element(Tag::Br, Vec::new()),
            Inline::Link { href, children } => Node::Element {
                tag: Tag::A,
                attrs: vec![
                    (Attr::Href, href),
                    (Attr::Target, "_blank".into()),
                    (Attr::Rel, "noopener noreferrer nofollow".into()),
                ],
                children: inlines(children),
            },
        })
        .collect()
}

/// The element tree of one block.
pub fn block(block: &Block) -> Node {
    match block {
        Block::Paragraph(text) => element(Tag::P, inlines(inline::parse(text))),
        Block::Heading { level, text } => {
            element(Tag::H((level + 2).min(6)), inlines(inline::parse(text)))
        }
        Block::Code { lang, text } => {
            let mut bar = Vec::new();
            if !lang.is_empty() {
                bar.push(with_class(
                    Tag::Span,
                    "rsc-code__lang",
                    vec![Node::Text(lang.clone())],
                ));
            }
            bar.push(Node::Element {
                tag: Tag::Button,
                attrs: vec![
                    (Attr::Class, "rsc-code__copy".into()),
                    (Attr::Type, "button".into()),
                    (Attr::AriaLabel, "Copy code".into()),
                    (Attr::Action, "copy-code".into()),
                ],
                children: vec![Node::Text("Copy".into())],
            });
            with_class(
                Tag::Div,
                "rsc-code",
                vec![
                    with_class(Tag::Div, "rsc-code__bar", bar),
                    element(
                        Tag::Pre,
                        vec![element(Tag::Code, vec![Node::Text(text.clone())])],
                    ),
                ],
            )
        }
        Block::List { start, items } => {
            let items = items
                .iter()
                .map(|blocks| {
                    // A one-paragraph item shows its text without the paragraph's margins.
                    let children = match blocks.as_slice() {
                        [Block::Paragraph(text)] => inlines(inline::parse(text)),
                        _ => blocks.iter().map(self::block).collect(),
                    };
                    element(Tag::Li, children)
                })
                .collect();
            match start {
                None => element(Tag::Ul, items),
                Some(n) => Node::Element {
                    tag: Tag::Ol,
                    attrs: if *n == 1 {
                        Vec::new()
                    } else {
                        vec![(Attr::Start, n.to_string())]
                    },
                    children: items,
                },
            }
        }
        Block::Quote(blocks) => element(Tag::Blockquote, blocks.iter().map(self::block).collect()),
        Block::Rule => element(Tag::Hr, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn only_web_and_mail_links_are_safe() {
        for good in [
            "https://a.b",
            "http://a.b/c?d#e",
            "HTTPS://A.B",
            "mailto:a@b.c",
        ] {
            assert!(safe_href(good).is_some(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,x",
            "vbscript:x",
            "/relative",
            "//evil.com",
            "https:",
            "https://",
            "java\u{0}script:x",
            " https://a.b",
            "https://a.b c",
            "mailto:",
            "file:///etc/passwd",
            "https:evil.com",
        ] {
            assert!(safe_href(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_code_block_has_a_label_a_copy_button_and_its_text() {
        let node = block(&Block::Code {
            lang: "js".into(),
            text: "<b>x</b>".into(),
        });
        let Node::Element {
            tag: Tag::Div,
            children,
            ..
        } = node
        else {
            panic!("a frame")
        };
        let Node::Element { children: pre, .. } = &children[1] else {
            panic!("a pre")
        };
        assert_eq!(
            pre[0],
            element(Tag::Code, vec![Node::Text("<b>x</b>".into())])
        );
    }

    #[test]
    fn headings_start_below_the_panel_title() {
        assert_eq!(
            block(&Block::Heading {
                level: 1,
                text: "T".into()
            }),
            element(Tag::H(3), vec![Node::Text("T".into())])
        );
        assert_eq!(Tag::H(6).name(), "h6");
        assert_eq!(Tag::H(8).name(), "h6");
    }

    #[test]
    fn numbered_lists_keep_their_start() {
        let node = block(&Block::List {
            start: Some(3),
            items: vec![vec![Block::Paragraph("x".into())]],
        });
        assert_eq!(
            node,
            Node::Element {
                tag: Tag::Ol,
                attrs: vec![(Attr::Start, "3".into())],
                children: vec![element(Tag::Li, vec![Node::Text("x".into())])],
            }
        );
    }
}
