//! From Markdown to an element tree built only from allowed tags and
//! attributes: the tree's types cannot express anything else, and link
//! targets pass [`safe_href`]. The DOM is built from this tree with
//! `createElement` and text nodes, never from HTML strings.

use super::inline::{self, Inline};
use super::{Align, Block, Item, Refs};

/// The elements an answer may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    /// `p`
    P,
    /// A heading of Markdown level 1 to 6, shown as `h3` to `h6` (the
    /// panel's title is the `h2`).
    H(u8),
    /// `strong`
    Strong,
    /// `em`
    Em,
    /// `del`, for strikethrough.
    Del,
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
    /// `div`, for the code block's and the table's frames.
    Div,
    /// `span`, for the code block's language label.
    Span,
    /// `button`, the code block's copy button.
    Button,
    /// `table`
    Table,
    /// `thead`
    Thead,
    /// `tbody`
    Tbody,
    /// `tr`
    Tr,
    /// `th`
    Th,
    /// `td`
    Td,
    /// `label`, around a task's checkbox and its text.
    Label,
    /// `input`, only ever a disabled checkbox (a task list item's state).
    Input,
}

impl Tag {
    /// The element's name.
    pub fn name(self) -> &'static str {
        match self {
            Tag::P => "p",
            Tag::H(1) => "h3",
            Tag::H(2) => "h4",
            Tag::H(3) => "h5",
            Tag::H(_) => "h6",
            Tag::Strong => "strong",
            Tag::Em => "em",
            Tag::Del => "del",
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
            Tag::Table => "table",
            Tag::Thead => "thead",
            Tag::Tbody => "tbody",
            Tag::Tr => "tr",
            Tag::Th => "th",
            Tag::Td => "td",
            Tag::Label => "label",
            Tag::Input => "input",
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
    /// `title` of a link (text).
    Title,
    /// `rel`, always `noopener noreferrer nofollow`.
    Rel,
    /// `target`, always `_blank`.
    Target,
    /// `start` of an `ol`.
    Start,
    /// `type` of the copy button and of a task's checkbox.
    Type,
    /// `aria-label` of the copy button.
    AriaLabel,
    /// `data-action` of the copy button (what the transcript's listener does).
    Action,
    /// `tabindex` of a table's frame, so a keyboard can scroll it.
    TabIndex,
    /// `checked` of a done task's checkbox.
    Checked,
    /// `disabled` of a task's checkbox (an answer's tasks are not editable).
    Disabled,
}

impl Attr {
    /// The attribute's name.
    pub fn name(self) -> &'static str {
        match self {
            Attr::Class => "class",
            Attr::Href => "href",
            Attr::Title => "title",
            Attr::Rel => "rel",
            Attr::Target => "target",
            Attr::Start => "start",
            Attr::Type => "type",
            Attr::AriaLabel => "aria-label",
            Attr::Action => "data-action",
            Attr::TabIndex => "tabindex",
            Attr::Checked => "checked",
            Attr::Disabled => "disabled",
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

fn with_attrs(tag: Tag, attrs: Vec<(Attr, String)>, children: Vec<Node>) -> Node {
    Node::Element {
        tag,
        attrs,
        children,
    }
}

fn with_class(tag: Tag, class: &str, children: Vec<Node>) -> Node {
    with_attrs(tag, vec![(Attr::Class, class.to_string())], children)
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

/// Builds element trees with a document's reference definitions, and
/// notes whether a block used a label that is not defined (yet).
#[derive(Debug)]
pub struct Builder<'r> {
    refs: &'r Refs,
    /// A label was looked up and not found since this was last cleared.
    pub missing_ref: bool,
}

/// The element tree of one finished block, with the document's definitions.
pub fn block(block: &Block, refs: &Refs) -> Node {
    Builder::new(refs).block(block, false)
}

impl<'r> Builder<'r> {
    /// A builder that resolves reference links with `refs`.
    pub fn new(refs: &'r Refs) -> Self {
        Builder {
            refs,
            missing_ref: false,
        }
    }

    /// The element tree of `block`. With `open_end`, more text may still
    /// arrive at the block's end (see [`inline`]).
    pub fn block(&mut self, block: &Block, open_end: bool) -> Node {
        match block {
            Block::Paragraph(text) => element(Tag::P, self.inlines(text, open_end)),
            Block::Heading { level, text } => element(Tag::H(*level), self.inlines(text, open_end)),
            Block::Code { lang, text } => code_block(lang, text),
            Block::List {
                start,
                tight,
                items,
            } => {
                let last = items.len().saturating_sub(1);
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.item(item, *tight, open_end && i == last))
                    .collect();
                match start {
                    None => element(Tag::Ul, items),
                    Some(1) => element(Tag::Ol, items),
                    Some(n) => with_attrs(Tag::Ol, vec![(Attr::Start, n.to_string())], items),
                }
            }
            Block::Quote(blocks) => element(Tag::Blockquote, self.blocks(blocks, false, open_end)),
            Block::Rule => element(Tag::Hr, Vec::new()),
            Block::Table { align, head, rows } => {
                let no_rows = rows.is_empty();
                let head = self.row(Tag::Th, head, align, open_end && no_rows);
                let mut parts = vec![element(Tag::Thead, vec![head])];
                if !no_rows {
                    let last = rows.len() - 1;
                    let body = rows
                        .iter()
                        .enumerate()
                        .map(|(i, cells)| self.row(Tag::Td, cells, align, open_end && i == last))
                        .collect();
                    parts.push(element(Tag::Tbody, body));
                }
                // Its own frame scrolls sideways when the table is wider than
                // the panel; focusable, so a keyboard can scroll it too.
                with_attrs(
                    Tag::Div,
                    vec![
                        (Attr::Class, "rsc-table".into()),
                        (Attr::TabIndex, "0".into()),
                    ],
                    vec![element(Tag::Table, parts)],
                )
            }
        }
    }

    fn blocks(&mut self, blocks: &[Block], tight: bool, open_end: bool) -> Vec<Node> {
        let last = blocks.len().saturating_sub(1);
        let mut out = Vec::new();
        for (i, block) in blocks.iter().enumerate() {
            let open_end = open_end && i == last;
            match block {
                // A tight list shows its items' paragraphs without margins.
                Block::Paragraph(text) if tight => out.extend(self.inlines(text, open_end)),
                _ => out.push(self.block(block, open_end)),
            }
        }
        out
    }

    fn item(&mut self, item: &Item, tight: bool, open_end: bool) -> Node {
        let Some(done) = item.task else {
            return element(Tag::Li, self.blocks(&item.blocks, tight, open_end));
        };
        // A task: a disabled checkbox, labelled by the item's first paragraph.
        let mut attrs = vec![
            (Attr::Type, "checkbox".to_string()),
            (Attr::Disabled, String::new()),
        ];
        if done {
            attrs.push((Attr::Checked, String::new()));
        }
        let mut checkbox = Some(with_attrs(Tag::Input, attrs, Vec::new()));
        let last = item.blocks.len().saturating_sub(1);
        let mut children = Vec::new();
        for (i, block) in item.blocks.iter().enumerate() {
            let open_end = open_end && i == last;
            match block {
                Block::Paragraph(text) if i == 0 => {
                    let mut content: Vec<Node> = checkbox.take().into_iter().collect();
                    content.extend(self.inlines(text, open_end));
                    let label = element(Tag::Label, content);
                    children.push(if tight {
                        label
                    } else {
                        element(Tag::P, vec![label])
                    });
                }
                Block::Paragraph(text) if tight => children.extend(self.inlines(text, open_end)),
                _ => children.push(self.block(block, open_end)),
            }
        }
        with_class(Tag::Li, "rsc-task", children)
    }

    fn row(&mut self, tag: Tag, cells: &[String], align: &[Align], open_end: bool) -> Node {
        let last = cells.len().saturating_sub(1);
        let cells = cells
            .iter()
            .zip(align)
            .enumerate()
            .map(|(i, (cell, align))| {
                let content = self.inlines(cell, open_end && i == last);
                match align {
                    Align::None => element(tag, content),
                    Align::Left => with_class(tag, "rsc-left", content),
                    Align::Center => with_class(tag, "rsc-center", content),
                    Align::Right => with_class(tag, "rsc-right", content),
                }
            })
            .collect();
        element(Tag::Tr, cells)
    }

    fn inlines(&mut self, text: &str, open_end: bool) -> Vec<Node> {
        let parsed = inline::parse(text, self.refs, open_end);
        self.missing_ref |= parsed.missing_ref;
        inlines(parsed.items)
    }
}

fn code_block(lang: &str, text: &str) -> Node {
    let mut bar = Vec::new();
    if !lang.is_empty() {
        bar.push(with_class(
            Tag::Span,
            "rsc-code__lang",
            vec![Node::Text(lang.to_string())],
        ));
    }
    bar.push(with_attrs(
        Tag::Button,
        vec![
            (Attr::Class, "rsc-code__copy".into()),
            (Attr::Type, "button".into()),
            (Attr::AriaLabel, "Copy code".into()),
            (Attr::Action, "copy-code".into()),
        ],
        vec![Node::Text("Copy".into())],
    ));
    with_class(
        Tag::Div,
        "rsc-code",
        vec![
            with_class(Tag::Div, "rsc-code__bar", bar),
            element(
                Tag::Pre,
                vec![element(Tag::Code, vec![Node::Text(text.to_string())])],
            ),
        ],
    )
}

fn inlines(items: Vec<Inline>) -> Vec<Node> {
    items
        .into_iter()
        .map(|item| match item {
            Inline::Text(text) => Node::Text(text),
            Inline::Emphasis(children) => element(Tag::Em, inlines(children)),
            Inline::Strong(children) => element(Tag::Strong, inlines(children)),
            Inline::Strike(children) => element(Tag::Del, inlines(children)),
            Inline::Code(code) => element(Tag::Code, vec![Node::Text(code)]),
            Inline::Break => element(Tag::Br, Vec::new()),
            Inline::Link {
                href,
                title,
                children,
            } => {
                let mut attrs = vec![(Attr::Href, href)];
                if let Some(title) = title {
                    attrs.push((Attr::Title, title));
                }
                attrs.push((Attr::Target, "_blank".into()));
                attrs.push((Attr::Rel, "noopener noreferrer nofollow".into()));
                with_attrs(Tag::A, attrs, inlines(children))
            }
        })
        .collect()
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
        let node = block(
            &Block::Code {
                lang: "js".into(),
                text: "<b>x</b>".into(),
            },
            &Refs::default(),
        );
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
        let heading = Block::Heading {
            level: 1,
            text: "T".into(),
        };
        assert_eq!(
            block(&heading, &Refs::default()),
            element(Tag::H(1), vec![Node::Text("T".into())])
        );
        assert_eq!(Tag::H(1).name(), "h3");
        assert_eq!(Tag::H(4).name(), "h6");
        assert_eq!(Tag::H(6).name(), "h6");
    }

    #[test]
    fn numbered_lists_keep_their_start_and_tasks_their_state() {
        let list = Block::List {
            start: Some(3),
            tight: true,
            items: vec![Item {
                task: Some(true),
                blocks: vec![Block::Paragraph("x".into())],
            }],
        };
        let checkbox = with_attrs(
            Tag::Input,
            vec![
                (Attr::Type, "checkbox".into()),
                (Attr::Disabled, String::new()),
                (Attr::Checked, String::new()),
            ],
            Vec::new(),
        );
        assert_eq!(
            block(&list, &Refs::default()),
            with_attrs(
                Tag::Ol,
                vec![(Attr::Start, "3".into())],
                vec![with_class(
                    Tag::Li,
                    "rsc-task",
                    vec![element(Tag::Label, vec![checkbox, Node::Text("x".into())])]
                )],
            )
        );
    }
}
