//! The panel: a non-modal dialog with a header, the transcript's log and the
//! composer. Its structure is a static Leptos view; once it is mounted, one
//! effect keeps the rest in step with [`Chat`]'s signals: the transcript
//! inside the log (by [`crate::transcript`]) and what the panel shows
//! (open, banner, notice, Send/Stop), writing only what changed. One listener
//! takes every event of the panel and calls [`Chat`]'s methods, nothing more.
//!
//! Why so few Leptos views: each reactive attribute, `on:` handler or effect
//! adds its own copy of Leptos' generic code to the wasm, and the widget must
//! be light (see `BENCHMARKS.md`).

use std::cell::Cell;
use std::rc::Rc;

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::Element;

use crate::browser;
use crate::chat::Chat;
use crate::chunk;
use crate::render::{AfterPaint, PaintHook};
use crate::transcript::{Action, Transcript, target_element};

/// The transcript's scrolling. The log is laid out from its end
/// (`flex-direction: column-reverse`, see widget.css): its scroll origin,
/// `scrollTop` 0, is the end, and further up is negative. So a reader at the
/// end stays there as text arrives, in every engine, with no script and no
/// scrolling at all (a scroll would cost a frame of its own for its event).
/// A reader who scrolled up is kept where they are while the text grows
/// below them: by the browser's scroll anchoring, or where there is none
/// (WebKit) by the widget, and "Jump to latest" appears.
///
/// Where the reader is, is noted at each scroll event. A reader noted at the
/// end is still there until they scroll (a change of the log's content does
/// not move its origin), so then nothing reads the layout: a read in the
/// middle of a change lays out the panel there and then, and again in the
/// frame (measured: about a quarter of the main thread's time in the task
/// that sends a question and in the one that ends a flooded answer).
#[derive(Debug, Clone)]
struct Scroll {
    chat: Chat,
    log: Element,
    /// The reader is at the end, or was until text went in below them: they
    /// have not scrolled up since.
    following: Rc<Cell<bool>>,
    /// The log's `scrollTop` when last noted (a scroll event, a paint, a
    /// jump to the end).
    last_top: Rc<Cell<i32>>,
}

/// How close to the log's end (px) a reader still counts as at the end.
const AT_END_PX: i32 = 24;

impl Scroll {
    /// What to run before an answer paints new text (or a footer changes),
    /// and after: a reader near the end (not at it) is taken to it; one who
    /// scrolled up is kept in place where the browser's anchoring did not.
    /// A reader at the end costs no read of the layout.
    fn before_paint(&self) -> PaintHook {
        let scroll = self.clone();
        Rc::new(move || {
            let below = scroll.below();
            if scroll.following.get() {
                return (below != 0).then(|| {
                    let scroll = scroll.clone();
                    Box::new(move || scroll.end()) as AfterPaint
                });
            }
            // Not following: away from the end, so there is unseen text.
            // `try_`: a frame may come after destroy() freed the state.
            if scroll
                .chat
                .state
                .try_read_untracked()
                .is_some_and(|s| !s.unseen)
            {
                scroll.chat.show(|s| s.unseen = true);
            }
            let height = scroll.log.scroll_height();
            let log = scroll.log.clone();
            Some(Box::new(move || {
                // Anchoring moves `scrollTop` by what went in (or out) below;
                // where it did not, that moved the reader's view: undo it.
                let grew = log.scroll_height() - height;
                if grew != 0 && log.scroll_top() == -below {
                    log.set_scroll_top(-below - grew);
                }
            }))
        })
    }

    /// The reader (or the widget) scrolled: back at the end, nothing is unseen.
    fn scrolled(&self) {
        if self.look() <= AT_END_PX && self.chat.seen(|s| s.unseen) {
            self.chat.show(|s| s.unseen = false);
        }
    }

