//! Ringside Chat: an embeddable chat widget that talks to the Ringside
//! gateway straight from the browser with a short-lived Client Token.
//!
//! The page loads a tiny loader (`js/ringside-chat.js`) that paints the
//! launcher at once; this crate, compiled to wasm, is fetched on idle or on
//! first interaction and mounted into the loader's shadow root by [`mount`].
//!
//! # Layout
//! - [`options`]: what the host page configures.
//! - [`chat`]: the widget's state and actions (send, open, close).
//! - [`ui`]: the Leptos components (the panel and its composer).
//! - [`transcript`]: the messages' DOM, kept in step with the conversation.
//! - [`api`]: the token fetch and the streamed completion (fetch + SSE);
//!   [`decoder`]: what the worker that reads the stream runs of this wasm.
//! - [`continuity`]: answers that survive a page change, tabs that share a
//!   conversation; [`feedback`]: the visitor's ratings of answers.
//! - [`render`]: painting streamed text once per animation frame.
//! - [`chunk`]: what only answers need (their Markdown, their rating), in a
//!   wasm chunk loaded when the panel opens.
//! - [`conversation`], [`token`], [`error`]: the plain-Rust rules underneath,
//!   unit-tested natively.

pub mod api;
pub mod browser;
pub mod challenge;
pub mod chat;
pub mod chunk;
pub mod continuity;
pub mod conversation;
pub mod decoder;
pub mod error;
pub mod feedback;
pub mod markdown;
pub mod options;
pub mod painter;
pub mod render;
pub mod storage;
pub mod strings;
pub mod token;
pub mod transcript;
pub mod ui;

/// What the tests that hold other files to the Rust (the loader, the npm
/// types, the README) read them with.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod project_files {
    /// The text of `path`, from the repository's root.
    pub(crate) fn read(path: &str) -> String {
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
    }

    /// The names in `path` between `open` and the next `close`: what `name`
    /// picks out of each piece between `split`s.
    pub(crate) fn names_in(
        path: &str,
        open: &str,
        close: &str,
        split: char,
        name: fn(&str) -> Option<&str>,
    ) -> Vec<String> {
        let text = read(path);
        let start = text
            .find(open)
            .unwrap_or_else(|| panic!("{path} has no `{open}`"))
            + open.len();
        let end = start + text[start..].find(close).unwrap();
        text[start..end]
            .split(split)
            .filter_map(|part| name(part.trim()))
            .map(str::to_string)
            .collect()
    }

    /// The members of a TypeScript interface of `js/npm/index.d.ts`, sorted.
    pub(crate) fn typescript_members(interface: &str) -> Vec<String> {
        let mut members = names_in(
            "js/npm/index.d.ts",
            &format!("export interface {interface} {{"),
            "\n}",
            '\n',
            |line| line.split_once("?:").map(|(name, _)| name),
        );
        members.sort();
        members
    }
}

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{CssStyleSheet, HtmlElement, ShadowRoot};

use crate::chat::{Chat, Lent};
use crate::options::Options;

// The unit tests run natively and, built for wasm32, in headless Chromium.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// The widget's stylesheet, adopted into its shadow root.
const CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/widget.min.css"));

/// A mounted widget, as the host page drives it.
///
/// Its reactive state (the conversation, the options, the answers' views
/// holding DOM nodes) lives under `owner`, which [`ChatHandle::destroy`]
/// disposes: a single-page app that mounts and destroys widgets all day
/// keeps nothing of them.
#[wasm_bindgen]
pub struct ChatHandle {
    chat: Chat,
    container: HtmlElement,
    mounted: Option<Box<dyn std::any::Any>>,
    owner: Option<Owner>,
}

impl std::fmt::Debug for ChatHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatHandle")
            .field("mounted", &self.mounted.is_some())
            .finish()
    }
}

#[wasm_bindgen]
impl ChatHandle {
    /// Whether [`ChatHandle::destroy`] ran: then every method does nothing.
    fn gone(&self) -> bool {
        self.owner.is_none()
    }

    /// Opens the panel.
    pub fn open(&self) {
        if self.gone() {
            return;
        }
        self.chat.set_open(true);
    }

    /// Closes the panel.
    pub fn close(&self) {
        if self.gone() {
            return;
        }
        self.chat.set_open(false);
    }

    /// Opens the panel if closed, closes it if open.
    pub fn toggle(&self) {
        if self.gone() {
            return;
        }
        self.chat.set_open(!self.chat.seen(|s| s.open));
    }

