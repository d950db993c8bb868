//! The panel: a non-modal dialog with a header, the transcript's log and the
//! composer. Leptos owns its structure and the reactive bits (open, banner,
//! notice, disabled states, Send/Stop); the transcript inside the log is
//! kept in step by [`crate::transcript`]. Components read [`Chat`]'s
//! signals and call its methods, nothing more.

use std::cell::Cell;
use std::rc::Rc;

use leptos::html;
use leptos::prelude::*;

use crate::browser;
use crate::chat::{Blocked, Chat};
use crate::conversation::Conversation;
use crate::transcript::{Action, Transcript, target_element};

/// The transcript's scrolling: new text scrolls the reader along only if
/// they were at the bottom when it arrived; otherwise "Jump to latest" appears.
#[derive(Debug, Clone, Copy)]
struct Scroll {
    chat: Chat,
    log: NodeRef<html::Div>,
}

impl Scroll {
    /// What to run after new text is painted. It judges by where the reader
    /// was (the log's height after the previous paint), not by scroll
    /// events, which arrive a frame late.
    fn follower(self) -> Rc<dyn Fn()> {
        let last_height = Rc::new(Cell::new(0));
        Rc::new(move || {
            if let Some(log) = self.log.get_untracked() {
                if log.scroll_top() + log.client_height() >= last_height.get() - 24 {
                    log.set_scroll_top(log.scroll_height());
                } else if !self.chat.state.with_untracked(|s| s.unseen) {
                    self.chat.show(|s| s.unseen = true);
                }
                last_height.set(log.scroll_height());
            }
        })
    }

    /// The reader scrolled: back at the bottom, nothing is unseen.
    fn scrolled(self) {
        if let Some(log) = self.log.get_untracked()
            && log.scroll_height() - log.scroll_top() - log.client_height() < 24
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

/// A click in the transcript: the buttons it builds carry their action.
fn act(chat: Chat, event: web_sys::MouseEvent) {
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
        _ => {}
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

    // The transcript follows the conversation.
    let transcript = StoredValue::new_local(None::<Transcript>);
    let (welcome, suggestions) = (options.welcome.clone(), options.suggestions.clone());
    Effect::new(move |_| {
        let Some(log) = log.get() else { return };
        chat.conversation.with(|conversation| {
            transcript.update_value(|transcript| {
                let transcript = transcript.get_or_insert_with(|| {
                    Transcript::new(
                        log.into(),
                        options.strings.clone(),
                        welcome.clone(),
                        suggestions.clone(),
                        scroll.follower(),
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

    let on_keydown = move |event: web_sys::KeyboardEvent| {
        if event.key() == "Escape" && !inline {
            event.stop_propagation();
            chat.set_open(false);
        }
    };
    let banner = move || {
        chat.state
            .with(|s| s.blocked.clone())
            .map(|blocked| match blocked {
                Blocked::OutOfCredit(message) => message,
                Blocked::Unavailable => chat.text("unavailable"),
            })
    };
    let new_label = chat.text("newConversation");
    let close_label = chat.text("close");
    let close = (!inline).then(|| {
        view! {
            <button
                type="button"
                class="rsc-icon-button"
                aria-label=close_label.clone()
                title=close_label
                on:click=move |_| chat.set_open(false)
            >
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
            on:keydown=on_keydown
        >
            <div class="rsc-panel__header" part="header">
                <h2 id="rsc-title" class="rsc-panel__title">{options.title}</h2>
                <button
                    type="button"
                    class="rsc-icon-button"
                    aria-label=new_label.clone()
                    title=new_label
                    on:click=move |_| {
                        chat.reset();
                        if let Some(input) = input.get_untracked() {
                            let _ = input.focus();
                        }
                    }
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
                on:click=move |event| act(chat, event)
            ></div>
            <button type="button" class="rsc-jump" hidden=move || !chat.state.with(|s| s.unseen) on:click=move |_| scroll.jump()>
                {chat.text("jumpToLatest")}
            </button>
            <Composer chat input placeholder=options.placeholder />
        </section>
    }
}

/// The message box and the Send (or, while an answer streams, Stop) button.
#[component]
fn Composer(chat: Chat, input: NodeRef<html::Textarea>, placeholder: String) -> impl IntoView {
    let streaming = move || chat.conversation.with(Conversation::is_streaming);
    let blocked = move || chat.state.with(|s| s.blocked.is_some());
    let cooling = move || chat.state.with(|s| s.cooldown != 0);
    let notice = move || match chat.state.with(|s| (s.cooldown, s.notice.clone())) {
        (0, notice) => notice,
        (wait, _) => Some(chat.text("cooldown").replace("{n}", &wait.to_string())),
    };
    // The box grows with its text (up to the CSS max-height).
    let grow = move || {
        if let Some(input) = input.get_untracked() {
            let style = web_sys::HtmlElement::style(&input);
            let _ = style.set_property("height", "auto");
            let _ = style.set_property("height", &format!("{}px", input.scroll_height()));
        }
    };
    let submit = move || {
        chat.send_draft();
        grow();
    };
    let on_keydown = move |event: web_sys::KeyboardEvent| {
        // Enter sends; Shift+Enter is a new line; Enter that confirms an IME
        // composition (Chinese, Japanese, Korean input) is not a send.
        if event.key() == "Enter"
            && !event.shift_key()
            && !event.is_composing()
            && event.key_code() != 229
        {
            event.prevent_default();
            submit();
        }
    };
    let (send, stop) = (chat.text("send"), chat.text("stop"));
    view! {
        <form
            class="rsc-composer"
            part="composer"
            on:submit=move |event| {
                event.prevent_default();
                submit();
            }
        >
            <p class="rsc-composer__notice" role="status">{notice}</p>
            <textarea
                class="rsc-composer__input"
                part="input"
                aria-label=chat.text("message")
                rows="1"
                placeholder=placeholder
                node_ref=input
                disabled=blocked
                prop:value=move || chat.draft.get()
                on:input=move |event| {
                    chat.draft.set(event_target_value(&event));
                    if chat.state.with_untracked(|s| s.notice.is_some()) {
                        chat.show(|s| s.notice = None);
                    }
                    grow();
                }
                on:keydown=on_keydown
            ></textarea>
            <button
                type=move || if streaming() { "button" } else { "submit" }
                class="rsc-composer__send"
                part="send"
                disabled=move || !streaming() && (blocked() || cooling())
                on:click=move |event| {
                    if streaming() {
                        event.prevent_default();
                        chat.stop();
                    }
                }
            >
                {move || if streaming() { stop.clone() } else { send.clone() }}
            </button>
        </form>
    }
}