    /// The distance from the view to the log's end, read from the layout
    /// only if the reader was not last noted at the end.
    fn below(&self) -> i32 {
        if self.following.get() && self.last_top.get() == 0 {
            return 0;
        }
        self.look()
    }

    /// The distance from the view to the log's end (`-scrollTop`: the end is
    /// the log's scroll origin); notes whether the reader follows the end: at the end they do; up from
    /// where they were last seen, and away from the end, they no longer do.
    /// (Not merely away: text may have gone in below a reader who did not
    /// move; and their scroll event may come after the next paint.)
    fn look(&self) -> i32 {
        let top = self.log.scroll_top();
        let up = top < self.last_top.replace(top);
        let below = -top;
        if below <= AT_END_PX {
            self.following.set(true);
        } else if up {
            self.following.set(false);
        }
        below
    }

    /// Takes the reader to the end (nothing to do if they are there).
    fn to_end(&self) {
        if self.below() != 0 {
            self.end();
        }
    }

    /// Scrolls to the end, where the reader now follows the answer.
    fn end(&self) {
        crate::browser::scroll_to_end(&self.log);
        self.last_top.set(0);
        self.following.set(true);
    }

    fn jump(&self) {
        self.to_end();
        self.chat.show(|s| s.unseen = false);
    }
}

/// The panel's parts that its event handlers reach.
#[derive(Debug)]
struct Parts {
    chat: Chat,
    input: web_sys::HtmlTextAreaElement,
    scroll: Scroll,
}

impl Parts {
    /// Sends what is typed; the box is emptied only if it was sent.
    fn submit(&self) {
        if self.chat.send(&self.input.value()) {
            self.input.set_value("");
            // Empty, the box is back to its one row: measuring it here would
            // lay out the panel, new messages and all, in the middle of the
            // task that sends (the frame after it lays it out anyway).
            let _ = web_sys::HtmlElement::style(&self.input).remove_property("height");
        }
    }

    /// The box grows with its text (up to the CSS max-height).
    fn grow(&self) {
        let style = web_sys::HtmlElement::style(&self.input);
        let _ = style.set_property("height", "auto");
        let _ = style.set_property("height", &format!("{}px", self.input.scroll_height()));
    }

    /// Every click in the panel: its buttons say what they do in
    /// `data-action` (one listener instead of one per button).
    fn click(&self, event: web_sys::MouseEvent) {
        let chat = self.chat;
        let Some((action, id, button)) = target_element(&event).and_then(|t| Action::of(&t)) else {
            return;
        };
        match (action, id) {
            (Action::Copy, Some(id)) => {
                let text = chat.stream_of(id).map(|s| s.text());
                let text = text.or_else(|| chat.read(|c| c.get(id).map(|m| m.text.clone())));
                if let Some(text) = text {
                    browser::copy_text(&text);
                }
            }
            (Action::Regenerate, _) => chat.regenerate(),
            (Action::Retry, Some(id)) => chat.retry(id),
            (Action::CopyCode, _) => {
                let pre = button
                    .parent_element()
                    .and_then(|bar| bar.next_element_sibling());
                if let Some(code) = pre.and_then(|pre| pre.text_content()) {
                    // Without the last line break: a pasted command should
                    // not run before the reader has looked at it.
                    browser::copy_text(code.strip_suffix('\n').unwrap_or(&code));
                    button.set_text_content(Some(&chat.text("copied")));
                }
            }
            (Action::Suggest, _) => {
                chat.send(&button.text_content().unwrap_or_default());
            }
            (Action::NewConversation, _) => {
                chat.reset();
                let _ = self.input.focus();
            }
            (Action::Close, _) => chat.set_open(false),
            (Action::Continue, Some(id)) => {
                if let Some(chunk) = chunk::get() {
                    (chunk.continue_answer)(&chat, id);
                }
            }
            (Action::Up | Action::Down | Action::Explain, Some(id)) => {
                if let Some(chunk) = chunk::get() {
                    (chunk.rate)(chat, action, id, &button);
                }
            }
            (Action::Jump, _) => self.scroll.jump(),
            (Action::Stop, _) => {
                event.prevent_default();
                chat.stop();
            }
            _ => {}
        }
    }

