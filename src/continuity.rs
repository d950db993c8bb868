//! Conversations that follow the visitor across pages and tabs.
//!
//! **Across page loads.** The conversation stored for the customer of the
//! first token is shown before what was asked meanwhile (`Chat::restore`).
//! Its messages are read and painted by the answers chunk
//! ([`show_stored`]): a first-time visitor needs neither, so they do not
//! weigh on the first message. The token is handed out once they are shown,
//! so a question goes to the model with the conversation before it (if the
//! chunk takes more than a few seconds, the question goes without, and the
//! conversation shows before it when the chunk comes). Without the chunk,
//! only the stored conversation's id is taken: what is said joins it, and a
//! page that has the chunk shows it all.
//!
//! **Across pages, mid-answer.** When the page goes away (`pagehide`) while
//! an answer arrives, the answer's text so far is stored, marked as cut by
//! the page change, and a note for this tab's next page is left in
//! `sessionStorage` (its key starts with the widget's `storage_key`, so a
//! sign-out forgets it): which answer, when, and the token while it is still
//! good. If the next page mounts within [`RESUME_WITHIN_MS`] and the token
//! is good for a while yet, the widget continues the answer by itself; else
//! the answer shows Continue and Retry. Continuing never asks the question
//! again: the model gets the conversation, then the answer so far as its own
//! last message, and writes the rest, which joins it where it stopped. It is
//! code only an answer that broke off needs, so it lives in the answers
//! chunk ([`crate::chunk`]): the next page's continuing waits for it, and
//! without it the answer offers Retry only.
//!
//! **Across tabs** (`persist: "local"` or `"server"`). Tabs share the
//! conversation in `localStorage`, one key per message (see
//! [`crate::storage`]), and hear each other's writes as `storage` events.
//! A question is sent by the tab it was typed in, and only there: the other
//! tabs show it at once, with "Answering in another tab" under it, and the
//! whole answer when it ends. (Writing the answer per token would cost the
//! sending tab a storage write, and every other tab a parse, per token: the
//! streaming budget goes to the tab the visitor is reading.) One request per
//! question, one writer per message: tabs never
//! send a question twice nor write over each other's messages. What another
//! tab wrote is untrusted input like any stored text: parsed by the strict
//! JSON reader, shown as text or through the Markdown tree, never as HTML.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Event, PageTransitionEvent, StorageEvent};

use ringside_wire::chat::Role;
use ringside_wire::json::{self, Value};

use crate::browser;
use crate::chat::{Chat, view_of};
use crate::chunk::Chunk;
use crate::conversation::Status;
use crate::options::Persist;
use crate::render::StreamView;
use crate::storage;

/// Which messages (by id) make way for a stored conversation shown.
pub type Gone<'a> = &'a dyn Fn(u32) -> bool;

/// How soon the next page must come for the widget to continue an answer
/// cut by a page change by itself.
pub const RESUME_WITHIN_MS: f64 = 10_000.0;

/// How long the previous page's token must stay good for the answer to go on by itself.
const TOKEN_GOOD_FOR_MS: f64 = 5_000.0;

