//! Painting a streaming answer: deltas are appended to a buffer as they
//! arrive and painted at most once per animation frame, appending only the
//! new text, so the cost per token does not grow with the answer's length.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Element, Text};

/// The text of one answer, and the DOM node it is painted into.
#[derive(Clone, Default)]
pub struct StreamView {
    inner: Rc<RefCell<Inner>>,
}

impl std::fmt::Debug for StreamView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("StreamView")
            .field("len", &inner.text.len())
            .field("painted", &inner.painted)
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    text: String,
    painted: usize,
    node: Option<Text>,
    /// Called after each paint (to keep the transcript scrolled).
    after_paint: Option<Rc<dyn Fn()>>,
    frame: Option<Closure<dyn FnMut()>>,
    scheduled: bool,
}

impl StreamView {
    /// Appends a delta; it is painted on the next animation frame.
    pub fn push(&self, delta: &str) {
        let mut inner = self.inner.borrow_mut();
        inner.text.push_str(delta);
        if inner.node.is_some() && !inner.scheduled {
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
    }

    /// Paints into `element` from now on (everything so far at once).
    pub fn attach(&self, element: &Element, after_paint: Rc<dyn Fn()>) {
        let node = Text::new().expect("a text node");
        let _ = element.append_child(&node);
        {
            let mut inner = self.inner.borrow_mut();
            inner.node = Some(node);
            inner.painted = 0;
            inner.after_paint = Some(after_paint);
        }
        self.paint();
    }

    /// Paints what arrived since the last paint.
    pub fn paint(&self) {
        let after_paint = {
            let mut inner = self.inner.borrow_mut();
            inner.scheduled = false;
            let Some(node) = &inner.node else { return };
            if inner.painted == inner.text.len() {
                return;
            }
            let _ = node.append_data(&inner.text[inner.painted..]);
            inner.painted = inner.text.len();
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
}
