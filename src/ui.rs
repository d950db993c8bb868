//! The panel: a non-modal dialog with a header, the transcript's log and the
//! composer. Leptos owns its structure and the reactive bits (open, banner,
//! notice, disabled states, Send/Stop); the transcript inside the log is
//! kept in step by [`crate::transcript`]. Components read [`Chat`]'s
//! signals and call its methods, nothing more.

use std::rc::Rc;

use leptos::html;
use leptos::prelude::*;

use crate::browser;
use crate::chat::{Blocked, Chat};
use crate::conversation::Conversation;
use crate::render::PaintHook;
use crate::transcript::{Action, Transcript, target_element};

/// The transcript's scrolling. While the reader is at the bottom, the
/// browser's scroll anchoring keeps them there as text arrives (the log ends
/// with an anchor element; see `transcript.rs`), with no script per frame.
/// When they scrolled up, new text leaves them where they are and "Jump to
/// latest" appears.
#[derive(Debug, Clone, Copy)]
struct Scroll {
    chat: Chat,
    log: NodeRef<html::Div>,
}

impl Scroll {
    fn below(log: &web_sys::HtmlDivElement) -> i32 {
        log.scroll_height() - log.scroll_top() - log.client_height()
    }

    /// What to run before an answer paints new text: the layout is still
    /// clean then, so reading it costs nothing. Scroll anchoring keeps a
    /// reader at the bottom there, except at the very top (browsers do not
    /// anchor a scroller that has not moved): then the log is scrolled once
    /// after the text is in.
    fn before_paint(self) -> PaintHook {
        Rc::new(move || {
            let log = self.log.get_untracked()?;
            if Self::below(&log) > 24 {
                if !self.chat.state.with_untracked(|s| s.unseen) {
                    self.chat.show(|s| s.unseen = true);
                }
                return None;
            }
            (log.scroll_top() == 0).then(|| log.into())
        })
    }

    /// The reader scrolled: back at the bottom, nothing is unseen.
    fn scrolled(self) {
        if let Some(log) = self.log.get_untracked()
            && Self::below(&log) <= 24
            && self.chat.state.with_untracked(|s| s.unseen)
        {
            self.chat.show(|s| s.unseen = false);
        }
    }

    fn jump(self) {
        if let Some(log) = self.log.get_untracked() {
            log.set_scroll_top(log.scroll_height());
        }
        self.chat.show(|s| s.unseen = false);
    }
}

/// The panel's parts that its event handlers reach.
#[derive(Debug, Clone, Copy)]
struct Parts {
    chat: Chat,
    input: NodeRef<html::Textarea>,
    scroll: Scroll,
}

impl Parts {
    /// Sends what is typed; the box is emptied only if it was sent.
    fn submit(self) {
        let Some(input) = self.input.get_untracked() else {
            return;
        };
        if self.chat.send(&input.value()) {
            input.set_value("");
        }
        self.grow();
    }

    /// The box grows with its text (up to the CSS max-height).
    fn grow(self) {
        if let Some(input) = self.input.get_untracked() {
            let style = web_sys::HtmlElement::style(&input);
            let _ = style.set_property("height", "auto");
            let _ = style.set_property("height", &format!("{}px", input.scroll_height()));
        }
    }

