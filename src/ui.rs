//! The components: the panel (a non-modal dialog), its transcript and its
//! composer. They read [`Chat`]'s signals and call its methods, nothing more.

use std::rc::Rc;

use leptos::html;
use leptos::prelude::*;
use ringside_wire::chat::Role;
use wasm_bindgen::JsCast;

use crate::browser;
use crate::chat::{Blocked, Chat};
use crate::conversation::Status;

/// The chat panel, shown while [`Chat::open`] is true.
#[component]
pub fn Panel(chat: Chat) -> impl IntoView {
    let title = chat.options().title;
    let inline = chat.is_inline();
    let input = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        if chat.open.get()
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
    let blocked = move || {
        chat.blocked.get().map(|blocked| match blocked {
            Blocked::OutOfCredit(message) => message,
            Blocked::Unavailable => chat.text("unavailable"),
        })
    };
    view! {
        <section
            class=if inline { "rsc-panel rsc-panel--inline" } else { "rsc-panel" }
            part="panel"
            role="dialog"
            aria-labelledby="rsc-title"
            hidden=move || !chat.open.get()
            on:keydown=on_keydown
        >
            <div class="rsc-panel__header" part="header">
                <h2 id="rsc-title" class="rsc-panel__title">{title}</h2>
                <button
                    type="button"
                    class="rsc-icon-button"
                    aria-label=chat.text("newConversation")
                    title=chat.text("newConversation")
                    on:click=move |_| {
                        chat.reset();
                        if let Some(input) = input.get_untracked() {
                            let _ = input.focus();
                        }
                    }
                >
                    "+"
                </button>
                {(!inline).then(|| view! {
                    <button
                        type="button"
                        class="rsc-icon-button"
                        aria-label=chat.text("close")
                        title=chat.text("close")
                        on:click=move |_| chat.set_open(false)
                    >
                        "×"
                    </button>
                })}
            </div>
            {move || blocked().map(|message| view! { <p class="rsc-banner" role="alert">{message}</p> })}
            <Transcript chat />
            <Composer chat input />
        </section>
    }
}

/// The transcript's scrolling: new text scrolls the reader along only if
/// they were at the bottom when it arrived; otherwise "Jump to latest" appears.
#[derive(Debug, Clone, Copy)]
struct Scroll {
    log: NodeRef<html::Div>,
    unseen: RwSignal<bool>,
    /// The log's height after the last paint: where "the bottom" was.
    last_height: StoredValue<i32>,
}

impl Scroll {
    /// After new text is painted. Judged by where the reader was, not by
    /// scroll events, which arrive a frame late.
    fn follow(self) {
        if let Some(log) = self.log.get_untracked() {
            let was_at_bottom =
                log.scroll_top() + log.client_height() >= self.last_height.get_value() - 24;
            if was_at_bottom {
                log.set_scroll_top(log.scroll_height());
            } else {
                self.unseen.set(true);
            }
            self.last_height.set_value(log.scroll_height());
        }
    }
}

/// The welcome, the suggestions, the messages, and the jump to the latest.
#[component]
fn Transcript(chat: Chat) -> impl IntoView {
    let log = NodeRef::<html::Div>::new();
    let unseen = RwSignal::new(false);
    let scroll = Scroll {
        log,
        unseen,
        last_height: StoredValue::new(0),
    };
    let keys = move || {
        chat.conversation.with(|c| {
            c.messages()
                .iter()
                .map(|m| (m.id, m.role))
                .collect::<Vec<_>>()
        })
    };
    let empty = move || chat.conversation.with(|c| c.messages().is_empty());
    let streaming = move || chat.conversation.with(|c| c.is_streaming());
    let options = chat.options();
    let welcome = options.welcome;
    let suggestions = options.suggestions;
    let on_scroll = move |_| {
        if let Some(log) = log.get_untracked()
            && log.scroll_height() - log.scroll_top() - log.client_height() < 24
        {
            unseen.set(false);
        }
    };
    let jump = move |_| {
        if let Some(log) = log.get_untracked() {
            log.set_scroll_top(log.scroll_height());
        }
        unseen.set(false);
    };
    // Copy buttons of code blocks are built with the answer's DOM: one
    // listener here serves them all.
    let on_click = move |event: web_sys::MouseEvent| {
        let Some(target) = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let Ok(Some(button)) = target.closest(".rsc-code__copy") else {
            return;
        };
        let code = button
            .parent_element()
            .and_then(|bar| bar.next_element_sibling())
            .and_then(|pre| pre.text_content());
        if let Some(code) = code {
            browser::copy_text(&code);
            button.set_text_content(Some(&chat.text("copied")));
        }
    };
    view! {
        <div
            class="rsc-log"
            part="log"
            role="log"
            aria-live="polite"
            aria-busy=move || streaming().to_string()
            tabindex="0"
            node_ref=log
            on:scroll=on_scroll
            on:click=on_click
        >
            <Show when=empty>
                <div class="rsc-welcome">
                    <p class="rsc-msg rsc-msg--assistant rsc-welcome__text">{welcome.clone()}</p>
                    <div class="rsc-suggestions">
                        {suggestions
                            .iter()
                            .map(|suggestion| {
                                let text = suggestion.clone();
                                view! {
                                    <button type="button" class="rsc-suggestion" on:click=move |_| {
                                        chat.send(&text);
                                    }>{suggestion.clone()}</button>
                                }
                            })
                            .collect_view()}
                    </div>
                </div>
            </Show>
            <For each=keys key=|(id, _)| *id let((id, role))>
                <Bubble chat id role scroll />
            </For>
        </div>
        <Show when=move || unseen.get()>
            <button type="button" class="rsc-jump" on:click=jump>
                {chat.text("jumpToLatest")}
            </button>
        </Show>
    }
}