    /// Every key in the panel: Escape closes a floating panel; in the box,
    /// Enter sends and Shift+Enter is a new line, and an Enter that confirms
    /// an IME composition (Chinese, Japanese, Korean input) is not a send.
    fn keydown(&self, event: web_sys::KeyboardEvent) {
        let key = event.key();
        if chunk::get().is_some_and(|chunk| (chunk.reason_key)(&self.chat, &event)) {
            // Enter or Escape in a rating's reason.
        } else if key == "Escape" && !self.chat.is_inline() {
            event.stop_propagation();
            self.chat.set_open(false);
        } else if key == "Enter"
            && !event.shift_key()
            && !event.is_composing()
            && event.key_code() != 229
            && target_element(&event).is_some_and(|t| t.tag_name() == "TEXTAREA")
        {
            event.prevent_default();
            self.submit();
        }
    }

    /// Typing: the box grows, an old notice goes, and the reader of answers
    /// stays ready for the question.
    fn input(&self) {
        self.grow();
        crate::api::prepare();
        if self.chat.seen(|s| s.notice.is_some()) {
            self.chat.show(|s| s.notice = None);
        }
    }
}

/// The panel's parts that the code finds again once the view is mounted:
/// the view gives each its class, [`Part::find`] looks it up by the same
/// name. (The transcript's elements are the transcript's own.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Banner,
    Log,
    Jump,
    Notice,
    Input,
    Send,
}

impl Part {
    /// The part's class (its BEM name; `style/widget.css` styles it).
    const fn class(self) -> &'static str {
        match self {
            Part::Banner => "rsc-banner",
            Part::Log => "rsc-log",
            Part::Jump => "rsc-jump",
            Part::Notice => "rsc-composer__notice",
            Part::Input => "rsc-composer__input",
            Part::Send => "rsc-composer__send",
        }
    }

    /// The part inside `panel`.
    fn find(self, panel: &Element) -> Option<Element> {
        panel
            .query_selector(&format!(".{}", self.class()))
            .ok()
            .flatten()
    }
}

/// What the panel shows besides its structure and the transcript, as the
/// one effect below last wrote it into the DOM (it writes only what changed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Rendered {
    open: bool,
    /// Why sending is blocked, if it is.
    banner: Option<String>,
    unseen: bool,
    notice: Option<String>,
    streaming: bool,
    cooling: bool,
}

impl Rendered {
    fn of(chat: Chat) -> Self {
        let streaming = chat.conversation.read().is_streaming();
        let s = chat.state.read();
        Rendered {
            open: s.open,
            banner: s.blocked.clone().map(|blocked| chat.blocked_text(blocked)),
            unseen: s.unseen,
            notice: match s.cooldown {
                0 => s.notice.clone(),
                wait => Some(chat.cooldown_text(wait as usize)),
            },
            streaming,
            cooling: s.cooldown != 0,
        }
    }
}

/// The panel's elements that change, found once it is mounted.
struct Live {
    panel: Element,
    banner: Element,
    jump: Element,
    notice: Element,
    input: web_sys::HtmlTextAreaElement,
    send: Element,
}

impl Live {
    /// The changing parts of a mounted `panel`.
    fn find(panel: &Element) -> Option<Self> {
        Some(Live {
            banner: Part::Banner.find(panel)?,
            jump: Part::Jump.find(panel)?,
            notice: Part::Notice.find(panel)?,
            input: Part::Input.find(panel)?.dyn_into().ok()?,
            send: Part::Send.find(panel)?,
            panel: panel.clone(),
        })
    }

