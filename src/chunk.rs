//! The half of the widget that only answers need, in a wasm chunk of its
//! own: the Markdown painter ([`crate::painter`] and the parser under it,
//! `src/markdown/`), the visitor's rating of a finished answer
//! ([`crate::feedback`]), continuing an answer that broke off
//! ([`Chat::continue_answer`], and the next page's [`crate::continuity::resume`]),
//! showing a stored conversation ([`crate::continuity::show_stored`]: the
//! token of its customer waits a few seconds for it, so a question goes
//! with it), and the proof-of-work a mint may ask of a new visitor
//! ([`crate::challenge`], only on the mint's refusal, so most visitors
//! never run it). A visitor needs none of them to open the panel
//! or send a question, so the release build cuts them out of the main module
//! (`xtask/src/slim.rs`, with wasm-split) into
//! `ringside-chat-answers-<hash>.wasm`, which shares the main module's
//! memory, allocator and bindings.
//!
//! [`prefetch`] starts loading it when the panel opens (or the launcher is
//! hovered, or a conversation is stored), long before the first answer
//! needs it. Until it is in, and if it cannot be had: an answer waits a
//! moment, then shows as plain text (see [`crate::render`]), a finished
//! answer has no rating buttons, and one that broke off offers Retry
//! without Continue; all are completed once it loads. Without it, a stored
//! conversation is not shown, but what is said joins it (see
//! `Chat::restore`). The next page's
//! answer cut by leaving, and a challenge, wait for it ([`loaded`]);
//! without it, the cut answer shows Retry, and the mint's refusal is what
//! the visitor is told.
//!
//! # Adding to it
//! Code goes into the chunk when nothing in the main module calls it but
//! through [`Chunk`]: add a function pointer to the struct, set it in
//! `chunk()`, and call it through [`get`] where the main module needs it
//! (doing without it until then; [`prefetch`] refreshes the panel when the
//! chunk arrives). Whatever else the main module
//! also calls stays in the main module, where the chunk calls it.

use std::cell::RefCell;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;

use wasm_bindgen_futures::spawn_local;
use web_sys::{Document, Element, KeyboardEvent};

use crate::chat::Chat;
use crate::continuity::Gone;
use crate::conversation::Feedback;
use crate::render::MakePainter;
use crate::strings::Strings;
use crate::transcript::Action;

pub use wasm_split_helpers::SplitLoaderError;

/// The chunk's entry points, called through the function table.
#[derive(Debug, Clone, Copy)]
pub struct Chunk {
    /// Makes the Markdown painter of an answer.
    pub painter: MakePainter,
    /// Adds the rating's buttons to a finished answer's `actions`, and what
    /// follows a rating (the reason's field, or thanks) to its `footer`.
    pub rating: fn(&Document, &Strings, Option<&Feedback>, &Element, &Element),
    /// A click on [`Action::Up`], [`Action::Down`] or [`Action::Explain`] of
    /// the answer `id`, on `button`.
    pub rate: fn(Chat, Action, u32, &Element),
    /// A key pressed in the panel: whether it was Enter or Escape in a
    /// rating's reason, and was handled.
    pub reason_key: fn(&Chat, &KeyboardEvent) -> bool,
    /// Continues the answer `id` that broke off ([`Chat::continue_answer`]):
    /// its Continue button shows once the chunk is in.
    pub continue_answer: fn(&Chat, u32),
    /// Continues the answer the previous page left, if the note it left
    /// says it may ([`crate::continuity::resume`]).
    pub resume: fn(&Chat, &str),
    /// Shows the messages of a stored conversation
    /// ([`crate::continuity::show_stored`]): a page shows a stored
    /// conversation once the chunk is in.
    pub show_stored: fn(&Chat, &str, String, Gone<'_>) -> Range<u32>,
    /// The solution to the challenge in the mint's 401, if it carries one
    /// (see [`crate::challenge::answer`]).
    pub solve: fn(web_sys::Response) -> Solving,
}

/// A challenge being solved (it yields to the page between tries).
pub type Solving = Pin<Box<dyn Future<Output = Option<String>>>>;

/// Where the chunk is.
enum State {
    Idle,
    Loading,
    Ready(Chunk),
    /// It could not be loaded; a later [`prefetch`] tries again.
    Failed,
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State::Idle) };
    /// The widgets to show it to once it is in: every one that asked for
    /// it, through failed tries too, since the try that succeeds may be
    /// started by an answer's painter ([`prefetch`]`(None)`), after their
    /// answers have finished without it.
    static WAITING: RefCell<Vec<Chat>> = const { RefCell::new(Vec::new()) };
}