/// One message, with its status and actions.
#[component]
fn Bubble(chat: Chat, id: u32, role: Role, scroll: Scroll) -> impl IntoView {
    let body = NodeRef::<html::Div>::new();
    let stream = chat.stream_of(id);
    let text = chat
        .conversation
        .with_untracked(|c| c.get(id).map(|m| m.text.clone()).unwrap_or_default());
    body.on_load(move |element| {
        let element: &web_sys::Element = element.unchecked_ref();
        match stream {
            Some(stream) => stream.attach(element, Rc::new(move || scroll.follow())),
            // The user's own words, shown as typed.
            None => element.set_text_content(Some(&text)),
        }
    });
    let status = move || {
        chat.conversation
            .with(|c| c.get(id).map(|m| m.status.clone()))
    };
    let is_last_answer = move || chat.conversation.with(|c| c.last_answer() == Some(id));
    let (class, who) = match role {
        Role::User => ("rsc-msg rsc-msg--user", chat.text("you")),
        _ => ("rsc-msg rsc-msg--assistant", chat.text("assistant")),
    };
    let copy = move |_| {
        let text = chat.stream_of(id).map(|s| s.text()).or_else(|| {
            chat.conversation
                .with_untracked(|c| c.get(id).map(|m| m.text.clone()))
        });
        if let Some(text) = text {
            browser::copy_text(&text);
        }
    };
    view! {
        <article class=class aria-label=who>
            <div class="rsc-msg__body" node_ref=body></div>
            {move || match status() {
                Some(Status::Streaming) => view! {
                    <span class="rsc-typing" role="status">
                        <span class="rsc-sr">{chat.text("typing")}</span>
                        <span aria-hidden="true" class="rsc-typing__dot"></span>
                        <span aria-hidden="true" class="rsc-typing__dot"></span>
                        <span aria-hidden="true" class="rsc-typing__dot"></span>
                    </span>
                }.into_any(),
                Some(Status::Stopped) => view! { <p class="rsc-msg__status">{chat.text("stopped")}</p> }.into_any(),
                Some(Status::Interrupted(reason) | Status::NotSent(reason)) => {
                    let label = if role == Role::User { chat.text("notSent") + " " } else { String::new() };
                    view! {
                        <p class="rsc-msg__status rsc-msg__status--error">
                            {label} {reason} " "
                            <button type="button" class="rsc-link-button" on:click=move |_| chat.retry(id)>{chat.text("retry")}</button>
                        </p>
                    }.into_any()
                }
                _ => ().into_any(),
            }}
            <Show when=move || role == Role::Assistant && !matches!(status(), Some(Status::Streaming))>
                <div class="rsc-msg__actions">
                    <button type="button" class="rsc-action" aria-label=chat.text("copyMessage") on:click=copy>
                        {chat.text("copy")}
                    </button>
                    <Show when=is_last_answer>
                        <button
                            type="button"
                            class="rsc-action"
                            aria-label=chat.text("regenerateAnswer")
                            on:click=move |_| chat.regenerate()
                        >
                            {chat.text("regenerate")}
                        </button>
                    </Show>
                </div>
            </Show>
        </article>
    }
}

/// The message box and the Send (or Stop) button.
#[component]
fn Composer(chat: Chat, input: NodeRef<html::Textarea>) -> impl IntoView {
    let placeholder = chat.options().placeholder;
    let streaming = move || chat.conversation.with(|c| c.is_streaming());
    let disabled = move || chat.blocked.get().is_some();
    let send_disabled = move || disabled() || chat.cooldown.get() != 0;
    let notice = move || {
        let wait = chat.cooldown.get();
        if wait > 0 {
            Some(chat.text("cooldown").replace("{n}", &wait.to_string()))
        } else {
            chat.notice.get()
        }
    };
    let grow = move || {
        if let Some(input) = input.get_untracked() {
            let style = web_sys::HtmlElement::style(&input);
            let _ = style.set_property("height", "auto");
            let _ = style.set_property("height", &format!("{}px", input.scroll_height()));
        }
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
            chat.send_draft();
            grow();
        }
    };
    view! {
        <form
            class="rsc-composer"
            part="composer"
            on:submit=move |event| {
                event.prevent_default();
                chat.send_draft();
                grow();
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
                disabled=disabled
                prop:value=move || chat.draft.get()
                on:input=move |event| {
                    chat.draft.set(event_target_value(&event));
                    chat.notice.set(None);
                    grow();
                }
                on:keydown=on_keydown
            ></textarea>
            {move || if streaming() {
                view! {
                    <button type="button" class="rsc-composer__send" part="send" on:click=move |_| chat.stop()>{chat.text("stop")}</button>
                }.into_any()
            } else {
                view! {
                    <button
                        type="submit"
                        class="rsc-composer__send"
                        part="send"
                        disabled=send_disabled
                    >
                        {chat.text("send")}
                    </button>
                }.into_any()
            }}
        </form>
    }
}