    /// Writes into the DOM what differs from `before` (everything the first time).
    fn show(&self, shown: &Rendered, before: Option<&Rendered>, chat: Chat) {
        let changed = |f: fn(&Rendered) -> bool| before.is_none_or(|b| f(b) != f(shown));
        let toggle = |element: &Element, name: &str, on: bool| {
            let _ = element.toggle_attribute_with_force(name, on);
        };
        if changed(|s| s.open) {
            toggle(&self.panel, "hidden", !shown.open);
            if shown.open {
                let _ = self.input.focus();
            }
        }
        if before.is_none_or(|b| b.banner != shown.banner) {
            toggle(&self.banner, "hidden", shown.banner.is_none());
            self.banner.set_text_content(shown.banner.as_deref());
        }
        if changed(|s| s.unseen) {
            toggle(&self.jump, "hidden", !shown.unseen);
        }

        if before.is_none_or(|b| b.notice != shown.notice) {
            self.notice.set_text_content(shown.notice.as_deref());
        }
        if changed(|s| s.banner.is_some()) {
            self.input.set_disabled(shown.banner.is_some());
        }
        // While an answer streams, Send becomes Stop.
        if changed(|s| s.streaming) {
            let (kind, label) = match shown.streaming {
                true => ("button", chat.text("stop")),
                false => ("submit", chat.text("send")),
            };
            let _ = self.send.set_attribute("type", kind);
            self.send.set_text_content(Some(&label));
            match shown.streaming {
                true => self
                    .send
                    .set_attribute(Action::ATTRIBUTE, Action::Stop.name())
                    .ok(),
                false => self.send.remove_attribute(Action::ATTRIBUTE).ok(),
            };
        }
        let disabled = |s: &Rendered| !s.streaming && (s.banner.is_some() || s.cooling);
        if changed(disabled) {
            toggle(&self.send, "disabled", disabled(shown));
        }
    }
}

/// The panel once mounted: its changing parts, the transcript in its log, and
/// its listeners (removed when this is dropped, with the panel).
struct Mounted {
    live: Live,
    transcript: Transcript,
    /// Held for its `Drop`, which removes them.
    _listeners: Listeners,
}

impl Mounted {
    fn new(panel: Element, chat: Chat) -> Option<Self> {
        let live = Live::find(&panel)?;
        let log = Part::Log.find(&panel)?;
        let scroll = Scroll {
            chat,
            log: log.clone(),
            following: Rc::new(Cell::new(true)),
            last_top: Rc::new(Cell::new(0)),
        };
        let options = chat.options();
        let transcript = Transcript::new(
            log.clone(),
            options.strings,
            options.welcome,
            options.suggestions,
            scroll.before_paint(),
            Rc::new({
                let scroll = scroll.clone();
                move || scroll.to_end()
            }),
        );
        let parts = Parts {
            chat,
            input: live.input.clone(),
            scroll,
        };
        Some(Mounted {
            live,
            transcript,
            _listeners: Listeners::attach(panel, log, parts),
        })
    }
}

/// The panel's event listeners: one closure for every event it handles,
/// removed when the panel is.
struct Listeners {
    targets: [(web_sys::EventTarget, &'static [&'static str]); 3],
    handler: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listeners {
    const ON_PANEL: &'static [&'static str] = &["click", "keydown", "input", "submit"];
    const ON_WINDOW: &'static [&'static str] = &["pagehide", "pageshow", "storage"];
    /// The log scrolls only when the reader scrolls it (or, away from the
    /// end, when text goes in below them): following an answer at the end
    /// fires no scroll event (see [`Scroll`]).
    const ON_LOG: &'static [&'static str] = &["scroll"];

    fn attach(panel: Element, log: Element, parts: Parts) -> Self {
        let handler = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            match event.type_().as_str() {
                "click" => parts.click(event.unchecked_into()),
                "keydown" => parts.keydown(event.unchecked_into()),
                "input" => parts.input(),
                "submit" => {
                    event.prevent_default();
                    parts.submit();
                }
                "scroll" => parts.scroll.scrolled(),
                // The page going away or coming back, other tabs' changes.
                _ => parts.chat.window_event(&event),
            }
        });
        let listeners = Listeners {
            targets: [
                (panel.into(), Self::ON_PANEL),
                (web_sys::window().expect("a window").into(), Self::ON_WINDOW),
                (log.into(), Self::ON_LOG),
            ],
            handler,
        };
        listeners.each(|target, name, f| {
            let _ = target.add_event_listener_with_callback(name, f);
        });
        listeners
    }

    fn each(&self, mut f: impl FnMut(&web_sys::EventTarget, &str, &js_sys::Function)) {
        for (target, names) in &self.targets {
            for name in *names {
                f(target, name, self.handler.as_ref().unchecked_ref());
            }
        }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.each(|target, name, f| {
            let _ = target.remove_event_listener_with_callback(name, f);
        });
    }
}