    /// Sends `text` as if the user typed it; `false` if it was refused
    /// (the reason is shown in the panel).
    pub fn send(&self, text: &str) -> bool {
        if self.gone() {
            return false;
        }
        self.chat.set_open(true);
        self.chat.send(text)
    }

    /// Fetches a token ahead of the first question (on launcher hover or focus).
    pub fn prefetch(&self) {
        if !self.gone() {
            self.chat.prefetch();
        }
    }

    /// Starts a new, empty conversation.
    pub fn reset(&self) {
        if !self.gone() {
            self.chat.reset();
        }
    }

    /// The user signed out of the host app: their token, transcript and
    /// stored conversations are forgotten (see [`Chat::sign_out`]).
    #[wasm_bindgen(js_name = signOut)]
    pub fn sign_out(&self) {
        if !self.gone() {
            self.chat.sign_out();
        }
    }

    /// Replaces the context sent with each question (where the user is);
    /// an empty text removes it.
    #[wasm_bindgen(js_name = setContext)]
    pub fn set_context(&self, context: &str) {
        if self.gone() {
            return;
        }
        self.chat
            .set_context((!context.is_empty()).then(|| context.to_string()));
    }

    /// Shows the conversation as stored now: the optional threads module
    /// (`persist: "server"`) stored what a Ringside thread holds.
    pub fn reload(&self) {
        if !self.gone() {
            self.chat.reload();
        }
    }

    /// A Client Token for the optional threads module (`persist:
    /// "server"`), so that a page asks its host for one token, not two:
    /// `[token, apiBase]` (the gateway it is for) when the widget has a fresh
    /// one; else a promise to wait for, then ask again with `waited` (which
    /// throws why there is no token, if the fetch failed). `refused` is a
    /// token Ringside refused (a new one is minted in its place). The loader
    /// hands this handle to that module only; a page could ask its own token
    /// endpoint for the same token.
    #[wasm_bindgen(js_name = clientToken)]
    pub fn client_token(&self, refused: Option<String>, waited: bool) -> Result<JsValue, JsValue> {
        if self.gone() {
            return Err(JsValue::from_str("the widget was destroyed"));
        }
        match self.chat.token_for_threads(refused, waited) {
            Ok(Lent::Token { token, api_base }) => {
                Ok(js_sys::Array::of2(&token.into(), &api_base.into()).into())
            }
            Ok(Lent::Wait(fetch)) => Ok(fetch.into()),
            Err(error) => Err(JsValue::from_str(&error.to_string())),
        }
    }

    /// Removes the widget's DOM, stops its work and frees its state.
    pub fn destroy(&mut self) {
        let Some(owner) = self.owner.take() else {
            return;
        };
        self.chat.stop();
        api::release();
        self.mounted.take();
        owner.cleanup();
        self.container.remove();
    }
}

/// Mounts the widget into `root` (the loader's shadow root) with the options
/// in `options_json`; `emit(name, detail)` receives the widget's events.
#[wasm_bindgen]
pub fn mount(
    root: ShadowRoot,
    options_json: &str,
    emit: Option<js_sys::Function>,
) -> Result<ChatHandle, JsValue> {
    let (options, problems) = Options::from_json(options_json);
    if !problems.is_empty() {
        let message = format!("[ringside-chat] {}", problems.join("; "));
        web_sys::console::error_1(&JsValue::from_str(&message));
    }
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let sheet = CssStyleSheet::new()?;
    sheet.replace_sync(CSS)?;
    let sheets = root.adopted_style_sheets();
    sheets.push(&sheet);
    root.set_adopted_style_sheets(&sheets);

    let container: HtmlElement = document.create_element("div")?.unchecked_into();
    container.set_class_name("rsc-root");
    root.append_child(&container)?;

    let inline = options.mode == options::Mode::Inline;
    // A root of its own (not a child of another widget's), kept by the handle.
    let owner = Owner::new();
    let (chat, mounted) = owner.with(|| {
        let chat = Chat::new(options, emit);
        let mounted =
            leptos::mount::mount_to(container.clone(), move || view! { <ui::Panel chat /> });
        (chat, mounted)
    });
    if inline {
        chat.set_open(true);
    } else {
        chat.prefetch_if_stored();
    }
    Ok(ChatHandle {
        chat,
        container,
        mounted: Some(Box::new(mounted)),
        owner: Some(owner),
    })
}
