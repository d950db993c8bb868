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
    let input = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        if chat.open.get()
            && let Some(input) = input.get()
        {
            let _ = input.focus();
        }
    });
    let on_keydown = move |event: web_sys::KeyboardEvent| {
        if event.key() == "Escape" {
            event.stop_propagation();
            chat.set_open(false);
        }
    };
    let blocked = move || {
        chat.blocked.get().map(|blocked| match blocked {
            Blocked::OutOfCredit(message) => message,
            Blocked::Unavailable => "Chat is unavailable on this page.".to_string(),
        })
    };
    view! {
        <section
            class="rsc-panel"
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
                    aria-label="New conversation"
                    title="New conversation"
                    on:click=move |_| {
                        chat.reset();
                        if let Some(input) = input.get_untracked() {
                            let _ = input.focus();
                        }
                    }
                >
                    "+"
                </button>
                <button
                    type="button"
                    class="rsc-icon-button"
                    aria-label="Close chat"
                    title="Close"
                    on:click=move |_| chat.set_open(false)
                >
                    "×"
                </button>
            </div>
            {move || blocked().map(|message| view! { <p class="rsc-banner" role="alert">{message}</p> })}
            <Transcript chat />
            <Composer chat input />
        </section>
    }
}

/// The transcript's scrolling: new text scrolls the reader along only while
/// they are at the bottom; otherwise "Jump to latest" appears.
#[derive(Debug, Clone, Copy)]
struct Scroll {
    log: NodeRef<html::Div>,
    at_bottom: RwSignal<bool>,
    unseen: RwSignal<bool>,
}

impl Scroll {
    /// After new text is painted.
    fn follow(self) {
        if let Some(log) = self.log.get_untracked() {
            if self.at_bottom.get_untracked() {
                log.set_scroll_top(log.scroll_height());
            } else {
                self.unseen.set(true);
            }
        }
    }
}

/// The welcome, the suggestions, the messages, and the jump to the latest.
#[component]
fn Transcript(chat: Chat) -> impl IntoView {
    let log = NodeRef::<html::Div>::new();
    let at_bottom = RwSignal::new(true);
    let unseen = RwSignal::new(false);
    let scroll = Scroll {
        log,
        at_bottom,
        unseen,
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
        if let Some(log) = log.get_untracked() {
            let bottom = log.scroll_height() - log.scroll_top() - log.client_height() < 24;
            at_bottom.set(bottom);
            if bottom {
                unseen.set(false);
            }
        }
    };
    let jump = move |_| {
        if let Some(log) = log.get_untracked() {
            log.set_scroll_top(log.scroll_height());
        }
        at_bottom.set(true);
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
            button.set_text_content(Some("Copied"));
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
                "Jump to latest"
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
        Role::User => ("rsc-msg rsc-msg--user", "You"),
        _ => ("rsc-msg rsc-msg--assistant", "Assistant"),
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
                        <span class="rsc-sr">"Assistant is typing"</span>
                        <span aria-hidden="true" class="rsc-typing__dot"></span>
                        <span aria-hidden="true" class="rsc-typing__dot"></span>
                        <span aria-hidden="true" class="rsc-typing__dot"></span>
                    </span>
                }.into_any(),
                Some(Status::Stopped) => view! { <p class="rsc-msg__status">"Stopped."</p> }.into_any(),
                Some(Status::Interrupted(reason) | Status::NotSent(reason)) => {
                    let label = if role == Role::User { "Not sent. " } else { "" };
                    view! {
                        <p class="rsc-msg__status rsc-msg__status--error">
                            {label} {reason} " "
                            <button type="button" class="rsc-link-button" on:click=move |_| chat.retry(id)>"Retry"</button>
                        </p>
                    }.into_any()
                }
                _ => ().into_any(),
            }}
            <Show when=move || role == Role::Assistant && !matches!(status(), Some(Status::Streaming))>
                <div class="rsc-msg__actions">
                    <button type="button" class="rsc-action" aria-label="Copy message" title="Copy" on:click=copy>
                        "Copy"
                    </button>
                    <Show when=is_last_answer>
                        <button
                            type="button"
                            class="rsc-action"
                            aria-label="Regenerate answer"
                            title="Regenerate"
                            on:click=move |_| chat.regenerate()
                        >
                            "Regenerate"
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
            Some(format!(
                "Too many messages. You can send again in {wait} s."
            ))
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
                aria-label="Message"
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
                    <button type="button" class="rsc-composer__send" part="send" on:click=move |_| chat.stop()>"Stop"</button>
                }.into_any()
            } else {
                view! {
                    <button
                        type="submit"
                        class="rsc-composer__send"
                        part="send"
                        disabled=send_disabled
                    >
                        "Send"
                    </button>
                }.into_any()
            }}
        </form>
    }
}
