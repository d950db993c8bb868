//! The Markdown half of painting an answer: the parser's [`Stream`] and the
//! DOM it builds. The [`StreamView`](crate::render::StreamView) hands it the
//! answer's text at each paint; the stream says which blocks became
//! final (built into the DOM once), which final blocks a late link
//! definition changed, and what the unfinished tail shows. When the tail
//! just grew at its end (most frames) the new words are appended to its last
//! text node, so the cost per token does not grow with the answer's length,
//! and a frame touches the DOM once.
//!
//! Everything reaches the DOM through `createElement`, `setAttribute` with the
//! allowlisted names of [`crate::markdown::tree`], and text nodes.
//!
//! # In the chunk
//! This module and the parser it calls (`src/markdown/`) are most of the
//! wasm chunk a visitor does not need to open the panel or to send a
//! question ([`crate::chunk`]); [`make`] is the one way in.

use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Node as DomNode, Text};

use crate::markdown::stream::Stream;
use crate::markdown::tree::Node;
use crate::render::Painter;

/// A Markdown painter for a new answer.
pub fn make() -> Box<dyn Painter> {
    Box::new(MarkdownPainter::default())
}

/// Finished blocks go in groups of this many: when the tail grows, the
/// browser lays out the answer's groups and the last group's blocks, not
/// every block of a long answer, so a frame costs the same at any length.
const CHUNK_BLOCKS: usize = 16;

/// Groups go in volumes of this many. Each group is an island of its own for
/// the browser (a paint layer), and some of its work per frame visits every
/// island: the hover hit test after each layout, pre-paint, the layout of
/// the answer's children. A settled volume is one island, so that work
/// meets the groups of the two newest volumes and one island per older
/// volume. In a paced answer of 32k tokens (about 60 groups), that work and
/// the check of which settled groups are in view grew from 0.66 to 1.09 ms
/// a frame by its end, and from 0.59 to 0.80 in volumes of 8 (traces of
/// `bench/browser.mjs --only trace --trace-tokens 32000`).
const VOLUME_CHUNKS: usize = 8;

/// A group (or volume) this many before the newest is settled
/// (`--settled`, `content-visibility: auto`): while it is out of
/// view the browser does not lay it out or paint it. A flooded answer brings
/// a screenful of blocks or more per frame, most of them above the end the
/// reader sees; laying them out was most of its main-thread time (issue
/// #15). The newest groups are never settled: they are at the end, in view
/// of a reader who follows it, and a group the browser has not yet laid out
/// would be measured at its placeholder size where the panel scrolls to it.
const SETTLED_AFTER: usize = 2;

/// One answer's Markdown and the DOM it is painted into.
struct MarkdownPainter {
    stream: Stream,
    /// Finished blocks, in groups (`rsc-chunk`).
    chunks: Groups,
    /// The groups, in volumes (`rsc-volume`), the answer's children.
    volumes: Groups,
    /// Final blocks a later link definition may rebuild, by index.
    may_change: Vec<(usize, DomNode)>,
    /// What the tail's nodes show now.
    tail_trees: Vec<Node>,
    tail_nodes: Vec<DomNode>,
}

impl Painter for MarkdownPainter {
    fn paint(&mut self, text: &str, done: bool, root: &Element) {
        let Some(document) = root.owner_document() else {
            return;
        };
        let update = self.stream.update(text, done);

        if !update.finished.is_empty() {
            self.clear_tail();
            for block in update.finished {
                let node = build(&document, &block.node);
                let _ = self
                    .chunk_for_next_block(root, &document)
                    .append_child(&node);
                if block.may_change {
                    self.may_change.push((block.index, node));
                }
            }
        }
        for (index, tree) in update.rebuilt {
            if let Some((_, node)) = self.may_change.iter_mut().find(|(i, _)| *i == index) {
                let new = build(&document, &tree);
                if let Some(parent) = node.parent_node() {
                    let _ = parent.replace_child(&new, node);
                }
                *node = new;
            }
        }
        let trees = update.tail;
        if trees != self.tail_trees {
            // Most frames only add words to the last text of the tail:
            // append them, instead of building the block again.
            if !self.append_to_tail(&trees) {
                self.clear_tail();
                for tree in &trees {
                    let node = build(&document, tree);
                    let _ = root.append_child(&node);
                    self.tail_nodes.push(node);
                }
            }
            self.tail_trees = trees;
        }
    }
}

