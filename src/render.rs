//! Painting an answer as it streams: deltas are appended to a buffer as they
//! arrive, and painted at most once per animation frame. The Markdown
//! [`Stream`] says which blocks became final (built into the DOM once), which
//! final blocks a late link definition changed, and what the unfinished tail
//! shows; when the tail just grew at its end (most frames) the new words are
//! appended to its last text node, so the cost per token does not grow with
//! the answer's length, and a frame touches the DOM once.
//!
//! Everything reaches the DOM through `createElement`, `setAttribute` with the
//! allowlisted names of [`crate::markdown::tree`], and text nodes.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Document, Element, Node as DomNode, Text};

use crate::markdown::stream::Stream;
use crate::markdown::tree::Node;

/// What runs before a paint; see [`StreamView::attach`].
pub type PaintHook = Rc<dyn Fn() -> Option<Element>>;

/// The text of one answer and the DOM it is painted into.
#[derive(Clone, Default)]
pub struct StreamView {
    inner: Rc<RefCell<Inner>>,
}

impl std::fmt::Debug for StreamView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("StreamView")
            .field("len", &inner.stream.text().len())
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    stream: Stream,
    root: Option<Element>,
    /// The group finished blocks go into, and how many it holds.
    chunk: Option<(Element, usize)>,
    /// Final blocks a later link definition may rebuild, by index.
    may_change: Vec<(usize, DomNode)>,
    /// What the tail's nodes show now.
    tail_trees: Vec<Node>,
    tail_nodes: Vec<DomNode>,
    /// Called before each paint that adds text, while the layout is still
    /// clean (the transcript checks whether the reader is at the bottom); it
    /// may return an element to scroll to its end once the text is in.
    before_paint: Option<PaintHook>,
    frame: Option<Closure<dyn FnMut()>>,
    /// Asks for the frame once the paint interval has passed.
    delay: Option<Closure<dyn FnMut()>>,
    scheduled: bool,
    /// When the scheduled paint's timer fires (`Date.now()`, ms); 0 when it
    /// waits only for the next frame.
    due: f64,
    /// When the last paint ran (`Date.now()`, ms).
    painted_at: f64,
}

/// While tokens arrive faster than this, paints are this far apart: the
/// browser's work per frame (style, layout, paint, hit-testing, compositing)
/// then runs about 30 times a second instead of 60, and new text is still on
/// screen within 50 ms. A token after a pause, the first one and the last one
/// (`finish`) are painted in the next frame.
const PAINT_INTERVAL_MS: f64 = 32.0;

impl StreamView {
    /// A view of an answer that is already complete (a restored transcript).
    pub fn finished(text: String) -> Self {
        let view = StreamView::default();
        view.inner.borrow_mut().stream = Stream::finished(text);
        view
    }

    /// Appends a delta; it is painted on the next animation frame.
    pub fn push(&self, delta: &str) {
        self.inner.borrow_mut().stream.push(delta);
        self.schedule();
    }

    /// The stream ended: paint everything, now.
    pub fn finish(&self) {
        self.inner.borrow_mut().stream.finish();
        self.paint();
    }

    fn schedule(&self) {
        let mut inner = self.inner.borrow_mut();
        if inner.root.is_none() || inner.scheduled {
            return;
        }
        inner.scheduled = true;
        let now = js_sys::Date::now();
        let wait = PAINT_INTERVAL_MS - (now - inner.painted_at);
        inner.due = if wait > 1.0 { now + wait } else { 0.0 };
        let requested = if wait > 1.0 {
            let delay = inner.delay.get_or_insert_with(|| {
                let weak = Rc::downgrade(&self.inner);
                Closure::new(move || {
                    if let Some(inner) = weak.upgrade() {
                        StreamView { inner }.request_frame();
                    }
                })
            });
            web_sys::window().and_then(|w| {
                w.set_timeout_with_callback_and_timeout_and_arguments_0(
                    delay.as_ref().unchecked_ref(),
                    wait as i32,
                )
                .ok()
                .map(drop)
            })
        } else {
            drop(inner);
            self.request_frame()
        };
        if requested.is_none() {
            self.inner.borrow_mut().scheduled = false;
        }
    }

