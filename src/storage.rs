//! Keeping the conversation across page loads, in `sessionStorage` (the
//! default), `localStorage`, or nowhere.
//!
//! Each customer's conversation has its own key, `{storage_key}{customer}`,
//! and is read only once a token for that customer has arrived: a browser
//! shared by two users of the host app (one signs out, the other signs in)
//! never shows one the other's words. The loader makes `storage_key`, so it
//! can forget a widget's conversations (`signOut`, `clearAll`) without the wasm.
//! Version 1 kept one conversation per widget whoever's it was: it is never
//! read again (`clearAll` removes it).

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

fn key(options: &Options, customer: &str) -> String {
    format!("{}{customer}", options.storage_key)
}

/// The keys of this widget's stored conversations, whoever they belong to.
fn keys(storage: &web_sys::Storage, options: &Options) -> Vec<String> {
    let count = storage.length().unwrap_or(0);
    (0..count)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| k.starts_with(&options.storage_key))
        .collect()
}

/// Whether a conversation of this widget is stored, for any customer: then
/// the widget asks for a token at mount, to learn whose it may show.
pub fn any(options: &Options) -> bool {
    storage(options.persist).is_some_and(|storage| !keys(&storage, options).is_empty())
}

/// The conversation stored for `customer`, if any (one that names another
/// customer inside is not theirs, and is not shown).
pub fn load(options: &Options, customer: &str) -> Option<Conversation> {
    let text = storage(options.persist)?
        .get_item(&key(options, customer))
        .ok()??;
    Conversation::from_json(&text)
        .filter(|(stored, _)| stored == customer)
        .map(|(_, conversation)| conversation)
}

/// Stores the conversation of `customer` (storage full or blocked: not kept).
pub fn save(options: &Options, customer: &str, conversation: &Conversation) {
    if let Some(storage) = storage(options.persist) {
        let _ = storage.set_item(&key(options, customer), &conversation.to_json(customer));
    }
}

/// Forgets the stored conversation of `customer`.
pub fn clear(options: &Options, customer: &str) {
    if let Some(storage) = storage(options.persist) {
        let _ = storage.remove_item(&key(options, customer));
    }
}

/// Forgets this widget's stored conversations, whoever they belong to (the
/// user signed out, or the mint no longer knows them).
pub fn clear_all(options: &Options) {
    if let Some(storage) = storage(options.persist) {
        for key in keys(&storage, options) {
            let _ = storage.remove_item(&key);
        }
    }
}
