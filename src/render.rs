//! Painting an answer as it streams: deltas are appended to the answer's
//! text as they arrive, and painted at most once per animation frame (about
//! 30 times a second while tokens arrive faster). What a paint does with the
//! new text is the [`Painter`]'s business: the Markdown one
//! ([`crate::painter`]) lives in a wasm chunk of its own, loaded when the
//! panel opens ([`crate::chunk`]); an answer that needs painting before it has
//! arrived waits for it (the first token of the first answer rarely does),
//! and if it cannot be loaded the answer is painted as plain text rather
//! than not at all.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Element, Text};

use crate::api::AnswerSink;

/// What turns an answer's text into DOM under its root.
pub trait Painter {
    /// Brings the DOM under `root` up to date with `text`, the answer so far
    /// (it only ever grows); `done` says it is complete.
    fn paint(&mut self, text: &str, done: bool, root: &Element);
}

/// How to make a painter for a new answer.
pub type MakePainter = fn() -> Box<dyn Painter>;

/// What runs before an answer's paint (or another change to the log's
/// content, such as a message's footer), and what it leaves to run once the
/// change is in; see [`StreamView::attach`].
pub type PaintHook = Rc<dyn Fn() -> Option<AfterPaint>>;

/// What runs once a change to the log's content is in (it may read the new
/// layout).
pub type AfterPaint = Box<dyn FnOnce()>;

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
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    text: String,
    /// The answer is complete.
    done: bool,
    painter: Option<Box<dyn Painter>>,
    /// When the view first wanted the Markdown painter, which was not
    /// loaded (`Date.now()`, ms; see [`crate::chunk`]); 0 once it has it.
    waiting_since: f64,
    root: Option<Element>,
    /// Called before each paint that adds text (the panel checks whether
    /// the reader is at the end); it may return what to run once the text
    /// is in (see [`PaintHook`]).
    before_paint: Option<PaintHook>,
    frame: Option<Closure<dyn FnMut()>>,
    /// Asks for the frame once the paint interval has passed.
    delay: Option<Closure<dyn FnMut()>>,
    scheduled: bool,
    /// When the scheduled paint's timer fires (`Date.now()`, ms); 0 when it
    /// waits only for the next frame.
    due: f64,
    /// Asks the reader of the stream for the next batch once the scheduled
    /// paint has run (see [`AnswerSink::ask_next`]).
    after_paint: Option<js_sys::Function>,
    /// When the last paint ran (`Date.now()`, ms).
    painted_at: f64,
}

/// While tokens arrive faster than frames, a paint waits for the first
/// frame at least this long after the one before: at 60 Hz every second
/// frame, 33 ms apart. The browser's work per frame (style, layout, paint,
/// hit-testing, compositing) then runs 30 times a second instead of 60, and
/// new text is still on screen within 50 ms. The timer that asks for that
/// frame fires 8 ms before it at 60 Hz, so a timer a little late still finds
/// it. A token after a pause, the first one and the last one (`finish`) are
/// painted in the next frame.
const PAINT_GAP_MS: f64 = 25.0;

/// The text read after a paint is handed over this long after it (see
/// [`AnswerSink::ask_next`]), and painted in the first frame after that: at
/// 60 Hz, 120 Hz or 144 Hz the frame about 33 ms after the last paint, with
/// the text in a few ms before it. So a token is on screen at most about
/// 40 ms after it arrives, and the page gets one batch per paint.
const BATCH_AFTER_PAINT_MS: f64 = 28.0;

