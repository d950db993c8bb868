//! Keeping the conversation across page loads, in `sessionStorage` (the
//! default), `localStorage`, or nowhere. What is stored names the customer it
//! belongs to, so another customer's token never sees it.

use crate::conversation::Conversation;
use crate::options::{Options, Persist};

fn storage(persist: Persist) -> Option<web_sys::Storage> {
    let window = web_sys::window()?;
    match persist {
        Persist::Session => window.session_storage().ok().flatten(),
        Persist::Local => window.local_storage().ok().flatten(),
        Persist::None => None,
    }
}

/// One widget's key: a page may hold several widgets, for one or several
/// token endpoints; `name` tells apart those that share one.
fn key(options: &Options) -> String {
    format!(
        "ringside-chat:v1:{}#{}",
        options.token_endpoint, options.name
    )
}

/// The stored conversation and its customer, if any.
pub fn load(options: &Options) -> Option<(String, Conversation)> {
    let text = storage(options.persist)?.get_item(&key(options)).ok()??;
    Conversation::from_json(&text)
}

/// Stores the conversation of `customer` (storage full or blocked: not kept).
pub fn save(options: &Options, customer: &str, conversation: &Conversation) {
    if let Some(storage) = storage(options.persist) {
        let _ = storage.set_item(&key(options), &conversation.to_json(customer));
    }
}

/// Forgets the stored conversation.
pub fn clear(options: &Options) {
    if let Some(storage) = storage(options.persist) {
        let _ = storage.remove_item(&key(options));
    }
}