    /// Until when the text that arrives now would wait anyway: the time of
    /// the scheduled paint's timer, or 0 (it would show in the next frame).
    /// The reader of the stream hands over bytes no earlier (see
    /// `js/stream-batches.js`).
    pub fn paint_due(&self) -> f64 {
        let inner = self.inner.borrow();
        if inner.scheduled { inner.due } else { 0.0 }
    }

    /// Paints in the next animation frame.
    fn request_frame(&self) -> Option<()> {
        let mut inner = self.inner.borrow_mut();
        inner.due = 0.0;
        let frame = inner.frame.get_or_insert_with(|| {
            let weak = Rc::downgrade(&self.inner);
            Closure::new(move || {
                if let Some(inner) = weak.upgrade() {
                    StreamView { inner }.paint();
                }
            })
        });
        web_sys::window().and_then(|w| {
            w.request_animation_frame(frame.as_ref().unchecked_ref())
                .ok()
                .map(drop)
        })
    }

    /// Paints into `root` from now on (everything so far at once).
    pub fn attach(&self, root: &Element, before_paint: PaintHook) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.root = Some(root.clone());
            inner.before_paint = Some(before_paint);
        }
        self.paint();
    }

    /// Paints what arrived since the last paint.
    pub fn paint(&self) {
        let before_paint = {
            let mut inner = self.inner.borrow_mut();
            inner.scheduled = false;
            inner.painted_at = js_sys::Date::now();
            inner.before_paint.clone()
        };
        // Outside the borrow: the hook reads the layout, never this view.
        let scroll_to_end = before_paint.and_then(|hook| hook());
        {
            let mut guard = self.inner.borrow_mut();
            let inner = &mut *guard;
            let Some(root) = inner.root.clone() else {
                return;
            };
            let Some(document) = root.owner_document() else {
                return;
            };
            let update = inner.stream.update();

            if !update.finished.is_empty() {
                inner.clear_tail();
                for block in update.finished {
                    let node = build(&document, &block.node);
                    let _ = inner
                        .chunk_for_next_block(&root, &document)
                        .append_child(&node);
                    if block.may_change {
                        inner.may_change.push((block.index, node));
                    }
                }
            }
            for (index, tree) in update.rebuilt {
                if let Some((_, node)) = inner.may_change.iter_mut().find(|(i, _)| *i == index) {
                    let new = build(&document, &tree);
                    if let Some(parent) = node.parent_node() {
                        let _ = parent.replace_child(&new, node);
                    }
                    *node = new;
                }
            }
            let trees = update.tail;
            if trees != inner.tail_trees {
                // Most frames only add words to the last text of the tail:
                // append them, instead of building the block again.
                if !inner.append_to_tail(&trees) {
                    inner.clear_tail();
                    for tree in &trees {
                        let node = build(&document, tree);
                        let _ = root.append_child(&node);
                        inner.tail_nodes.push(node);
                    }
                }
                inner.tail_trees = trees;
            }
        }
        if let Some(element) = scroll_to_end {
            element.set_scroll_top(i32::MAX);
        }
    }

    /// The whole text so far.
    pub fn text(&self) -> String {
        self.inner.borrow().stream.text().to_string()
    }

    /// Whether any text has arrived.
    pub fn is_empty(&self) -> bool {
        self.inner.borrow().stream.text().is_empty()
    }
}

/// Finished blocks go in groups of this many: when the tail grows, the
/// browser lays out the answer's groups and the last group's blocks, not
/// every block of a long answer, so a frame costs the same at any length.
const CHUNK_BLOCKS: usize = 16;

impl Inner {
    /// The group the next finished block goes into (a new one when full).
    fn chunk_for_next_block(&mut self, root: &Element, document: &Document) -> Element {
        match &mut self.chunk {
            Some((chunk, count)) if *count < CHUNK_BLOCKS => {
                *count += 1;
                chunk.clone()
            }
            _ => {
                let chunk = document.create_element("div").expect("div is a tag");
                chunk.set_class_name("rsc-chunk");
                let _ = root.append_child(&chunk);
                self.chunk = Some((chunk.clone(), 1));
                chunk
            }
        }
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
