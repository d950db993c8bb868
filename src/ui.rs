//! The components: the panel (a non-modal dialog), its transcript and its
//! composer. They read [`Chat`]'s signals and call its methods, nothing more.

use std::rc::Rc;

use leptos::html;
use leptos::prelude::*;
use ringside_wire::chat::Role;
use wasm_bindgen::JsCast;

use crate::chat::Chat;
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
    view! {
        <section
            class="rsc-panel"
            role="dialog"
            aria-labelledby="rsc-title"
            hidden=move || !chat.open.get()
            on:keydown=on_keydown
        >
            <header class="rsc-panel__header">
                <h2 id="rsc-title" class="rsc-panel__title">{title}</h2>
                <button
                    type="button"
                    class="rsc-icon-button"
                    aria-label="Close chat"
                    on:click=move |_| chat.set_open(false)
                >
                    "×"
                </button>
            </header>
            <Transcript chat />
            <Composer chat input />
        </section>
    }
}

/// The messages, as a live log.
#[component]
fn Transcript(chat: Chat) -> impl IntoView {
    let log = NodeRef::<html::Div>::new();
    let keys = move || {
        chat.conversation.with(|c| {
            c.messages()
                .iter()
                .map(|m| (m.id, m.role))
                .collect::<Vec<_>>()
        })
    };
    let streaming = move || chat.conversation.with(|c| c.is_streaming());
    view! {
        <div
            class="rsc-log"
            role="log"
            aria-live="polite"
            aria-busy=move || streaming().to_string()
            node_ref=log
        >
            <For each=keys key=|(id, _)| *id let((id, role))>
                <Bubble chat id role log />
            </For>
        </div>
    }
}

/// One message.
#[component]
fn Bubble(chat: Chat, id: u32, role: Role, log: NodeRef<html::Div>) -> impl IntoView {
    let body = NodeRef::<html::Div>::new();
    let text = chat.conversation.with_untracked(|c| {
        c.messages()
            .iter()
            .find(|m| m.id == id)
            .map(|m| m.text.clone())
            .unwrap_or_default()
    });
    let stream = chat.stream_of(id);
    body.on_load(move |element| {
        let element: &web_sys::Element = element.unchecked_ref();
        let stick_to_bottom: Rc<dyn Fn()> = Rc::new(move || {
            if let Some(log) = log.get_untracked() {
                log.set_scroll_top(log.scroll_height());
            }
        });
        match stream {
            Some(stream) => stream.attach(element, stick_to_bottom),
            None => element.set_text_content(Some(&text)),
        }
    });
    let status = move || {
        chat.conversation.with(|c| {
            match c.messages().iter().find(|m| m.id == id).map(|m| &m.status) {
                Some(Status::Interrupted(reason)) => Some(reason.clone()),
                _ => None,
            }
        })
    };
    let class = match role {
        Role::User => "rsc-msg rsc-msg--user",
        _ => "rsc-msg rsc-msg--assistant",
    };
    view! {
        <div class=class>
            <div class="rsc-msg__body" node_ref=body></div>
            {move || status().map(|reason| view! { <p class="rsc-msg__status">{reason}</p> })}
        </div>
    }
}

/// The message box and the Send button.
#[component]
fn Composer(chat: Chat, input: NodeRef<html::Textarea>) -> impl IntoView {
    let placeholder = chat.options().placeholder;
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
        }
    };
    view! {
        <form
            class="rsc-composer"
            on:submit=move |event| {
                event.prevent_default();
                chat.send_draft();
            }
        >
            <p class="rsc-composer__notice" role="status">{move || chat.notice.get()}</p>
            <textarea
                class="rsc-composer__input"
                aria-label="Message"
                rows="1"
                placeholder=placeholder
                node_ref=input
                prop:value=move || chat.draft.get()
                on:input=move |event| chat.draft.set(event_target_value(&event))
                on:keydown=on_keydown
            ></textarea>
            <button type="submit" class="rsc-composer__send">"Send"</button>
        </form>
    }
}