impl MarkdownPainter {
    /// The group the next finished block goes into (a new one when full).
    fn chunk_for_next_block(&mut self, root: &Element, document: &Document) -> Element {
        let (chunk, new) = self.chunks.next(document);
        if new {
            let (volume, new) = self.volumes.next(document);
            if new {
                let _ = root.append_child(&volume);
            }
            let _ = volume.append_child(&chunk);
        }
        chunk
    }

    fn clear_tail(&mut self) {
        for node in self.tail_nodes.drain(..) {
            if let Some(parent) = node.parent_node() {
                let _ = parent.remove_child(&node);
            }
        }
        self.tail_trees.clear();
    }

    /// When `trees` is the tail shown now with more text at its very end,
    /// appends that text to the last text node and says so.
    fn append_to_tail(&mut self, trees: &[Node]) -> bool {
        let old = &self.tail_trees;
        let same_shape = !trees.is_empty()
            && trees.len() == old.len()
            && trees[..trees.len() - 1] == old[..old.len() - 1];
        if !same_shape {
            return false;
        }
        let (Some(added), Some(node)) = (
            appended(&old[old.len() - 1], &trees[trees.len() - 1]),
            self.tail_nodes.last(),
        ) else {
            return false;
        };
        match last_text(node) {
            Some(text) => {
                let _ = text.append_data(added);
                true
            }
            None => false,
        }
    }
}

impl Default for MarkdownPainter {
    fn default() -> Self {
        MarkdownPainter {
            stream: Stream::default(),
            chunks: Groups::new(CHUNK_BLOCKS, "rsc-chunk", "rsc-chunk rsc-chunk--settled"),
            volumes: Groups::new(
                VOLUME_CHUNKS,
                "rsc-volume",
                "rsc-volume rsc-volume--settled",
            ),
            may_change: Vec::new(),
            tail_trees: Vec::new(),
            tail_nodes: Vec::new(),
        }
    }
}

/// Children of one kind in groups of `size`, each group a `div` of `class`;
/// a group [`SETTLED_AFTER`] groups before the open one becomes `settled`.
struct Groups {
    size: usize,
    class: &'static str,
    settled: &'static str,
    /// The group the next child goes into, and how many it holds.
    open: Option<(Element, usize)>,
    /// The full groups that are not settled yet, oldest first.
    unsettled: Vec<Element>,
}

impl Groups {
    fn new(size: usize, class: &'static str, settled: &'static str) -> Self {
        Groups {
            size,
            class,
            settled,
            open: None,
            unsettled: Vec::new(),
        }
    }

    /// The group the next child goes into, counting it, and whether that
    /// group is new (for the caller to place).
    fn next(&mut self, document: &Document) -> (Element, bool) {
        if let Some((group, count)) = &mut self.open
            && *count < self.size
        {
            *count += 1;
            return (group.clone(), false);
        }
        let group = document.create_element("div").expect("div is a tag");
        group.set_class_name(self.class);
        if let Some((full, _)) = self.open.replace((group.clone(), 1)) {
            self.unsettled.push(full);
        }
        if self.unsettled.len() >= SETTLED_AFTER {
            self.unsettled.remove(0).set_class_name(self.settled);
        }
        (group, true)
    }
}

/// If `new` is `old` with more text at the end of its last text node (and
/// nothing else changed), that text.
pub fn appended<'a>(old: &Node, new: &'a Node) -> Option<&'a str> {
    match (old, new) {
        (Node::Text(old), Node::Text(new)) => new
            .strip_prefix(old.as_str())
            .filter(|added| !added.is_empty()),
        (
            Node::Element {
                tag,
                attrs,
                children,
            },
            Node::Element {
                tag: new_tag,
                attrs: new_attrs,
                children: new_children,
            },
        ) if tag == new_tag
            && attrs == new_attrs
            && !children.is_empty()
            && children.len() == new_children.len()
            && children[..children.len() - 1] == new_children[..children.len() - 1] =>
        {
            appended(children.last()?, new_children.last()?)
        }
        _ => None,
    }
}