    /// Every click in the panel: its buttons say what they do in
    /// `data-action` (one listener instead of one per button).
    fn click(self, event: web_sys::MouseEvent) {
        let chat = self.chat;
        let Some((action, id, button)) = target_element(&event).and_then(|t| Action::of(&t)) else {
            return;
        };
        match (action, id) {
            (Action::Copy, Some(id)) => {
                let text = chat.stream_of(id).map(|s| s.text());
                let text = text.or_else(|| {
                    chat.conversation
                        .with_untracked(|c| c.get(id).map(|m| m.text.clone()))
                });
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
                    browser::copy_text(&code);
                    button.set_text_content(Some(&chat.text("copied")));
                }
            }
            (Action::Suggest, _) => {
                chat.send(&button.text_content().unwrap_or_default());
            }
            (Action::NewConversation, _) => {
                chat.reset();
                if let Some(input) = self.input.get_untracked() {
                    let _ = input.focus();
                }
            }
            (Action::Close, _) => chat.set_open(false),
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
    fn keydown(self, event: web_sys::KeyboardEvent) {
        let key = event.key();
        if key == "Escape" && !self.chat.is_inline() {
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

    /// Typing: the box grows, and an old notice goes.
    fn input(self) {
        self.grow();
        if self.chat.state.with_untracked(|s| s.notice.is_some()) {
            self.chat.show(|s| s.notice = None);
        }
    }
}

/// The chat panel, shown while [`Chat::open`] is true.
#[component]
pub fn Panel(chat: Chat) -> impl IntoView {
    let options = chat.options();
    let inline = chat.is_inline();
    let input = NodeRef::<html::Textarea>::new();
    let log = NodeRef::<html::Div>::new();
    let scroll = Scroll { chat, log };
    let parts = Parts {
        chat,
        input,
        scroll,
    };

    // The transcript follows the conversation.
    let transcript = StoredValue::new_local(None::<Transcript>);
    let (welcome, suggestions, strings) = (options.welcome, options.suggestions, options.strings);
    Effect::new(move |_| {
        let Some(log) = log.get() else { return };
        chat.conversation.with(|conversation| {
            transcript.update_value(|transcript| {
                let transcript = transcript.get_or_insert_with(|| {
                    Transcript::new(
                        log.into(),
                        strings.clone(),
                        welcome.clone(),
                        suggestions.clone(),
                        scroll.before_paint(),
                    )
                });
                transcript.sync(conversation, &|id| chat.stream_of(id));
            });
        });
    });
    Effect::new(move |_| {
        if chat.state.with(|s| s.open)
            && let Some(input) = input.get()
        {
            let _ = input.focus();
        }
    });

    let banner = move || {
        chat.state
            .with(|s| s.blocked.clone())
            .map(|blocked| match blocked {
                Blocked::OutOfCredit(message) => message,
                Blocked::Unavailable => chat.text("unavailable"),
            })
    };
    let streaming = move || chat.conversation.with(Conversation::is_streaming);
    let blocked = move || chat.state.with(|s| s.blocked.is_some());
    let notice = move || match chat.state.with(|s| (s.cooldown, s.notice.clone())) {
        (0, notice) => notice,
        (wait, _) => Some(chat.text("cooldown").replace("{n}", &wait.to_string())),
    };
    let (new_label, close_label) = (chat.text("newConversation"), chat.text("close"));
    let (send, stop) = (chat.text("send"), chat.text("stop"));
    let close = (!inline).then(|| {
        view! {
            <button type="button" class="rsc-icon-button" data-action="close" aria-label=close_label.clone() title=close_label>
                "×"
            </button>
        }
    });
    view! {
        <section
            class=if inline { "rsc-panel rsc-panel--inline" } else { "rsc-panel" }
            part="panel"
            role="dialog"
            aria-labelledby="rsc-title"
            hidden=move || !chat.state.with(|s| s.open)
            on:click=move |event| parts.click(event)
            on:keydown=move |event| parts.keydown(event)
            on:input=move |_| parts.input()
        >
            <div class="rsc-panel__header" part="header">
                <h2 id="rsc-title" class="rsc-panel__title">{options.title}</h2>
                <button
                    type="button"
                    class="rsc-icon-button"
                    data-action="new-conversation"
                    aria-label=new_label.clone()
                    title=new_label
                >
                    "+"
                </button>
                {close}
            </div>
            <p class="rsc-banner" role="alert" hidden=move || chat.state.with(|s| s.blocked.is_none())>
                {banner}
            </p>
            <div
                class="rsc-log"
                part="log"
                role="log"
                aria-live="polite"
                aria-busy="false"
                tabindex="0"
                node_ref=log
                on:scroll=move |_| scroll.scrolled()
            ></div>
            <button type="button" class="rsc-jump" data-action="jump" hidden=move || !chat.state.with(|s| s.unseen)>
                {chat.text("jumpToLatest")}
            </button>
            <form
                class="rsc-composer"
                part="composer"
                on:submit=move |event| {
                    event.prevent_default();
                    parts.submit();
                }
            >
                <p class="rsc-composer__notice" role="status">{notice}</p>
                <textarea
                    class="rsc-composer__input"
                    part="input"
                    aria-label=chat.text("message")
                    rows="1"
                    placeholder=options.placeholder
                    node_ref=input
                    disabled=blocked
                ></textarea>
                // While an answer streams, Send becomes Stop.
                <button
                    type=move || if streaming() { "button" } else { "submit" }
                    class="rsc-composer__send"
                    part="send"
                    data-action=move || streaming().then_some("stop")
                    disabled=move || !streaming() && (blocked() || chat.state.with(|s| s.cooldown != 0))
                >
                    {move || if streaming() { stop.clone() } else { send.clone() }}
                </button>
            </form>
        </section>
    }
}