/// The chunk, once it is loaded.
pub fn get() -> Option<Chunk> {
    STATE.with_borrow(|state| match state {
        State::Ready(chunk) => Some(*chunk),
        _ => None,
    })
}

/// Whether the last try to load the chunk failed.
pub fn failed() -> bool {
    STATE.with_borrow(|state| matches!(state, State::Failed))
}

/// Starts loading the chunk, unless it is loaded or loading. Once it is
/// in, the answers that waited for the Markdown painter are painted (see
/// [`crate::render::chunk_settled`]), and the panel of `chat`, and of
/// every widget that asked before, follows (its finished answers get their
/// rating buttons), whichever call's try succeeds.
pub fn prefetch(chat: Option<Chat>) {
    let start = STATE.with_borrow_mut(|state| match state {
        State::Ready(_) | State::Loading => false,
        State::Idle | State::Failed => {
            *state = State::Loading;
            true
        }
    });
    if let Some(chat) = chat
        && get().is_none()
    {
        WAITING.with_borrow_mut(|waiting| {
            if !waiting.iter().any(|w| w.conversation == chat.conversation) {
                waiting.push(chat);
            }
        });
    }
    if !start {
        return;
    }
    spawn_local(async {
        let chunk = match load().await {
            Ok(chunk) => Some(chunk),
            Err(error) => {
                // The loader logged the cause; answers still show, as text.
                crate::browser::console_error(&format!(
                    "[ringside-chat] the Markdown renderer, ratings and stored \
                     conversations did not load ({error}); answers are shown as plain \
                     text, without ratings, and what is stored is kept unshown, until \
                     they do"
                ));
                None
            }
        };
        STATE.replace(chunk.map_or(State::Failed, State::Ready));
        crate::render::chunk_settled();
        if chunk.is_some() {
            for chat in WAITING.take() {
                chat.refresh();
            }
        }
    });
}

/// The chunk, once loaded, starting to load it if it is not: `None` if it
/// cannot be had. For what cannot go on without it (a challenge); the
/// panel does without it instead.
pub async fn loaded() -> Option<Chunk> {
    loaded_within(f64::INFINITY).await
}

/// [`loaded`], waiting at most `ms` milliseconds: `None` also if it is not
/// in by then ([`failed`] tells which).
pub async fn loaded_within(ms: f64) -> Option<Chunk> {
    prefetch(None);
    let until = js_sys::Date::now() + ms;
    loop {
        if let Some(chunk) = get() {
            return Some(chunk);
        }
        if failed() || js_sys::Date::now() >= until {
            return None;
        }
        // Rare (a challenged visitor), and usually in already: a poll
        // costs less code than a list of wakers.
        crate::browser::sleep(10).await;
    }
}

/// Fetches and instantiates the chunk (a failed fetch is tried again on
/// the next call).
async fn load() -> Result<Chunk, SplitLoaderError> {
    #[cfg(not(all(target_arch = "wasm32", test)))]
    return split::answers().await;
    // The wasm unit tests are one module, with nothing to split.
    #[cfg(all(target_arch = "wasm32", test))]
    return Ok(chunk());
}

/// What the chunk holds: every function only these reach goes into it.
fn chunk() -> Chunk {
    Chunk {
        painter: crate::painter::make,
        rating: crate::feedback::rating,
        rate: crate::feedback::act,
        reason_key: Chat::reason_key,
        continue_answer: Chat::continue_answer,
        resume: crate::continuity::resume,
        show_stored: crate::continuity::show_stored,
        solve: |response| Box::pin(async move { crate::challenge::answer(&response).await }),
    }
}

/// The split point. The macro declares the chunk's loader as a wasm import
/// and this function as a `no_mangle` export, which the `unsafe_code` lint
/// names; nothing here dereferences or transmutes anything.
#[cfg(not(all(target_arch = "wasm32", test)))]
#[allow(unsafe_code)]
mod split {
    use super::{Chunk, SplitLoaderError};

    #[wasm_split_helpers::wasm_split(answers, fallible)]
    pub(super) fn answers() -> Result<Chunk, SplitLoaderError> {
        Ok(super::chunk())
    }
}