/// The last text node of a node, down its last children.
fn last_text(node: &DomNode) -> Option<Text> {
    let mut node = node.clone();
    loop {
        if let Some(text) = node.dyn_ref::<Text>() {
            return Some(text.clone());
        }
        node = node.last_child()?;
    }
}

/// Builds the DOM of an element tree.
pub fn build(document: &Document, node: &Node) -> DomNode {
    match node {
        Node::Text(text) => document.create_text_node(text).into(),
        Node::Element {
            tag,
            attrs,
            children,
        } => {
            let element = document
                .create_element(tag.name())
                .expect("an allowlisted tag name is valid");
            for (attr, value) in attrs {
                let _ = element.set_attribute(attr.name(), value);
            }
            for child in children {
                let _ = element.append_child(&build(document, child));
            }
            element.into()
        }
    }
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    use crate::markdown::{self, tree};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn tree(text: &str) -> Node {
        let parsed = markdown::parse(text, false);
        tree::Builder::new(&parsed.refs).block(&parsed.blocks[0], true)
    }

    #[test]
    fn more_words_at_the_end_are_an_append() {
        assert_eq!(
            appended(&tree("Hello wor"), &tree("Hello world, and")),
            Some("ld, and")
        );
        assert_eq!(
            appended(&tree("Some **bold te"), &tree("Some **bold text")),
            Some("xt")
        );
        assert_eq!(
            appended(&tree("```rust\nfn main"), &tree("```rust\nfn main() {}\n")),
            Some("() {}\n")
        );
    }

    /// Paints `text` as a stream would, in pieces of `step` bytes (on
    /// char boundaries), into a new element; returns it.
    #[cfg(target_arch = "wasm32")]
    fn streamed(text: &str, step: usize) -> Element {
        let document = web_sys::window().unwrap().document().unwrap();
        let root = document.create_element("div").unwrap();
        let mut painter = make();
        let mut end = 0;
        while end < text.len() {
            end = (end + step).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            painter.paint(&text[..end], false, &root);
        }
        painter.paint(text, true, &root);
        root
    }

    #[cfg(target_arch = "wasm32")]
    #[test]
    fn a_streamed_answer_ends_as_the_whole_text_painted_at_once() {
        let text = "Intro with **bold** and `code`.\n\nA second paragraph, \
                    longer, that arrives in many pieces.\n\n- one\n- two\n\n\
                    ```rust\nfn main() {}\n```\n\nSee [docs] here.\n\n\
                    [docs]: https://example.com/docs\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let whole = streamed(text, text.len());
        for step in [1, 2, 3, 7, 16] {
            let pieces = streamed(text, step);
            assert!(pieces.is_equal_node(Some(&whole)), "in pieces of {step}");
        }
        // Many paragraphs: groups and volumes, settled ones included.
        let long: String = (0..600)
            .map(|i| format!("Paragraph {i} of words.\n\n"))
            .collect();
        let whole = streamed(&long, long.len());
        assert!(streamed(&long, 61).is_equal_node(Some(&whole)));
        let settled = |class| whole.query_selector(class).unwrap().is_some();
        assert!(settled(".rsc-chunk--settled") && settled(".rsc-volume--settled"));
    }

    #[test]
    fn anything_else_is_built_again() {
        // New formatting after the text: the shape changed.
        assert_eq!(appended(&tree("*a*"), &tree("*a* b **c")), None);
        // A link appeared, a line broke, nothing changed.
        assert_eq!(
            appended(&tree("see [docs"), &tree("see [docs](https://a.b)")),
            None
        );
        assert_eq!(appended(&tree("one"), &tree("one\ntwo")), None);
        assert_eq!(appended(&tree("same"), &tree("same")), None);
    }
}
