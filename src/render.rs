//! Painting an answer as it streams: deltas are appended to a buffer as they
//! arrive, and painted at most once per animation frame. Finished Markdown
//! blocks are built into the DOM once; only the unfinished tail is re-parsed
//! and rebuilt (an open code block just grows its text node), so the cost per
//! token does not grow with the answer's length.
//!
//! Everything reaches the DOM through `createElement`, `setAttribute` with the
//! allowlisted names of [`crate::markdown::tree`], and text nodes.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Document, Element, Node as DomNode, Text};

use crate::markdown::tree::{self, Node};
use crate::markdown::{self, Block};

/// The text of one answer and the DOM it is painted into.
#[derive(Clone, Default)]
pub struct StreamView {
    inner: Rc<RefCell<Inner>>,
}

impl std::fmt::Debug for StreamView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("StreamView")
            .field("len", &inner.text.len())
            .field("painted_to", &inner.committed_end)
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    text: String,
    /// The stream ended: every block is finished.
    done: bool,
    root: Option<Element>,
    /// The text before this offset is built into the DOM for good.
    committed_end: usize,
    /// What the tail's nodes show now.
    tail_blocks: Vec<Block>,
    tail_nodes: Vec<DomNode>,
    /// The text node of an open code block at the end of the tail, which
    /// grows by appending while it stays open.
    open_code: Option<Text>,
    /// Called after each paint (to keep the transcript scrolled).
    after_paint: Option<Rc<dyn Fn()>>,
    frame: Option<Closure<dyn FnMut()>>,
    scheduled: bool,
}

impl StreamView {
    /// A view of an answer that is already complete (a restored transcript).
    pub fn finished(text: String) -> Self {
        let view = StreamView::default();
        {
            let mut inner = view.inner.borrow_mut();
            inner.text = text;
            inner.done = true;
        }
        view
    }

    /// Appends a delta; it is painted on the next animation frame.
    pub fn push(&self, delta: &str) {
        self.inner.borrow_mut().text.push_str(delta);
        self.schedule();
    }

    /// The stream ended: paint everything, now.
    pub fn finish(&self) {
        self.inner.borrow_mut().done = true;
        self.paint();
    }

    fn schedule(&self) {
        let mut inner = self.inner.borrow_mut();
        if inner.root.is_none() || inner.scheduled {
            return;
        }
        inner.scheduled = true;
        let frame = inner.frame.get_or_insert_with(|| {
            let weak = Rc::downgrade(&self.inner);
            Closure::new(move || {
                if let Some(inner) = weak.upgrade() {
                    StreamView { inner }.paint();
                }
            })
        });
        let requested = web_sys::window().and_then(|w| {
            w.request_animation_frame(frame.as_ref().unchecked_ref())
                .ok()
        });
        if requested.is_none() {
            inner.scheduled = false;
        }
    }

    /// Paints into `root` from now on (everything so far at once).
    pub fn attach(&self, root: &Element, after_paint: Rc<dyn Fn()>) {
        {
            let mut inner = self.inner.borrow_mut();
            inner.root = Some(root.clone());
            inner.after_paint = Some(after_paint);
        }
        self.paint();
    }

    /// Paints what arrived since the last paint.
    pub fn paint(&self) {
        let after_paint = {
            let mut guard = self.inner.borrow_mut();
            let inner = &mut *guard;
            inner.scheduled = false;
            let Some(root) = inner.root.clone() else {
                return;
            };
            let Some(document) = root.owner_document() else {
                return;
            };
            let parsed = markdown::parse(&inner.text[inner.committed_end..], inner.done);

            if parsed.finished > 0 {
                inner.clear_tail();
                for block in &parsed.blocks[..parsed.finished] {
                    let _ = root.append_child(&build(&document, &tree::block(block)));
                }
                inner.committed_end += parsed.finished_end;
            }
            let tail = &parsed.blocks[parsed.finished..];
            if tail != inner.tail_blocks.as_slice() {
                if !inner.grow_open_code(tail) {
                    inner.clear_tail();
                    for block in tail {
                        let node = build(&document, &tree::block(block));
                        let _ = root.append_child(&node);
                        inner.tail_nodes.push(node);
                    }
                    inner.open_code = match tail.last() {
                        Some(Block::Code { .. }) => last_code_text(inner.tail_nodes.last()),
                        _ => None,
                    };
                }
                inner.tail_blocks = tail.to_vec();
            }
            inner.after_paint.clone()
        };
        if let Some(after_paint) = after_paint {
            after_paint();
        }
    }

    /// The whole text so far.
    pub fn text(&self) -> String {
        self.inner.borrow().text.clone()
    }

    /// Whether any text has arrived.
    pub fn is_empty(&self) -> bool {
        self.inner.borrow().text.is_empty()
    }
}

impl Inner {
    fn clear_tail(&mut self) {
        for node in self.tail_nodes.drain(..) {
            if let Some(parent) = node.parent_node() {
                let _ = parent.remove_child(&node);
            }
        }
        self.tail_blocks.clear();
        self.open_code = None;
    }

    /// When only the open code block at the end grew, append the new text to
    /// its text node instead of rebuilding it.
    fn grow_open_code(&mut self, tail: &[Block]) -> bool {
        let (
            Some(node),
            Some(Block::Code { lang, text }),
            Some(Block::Code {
                lang: old_lang,
                text: old,
            }),
        ) = (&self.open_code, tail.last(), self.tail_blocks.last())
        else {
            return false;
        };
        let same_prefix = tail.len() == self.tail_blocks.len()
            && tail[..tail.len() - 1] == self.tail_blocks[..tail.len() - 1]
            && lang == old_lang
            && text.starts_with(old.as_str());
        if same_prefix {
            let _ = node.append_data(&text[old.len()..]);
        }
        same_prefix
    }
}

/// The text node inside the `<code>` of a code block's frame.
fn last_code_text(frame: Option<&DomNode>) -> Option<Text> {
    let frame: &Element = frame?.dyn_ref()?;
    let code = frame.query_selector("pre > code").ok()??;
    match code.first_child() {
        Some(text) => text.dyn_into().ok(),
        None => {
            let text = code.owner_document()?.create_text_node("");
            code.append_child(&text).ok()?;
            Some(text)
        }
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