/// The text read while a paint's timer is pending is handed over this long
/// before it fires.
const BATCH_LEAD_MS: f64 = 2.0;

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
        let now = js_sys::Date::now();
        let wait = PAINT_GAP_MS - (now - inner.painted_at);
        inner.due = if wait > 1.0 { now + wait } else { 0.0 };
        let requested = if wait > 1.0 {
            drop(inner);
            self.frame_after(wait)
        } else {
            drop(inner);
            self.request_frame()
        };
        if requested.is_none() {
            self.inner.borrow_mut().scheduled = false;
        }
    }

    /// A callback for the browser that runs `run` on this view while it lives.
    fn callback(&self, run: fn(&StreamView)) -> Closure<dyn FnMut()> {
        let weak = Rc::downgrade(&self.inner);
        Closure::new(move || {
            if let Some(inner) = weak.upgrade() {
                run(&StreamView { inner });
            }
        })
    }

    /// Asks for a paint in the first frame after `ms` milliseconds.
    fn frame_after(&self, ms: f64) -> Option<()> {
        let mut inner = self.inner.borrow_mut();
        let delay = inner.delay.get_or_insert_with(|| {
            self.callback(|view| {
                view.request_frame();
            })
        });
        web_sys::window().and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_0(
                delay.as_ref().unchecked_ref(),
                ms as i32,
            )
            .ok()
            .map(drop)
        })
    }

    /// Paints in the next animation frame.
    fn request_frame(&self) -> Option<()> {
        let mut inner = self.inner.borrow_mut();
        inner.due = 0.0;
        let frame = inner
            .frame
            .get_or_insert_with(|| self.callback(StreamView::paint));
        web_sys::window().and_then(|w| {
            w.request_animation_frame(frame.as_ref().unchecked_ref())
                .ok()
                .map(drop)
        })
    }

    /// Paints into `root` from now on (everything so far at once).
    pub fn attach(&self, root: &Element, before_paint: PaintHook) {
        let nothing_yet = {
            let mut inner = self.inner.borrow_mut();
            inner.root = Some(root.clone());
            inner.before_paint = Some(before_paint);
            inner.text.is_empty() && !inner.done
        };
        // A new answer has no text yet: its first words are painted in the
        // frame after they arrive. Painting it now would only read the layout
        // (the scroll check) in the middle of the task that added it.
        if !nothing_yet {
            self.paint();
        }
    }

    /// Paints what arrived since the last paint.
    pub fn paint(&self) {
        let before_paint = {
            let mut inner = self.inner.borrow_mut();
            inner.scheduled = false;
            if inner.root.is_none() {
                inner.painted(None);
                return;
            }
            if inner.painter.is_none()
                && let Err(first_wait) = inner.choose_painter(&self.inner)
            {
                inner.painted(None);
                drop(inner);
                if let Some(ms) = first_wait {
                    self.frame_after(ms);
                }
                return;
            }
            inner.painted(Some(js_sys::Date::now()));
            inner.before_paint.clone()
        };
        // Outside the borrow: the hook reads the layout, never this view.
        let after = before_paint.and_then(|hook| hook());
        {
            let mut guard = self.inner.borrow_mut();
            let inner = &mut *guard;
            if let (Some(root), Some(painter)) = (&inner.root, &mut inner.painter) {
                painter.paint(&inner.text, inner.done, root);
            }
        }
        if let Some(after) = after {
            after();
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

impl AnswerSink for StreamView {
    fn push(&self, delta: &str) {
        StreamView::push(self, delta);
    }

    /// Text that arrives while a paint is scheduled waits for that paint's
    /// timer (it shows no later for it). Once the paint's timer has fired,
    /// its text is in and the paint is in the next frame: what arrives from
    /// then on waits for the paint after it, so the answer comes to the page
    /// in about one batch per paint, not one per read. When that is depends
    /// on when this paint runs, so then the paint asks.
    fn ask_next(&self, ask: &js_sys::Function) {
        let at = {
            let mut inner = self.inner.borrow_mut();
            let now = js_sys::Date::now();
            if !inner.scheduled {
                inner.next_batch_at(now)
            } else if inner.due - BATCH_LEAD_MS > now {
                inner.due - BATCH_LEAD_MS
            } else {
                inner.after_paint = Some(ask.clone());
                return;
            }
        };
        ask_at(ask, at);
    }
}

/// Asks the reader of the stream (`ask`, see [`AnswerSink::ask_next`]) for
/// what it reads from now on, no earlier than `at`.
fn ask_at(ask: &js_sys::Function, at: f64) {
    let _ = ask.call1(&wasm_bindgen::JsValue::NULL, &at.into());
}

/// How long an answer waits for the Markdown painter before it is painted
/// as plain text (then again as Markdown once the painter is in). It is
/// fetched when the panel opens, so only a slow or failing network makes an
/// answer wait at all.
const MARKDOWN_WAIT_MS: f64 = 1500.0;

impl Inner {
    /// When the text that arrives at `now` should be handed over:
    /// [`BATCH_AFTER_PAINT_MS`] after the last paint, or at once if that has
    /// passed.
    fn next_batch_at(&self, now: f64) -> f64 {
        let at = self.painted_at + BATCH_AFTER_PAINT_MS;
        if at > now { at } else { 0.0 }
    }

    /// A paint ran at `now` (`None`: it could not, and was put off): the
    /// reader that waited for it may hand over text again.
    fn painted(&mut self, now: Option<f64>) {
        if let Some(now) = now {
            self.painted_at = now;
        }
        if let Some(ask) = self.after_paint.take() {
            ask_at(&ask, self.next_batch_at(js_sys::Date::now()));
        }
    }

    /// Gives the view its painter: Markdown when it is loaded, plain text
    /// when its chunk failed or has not come within [`MARKDOWN_WAIT_MS`] of
    /// the view's first paint. Otherwise the view waits: the first time, this
    /// says how long, to try again then (it is painted as soon as the painter
    /// is in anyway).
    fn choose_painter(&mut self, this: &Rc<RefCell<Inner>>) -> Result<(), Option<f64>> {
        if let Some(chunk) = crate::chunk::get() {
            self.painter = Some((chunk.painter)());
            return Ok(());
        }
        let now = js_sys::Date::now();
        let first = self.waiting_since == 0.0;
        if first {
            // Once per view: each new answer tries a failed chunk again.
            self.waiting_since = now;
            WAITING.with_borrow_mut(|views| views.push(Rc::downgrade(this)));
            crate::chunk::prefetch(None);
        }
        if crate::chunk::failed() || now - self.waiting_since >= MARKDOWN_WAIT_MS {
            self.painter = Some(Box::new(PlainPainter::default()));
            return Ok(());
        }
        Err(first.then_some(MARKDOWN_WAIT_MS))
    }

    /// Paints the view again with the Markdown painter, from its first word,
    /// if it has none yet or the plain one.
    fn repaint_as_markdown(&mut self, make: MakePainter) {
        if self.painter.is_some()
            && let Some(root) = &self.root
        {
            root.set_text_content(None);
        }
        self.painter = Some(make());
        self.waiting_since = 0.0;
    }
}

thread_local! {
    /// Views that asked to paint before the painter was loaded.
    static WAITING: RefCell<Vec<Weak<RefCell<Inner>>>> = const { RefCell::new(Vec::new()) };
}

/// The chunk with the Markdown painter loaded or failed to load
/// ([`crate::chunk::prefetch`]): loaded, the views that waited, or were
/// painted as plain text, are painted as Markdown; failed, the views that
/// waited are painted as plain text now, and kept for a later load.
pub fn chunk_settled() {
    let make = crate::chunk::get().map(|chunk| chunk.painter);
    let views: Vec<_> = match make {
        Some(_) => WAITING.take(),
        None => WAITING.with_borrow(Clone::clone),
    };
    for view in views {
        if let Some(inner) = view.upgrade() {
            if let Some(make) = make {
                inner.borrow_mut().repaint_as_markdown(make);
            }
            StreamView { inner }.paint();
        }
    }
}

/// Paints an answer as the text it is, line breaks kept: only when the
/// Markdown painter could not be had.
#[derive(Default)]
struct PlainPainter {
    /// The text node, and how much of the answer it shows.
    shown: Option<(Text, usize)>,
}

impl Painter for PlainPainter {
    fn paint(&mut self, text: &str, _done: bool, root: &Element) {
        if let Some((node, shown)) = &mut self.shown {
            let _ = node.append_data(&text[*shown..]);
            *shown = text.len();
            return;
        }
        let Some(document) = root.owner_document() else {
            return;
        };
        let Ok(paragraph) = document.create_element("p") else {
            return;
        };
        paragraph.set_class_name("rsc-plain");
        let node = document.create_text_node(text);
        let _ = paragraph.append_child(&node);
        let _ = root.append_child(&paragraph);
        self.shown = Some((node, text.len()));
    }
}
