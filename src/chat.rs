//! The widget's state and actions: one [`Chat`] per mounted widget, shared
//! with the components through context. Components only read its signals and
//! call its methods; the rules live in [`crate::conversation`] and
//! [`crate::token`], the I/O in [`crate::api`].

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use ringside_wire::chat::{ChatRequest, Role};
use wasm_bindgen::JsValue;

use crate::api::{self, ChatClient};
use crate::conversation::{Conversation, Status};
use crate::error::ChatError;
use crate::options::{DEFAULT_API_BASE, Options};
use crate::render::StreamView;
use crate::token::{Token, TokenCache};

/// How many past messages are sent with each question.
pub const HISTORY_LIMIT: usize = 20;

/// The state of one widget; `Copy`, so closures take it freely.
#[derive(Debug, Clone, Copy)]
pub struct Chat {
    /// Whether the panel is open.
    pub open: RwSignal<bool>,
    /// The transcript.
    pub conversation: RwSignal<Conversation>,
    /// What the user is typing.
    pub draft: RwSignal<String>,
    /// A message about the widget itself (e.g. why sending failed).
    pub notice: RwSignal<Option<String>>,
    options: StoredValue<Options>,
    streams: StoredValue<HashMap<u32, StreamView>, LocalStorage>,
    tokens: StoredValue<TokenCache, LocalStorage>,
    emit: StoredValue<Option<js_sys::Function>, LocalStorage>,
}

impl Chat {
    /// State for a widget with `options`; `emit(name, detail)` tells the host page what happens.
    pub fn new(options: Options, emit: Option<js_sys::Function>) -> Self {
        Chat {
            open: RwSignal::new(false),
            conversation: RwSignal::new(Conversation::default()),
            draft: RwSignal::new(String::new()),
            notice: RwSignal::new(None),
            options: StoredValue::new(options),
            streams: StoredValue::new_local(HashMap::new()),
            tokens: StoredValue::new_local(TokenCache::default()),
            emit: StoredValue::new_local(emit),
        }
    }

    /// The options the widget was mounted with.
    pub fn options(&self) -> Options {
        self.options.get_value()
    }

    /// Tells the host page (and its listeners) that `name` happened.
    pub fn emit(&self, name: &str, detail: JsValue) {
        self.emit.with_value(|emit| {
            if let Some(emit) = emit {
                let _ = emit.call2(&JsValue::NULL, &JsValue::from_str(name), &detail);
            }
        });
    }

    /// Opens or closes the panel.
    pub fn set_open(&self, open: bool) {
        if self.open.get_untracked() != open {
            self.open.set(open);
            self.emit(if open { "open" } else { "close" }, JsValue::UNDEFINED);
        }
    }

    /// The stream of the answer `id`, while it is (or was) streaming.
    pub fn stream_of(&self, id: u32) -> Option<StreamView> {
        self.streams.with_value(|s| s.get(&id).cloned())
    }

    /// Sends the draft, if there is one and no answer is arriving.
    pub fn send_draft(&self) {
        let text = self.draft.get_untracked();
        if self.send(&text) {
            self.draft.set(String::new());
        }
    }

    /// Sends `text` as the user's next message; `false` if it was refused
    /// (empty, or an answer is still arriving), with the reason shown.
    pub fn send(&self, text: &str) -> bool {
        let text = text.trim();
        if text.is_empty() {
            self.notice.set(Some("Type a message first.".into()));
            return false;
        }
        if self.conversation.with_untracked(Conversation::is_streaming) {
            self.notice
                .set(Some("Wait for the answer to finish first.".into()));
            return false;
        }
        self.notice.set(None);
        let chat = *self;
        let (request_messages, id) = self
            .conversation
            .try_update(|c| {
                c.push(Role::User, text.to_string(), Status::Done);
                let history = c.history(HISTORY_LIMIT);
                (
                    history,
                    c.push(Role::Assistant, String::new(), Status::Streaming),
                )
            })
            .expect("the widget is mounted");
        let view = StreamView::default();
        self.streams.update_value(|s| {
            s.insert(id, view.clone());
        });
        spawn_local(async move {
            let result = chat.answer(request_messages, &view).await;
            if let Err(error) = &result {
                web_sys::console::error_1(&JsValue::from_str(&format!("[ringside-chat] {error}")));
                chat.emit("error", JsValue::from_str(&error.to_string()));
            }
            view.paint();
            let text = view.text();
            chat.conversation.try_update(|c| {
                if let Some(message) = c.get_mut(id) {
                    message.text = text;
                    message.status = match result {
                        Ok(()) => Status::Done,
                        Err(error) => Status::Interrupted(error.user_message()),
                    };
                }
            });
            chat.emit("message", JsValue::from_f64(f64::from(id)));
        });
        true
    }

    async fn answer(
        &self,
        messages: Vec<ringside_wire::chat::ChatMessage>,
        view: &StreamView,
    ) -> Result<(), ChatError> {
        let token = self.token().await?;
        let options = self.options();
        let api_base = options
            .api_base
            .clone()
            .or_else(|| token.api_base.clone())
            .unwrap_or_else(|| DEFAULT_API_BASE.to_string());
        let client = ChatClient::new(&token, &api_base);
        let request = ChatRequest {
            model: options.model,
            messages,
            stream: true,
            user: None,
            max_tokens: None,
            temperature: None,
            stream_options: None,
        };
        let result = client
            .stream(&request, None, &mut |delta| view.push(delta))
            .await;
        if matches!(&result, Err(ChatError::Api { status: 401, .. })) {
            self.tokens.update_value(TokenCache::clear);
        }
        result
    }

    /// A fresh token, from the cache or the host's mint route.
    async fn token(&self) -> Result<Token, ChatError> {
        let now = js_sys::Date::now();
        if let Some(token) = self.tokens.with_value(|t| t.fresh(now).cloned()) {
            return Ok(token);
        }
        let endpoint = self.options.with_value(|o| o.token_endpoint.clone());
        let response = api::fetch_token(&endpoint).await?;
        let now = js_sys::Date::now();
        let token = self
            .tokens
            .try_update_value(|t| t.store(response, now, now / 1000.0))
            .ok_or(ChatError::Interrupted)?;
        self.emit("token", JsValue::UNDEFINED);
        Ok(token)
    }
}