/// A button of the panel's header: `glyph` shown, `label` its name and tooltip.
fn icon_button(action: Action, label: String, glyph: &'static str) -> impl IntoView {
    view! {
        <button
            type="button"
            class="rsc-icon-button"
            data-action=action.name()
            aria-label=label.clone()
            title=label
        >
            {glyph}
        </button>
    }
}

/// The chat panel, shown while the chat's [`State::open`](crate::chat::State::open) is true. Its structure is a
/// static view; what changes is written by one effect, and its events reach
/// one listener (each reactive attribute or `on:` handler would add its own
/// copy of Leptos' generic code to the wasm).
#[component]
pub fn Panel(chat: Chat) -> impl IntoView {
    let options = chat.options();
    let inline = chat.is_inline();
    let panel = NodeRef::<html::Section>::new();

    // Once mounted, the transcript follows the conversation and the rest of
    // the panel the state.
    let mounted = StoredValue::new_local(None::<Mounted>);
    Effect::new(move |before: Option<Option<Rendered>>| {
        let shown = Rendered::of(chat);
        let panel: Element = panel.get()?.into();
        mounted.update_value(|mounted| {
            if mounted.is_none() {
                *mounted = Mounted::new(panel, chat);
                if mounted.is_none() {
                    browser::console_error(
                        "[ringside-chat] the panel is missing a part; this is a bug",
                    );
                }
            }
            if let Some(mounted) = mounted {
                mounted
                    .transcript
                    .sync(&chat.conversation.read(), &|id| chat.stream_of(id));
                let before = before.flatten();
                mounted.live.show(&shown, before.as_ref(), chat);
            }
        });
        Some(shown)
    });

    let close = (!inline).then(|| icon_button(Action::Close, chat.text("close"), "×"));
    view! {
        <section
            class=if inline { "rsc-panel rsc-panel--inline" } else { "rsc-panel" }
            part="panel"
            role="dialog"
            aria-labelledby="rsc-title"
            hidden
            node_ref=panel
        >
            <div class="rsc-panel__header" part="header">
                <h2 id="rsc-title" class="rsc-panel__title">{options.title}</h2>
                {icon_button(Action::NewConversation, chat.text("newConversation"), "+")}
                {close}
            </div>
            <p class=Part::Banner.class() role="alert" hidden></p>
            <div
                class=Part::Log.class()
                part="log"
                role="log"
                aria-live="polite"
                aria-busy="false"
                tabindex="0"
            ></div>
            <button type="button" class=Part::Jump.class() data-action=Action::Jump.name() hidden>
                {chat.text("jumpToLatest")}
            </button>
            <form class="rsc-composer" part="composer">
                <p class=Part::Notice.class() role="status"></p>
                <textarea
                    class=Part::Input.class()
                    part="input"
                    aria-label=chat.text("message")
                    rows="1"
                    placeholder=options.placeholder
                ></textarea>
                <button type="submit" class=Part::Send.class() part="send">
                    {chat.text("send")}
                </button>
            </form>
        </section>
    }
}