/// The `sessionStorage` key of the note for this tab's next page.
fn note_key(chat: &Chat) -> String {
    chat.with(|i| format!("{}~continue", i.options.storage_key))
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

impl Chat {
    /// The page going away (`pagehide`), coming back from the back-forward
    /// cache (`pageshow`), or another tab's change (`storage`): the panel's
    /// listener hands these over.
    pub(crate) fn window_event(&self, event: &Event) {
        match event.type_().as_str() {
            "storage" => self.changed_elsewhere(event.unchecked_ref()),
            "pagehide" => self.page_hidden(),
            _ if event.unchecked_ref::<PageTransitionEvent>().persisted() => self.reload(),
            _ => {}
        }
    }

    /// The page goes away: the answer arriving is stored as it stands, cut
    /// by the page change, with a note for this tab's next page.
    fn page_hidden(&self) {
        let Some(active) = self.with(|i| i.active.clone()) else {
            return;
        };
        let (Some(view), Some(mut message)) = (
            self.stream_of(active.answer),
            self.read(|c| c.get(active.answer).cloned()),
        ) else {
            return;
        };
        message.text = view.text();
        message.status = Status::Interrupted(self.text("navigated"));
        self.store_as(&message);
        // How long the token stays good, so the next page knows whether to
        // go on by itself; no token goes in the note.
        let until = self.with(|i| i.tokens.cache.current().map_or(0.0, |(_, until)| until));
        let mut note = String::from("{\"k\":");
        json::write_string(&mut note, &message.key);
        note.push_str(",\"at\":");
        json::write_u64(&mut note, browser::now_ms() as u64);
        note.push_str(",\"until\":");
        json::write_u64(&mut note, until as u64);
        note.push('}');
        if let Some(session) = session() {
            let _ = session.set_item(&note_key(self), &note);
        }
        // Also if the page is kept in the back-forward cache: it shows the
        // answer as stored, the next page may continue it.
        active.left.set(true);
        active.controller.abort();
    }

    /// At mount: the previous page of this tab may have left during an
    /// answer. Its note is taken (read once: another page of this tab will
    /// not continue it again) and kept for [`Chat::resume_pending`].
    pub(crate) fn resume(&self) {
        let Some(session) = session() else {
            return;
        };
        let key = note_key(self);
        let note = session.get_item(&key).ok().flatten();
        let _ = session.remove_item(&key);
        self.change(|i| i.resume = note);
    }

    /// The conversation was restored: the note the previous page left, if
    /// any, goes to [`resume`], in the answers chunk (an interrupted answer
    /// is continued only with it; without it, the answer shows Retry).
    pub(crate) fn resume_pending(&self) {
        let Some(Some(note)) = self.change(|i| i.resume.take()) else {
            return;
        };
        let chat = *self;
        spawn_local(async move {
            if let Some(chunk) = crate::chunk::loaded().await
                && chat.alive()
            {
                (chunk.resume)(&chat, &note);
            }
        });
    }

    /// Continues an answer that broke off: what it said stays, and the
    /// model is asked for the rest (never the question again). In the
    /// answers chunk, as is the Continue button that asks for it.
    pub fn continue_answer(&self, id: u32) {
        let Some(message) = self.read(|c| c.get(id).cloned()) else {
            return;
        };
        let question = self.read(|c| c.question_of(id));
        let (Some(question), Status::Interrupted(_)) = (question, &message.status) else {
            return;
        };
        if message.role != Role::Assistant || message.text.is_empty() {
            return;
        }
        if let Some(reason) = self.refuse("continue") {
            self.show(|s| s.notice = Some(reason));
            return;
        }
        self.show(|s| s.notice = None);
        self.edit(|c| c.remove(id));
        self.unstore(&message.key);
        self.forget_stream(id);
        self.ask(question, Some(message.text));
    }

    /// Another tab changed what is stored (a question, an answer started
    /// or finished, a rating, a new conversation): show it as stored.
    fn changed_elsewhere(&self, event: &StorageEvent) {
        let relevant = event.key().is_some_and(|key| {
            self.with(|i| {
                matches!(i.options.persist, Persist::Local | Persist::Server)
                    && i.tokens
                        .customer
                        .as_deref()
                        .is_some_and(|customer| storage::changed(&i.options, customer, &key))
            })
        });
        if relevant {
            self.reload();
        }
    }

    /// Shows the conversation as stored now (another tab changed it; or
    /// this page came back from the back-forward cache, and the next page
    /// may have continued its answer). An answer arriving here stays as it
    /// is. The answers chunk shows stored messages: without it, what is
    /// shown stays.
    pub(crate) fn reload(&self) {
        let chat = *self;
        spawn_local(async move {
            let Some(chunk) = crate::chunk::loaded().await else {
                return;
            };
            if !chat.alive() {
                return;
            }
            let Some(customer) = chat.with(|i| i.tokens.customer.clone()) else {
                return;
            };
            let here = chat.with(|i| i.active.as_ref().map(|a| a.answer));
            chat.restore(Some(chunk), Some(&customer), &|id| Some(id) != here);
        });
    }

    /// Shows `customer`'s stored conversation, in place of the messages
    /// `gone` says go (ids go on from this page's: the transcript knows
    /// messages by id, and must not take a new one for an old one).
    /// Returns the ids of the messages restored. The answers `chunk` reads
    /// and paints them ([`show_stored`]); without it (`None`: it cannot be
    /// had), only the stored conversation's id is taken, so that what is
    /// said here joins it rather than replacing it, and a later page shows
    /// it whole.
    pub(crate) fn restore(
        &self,
        chunk: Option<Chunk>,
        customer: Option<&str>,
        gone: Gone<'_>,
    ) -> std::ops::Range<u32> {
        let id = customer.and_then(|c| self.stored_id(c));
        match (chunk, customer, id) {
            (Some(chunk), Some(customer), Some(id)) => {
                (chunk.show_stored)(self, customer, id, gone)
            }
            // Nothing stored, or no chunk to read it: only its id is taken.
            (_, _, id) => {
                self.edit(|c| {
                    c.drop_where(gone);
                    if let Some(id) = id {
                        c.id = id;
                    }
                });
                self.set_painters(0..0, Vec::new(), gone);
                0..0
            }
        }
    }

    /// The id of the conversation stored for `customer`, if one is.
    pub(crate) fn stored_id(&self, customer: &str) -> Option<String> {
        self.with(|i| storage::stored_id(&i.options, customer))
    }

    /// The answers' painters once a stored conversation is shown: those
    /// `gone` names go, `views` (of the answers among `adopted`, the
    /// messages just taken from storage) join.
    fn set_painters(
        &self,
        adopted: std::ops::Range<u32>,
        views: Vec<(u32, StreamView)>,
        gone: Gone<'_>,
    ) {
        self.change(|i| {
            i.streams.retain(|(id, _)| !gone(*id));
            i.streams.extend(views);
            i.restored = adopted;
        });
    }
}

/// Shows the messages stored of `customer`'s conversation `id`, in place
/// of those `gone` names: `Chat::restore`'s half in the answers chunk,
/// which only a visitor with a stored conversation needs.
pub fn show_stored(
    chat: &Chat,
    customer: &str,
    id: String,
    gone: Gone<'_>,
) -> std::ops::Range<u32> {
    let now = browser::now_ms() as u64;
    let closed = chat.text("closedDuring");
    let stored = chat.with(|i| storage::load(&i.options, customer, id, now, &closed));
    let adopted = chat
        .edit(|c| {
            c.drop_where(gone);
            c.adopt(stored)
        })
        .unwrap_or(0..0);
    let views = chat.read(|c| {
        c.messages()
            .iter()
            .filter(|m| adopted.contains(&m.id) && m.role == Role::Assistant)
            .map(|m| (m.id, view_of(m)))
            .collect()
    });
    chat.set_painters(adopted.clone(), views, gone);
    adopted
}

/// The note the previous page of this tab left (`Chat::resume`), once the
/// conversation is restored and the answers chunk is in (it lives there):
/// if this page came soon enough, and that page's token is good for a
/// while yet (the mint hands it out again), the answer it names is
/// continued; otherwise it shows Continue.
pub fn resume(chat: &Chat, note: &str) {
    let Ok(note) = json::parse(note) else {
        return;
    };
    let number = |name: &str| note.get(name).and_then(Value::as_u64).unwrap_or(0) as f64;
    let now = browser::now_ms();
    if now - number("at") >= RESUME_WITHIN_MS || number("until") - now <= TOKEN_GOOD_FOR_MS {
        return;
    }
    let answer = note.get("k").and_then(Value::as_str);
    if let Some(id) = answer.and_then(|k| chat.read(|c| c.find(k).map(|m| m.id))) {
        chat.continue_answer(id);
    }
}
