//! Keeping the conversation across page loads, in `sessionStorage` (the
//! default), `localStorage` (`local`, and `server`, which also keeps it in
//! a Ringside thread), or nowhere.
//!
//! Each customer's conversation has its own keys, `{storage_key}{customer}`
//! (the conversation's id) and `{storage_key}{customer}/{key}`
//! for each message, and is read only once a token for that customer has
//! arrived: a browser shared by two users of the host app (one signs out,
//! the other signs in) never shows one the other's words. The loader makes
//! `storage_key`, so it can forget a widget's conversations (`signOut`,
//! `clearAll`) without the wasm.
//!
//! One key per message is what lets two tabs share a conversation in
//! `localStorage`: a tab writes only the messages it changed, so it never
//! writes over another tab's, and the other tabs hear of each change
//! through the `storage` event ([`changed`] tells which are this widget's).

use crate::conversation::{Conversation, Message};
use crate::options::{Options, Persist};

fn storage(persist: Persist) -> Option<web_sys::Storage> {
    let window = web_sys::window()?;
    match persist {
        Persist::Session => window.session_storage().ok().flatten(),
        Persist::Local | Persist::Server => window.local_storage().ok().flatten(),
        Persist::None => None,
    }
}

/// The key of the conversation of `customer`.
fn key(options: &Options, customer: &str) -> String {
    format!("{}{customer}", options.storage_key)
}

/// The key of the message `message` of `customer`'s conversation.
fn message_key(options: &Options, customer: &str, message: &str) -> String {
    format!("{}{customer}/{message}", options.storage_key)
}

/// The keys starting with `prefix`.
fn keys(storage: &web_sys::Storage, prefix: &str) -> Vec<String> {
    let count = storage.length().unwrap_or(0);
    (0..count)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| k.starts_with(prefix))
        .collect()
}

/// Whether a conversation of this widget is stored, for any customer: then
/// the widget asks for a token at mount, to learn whose it may show.
pub fn any(options: &Options) -> bool {
    storage(options.persist).is_some_and(|storage| !keys(&storage, &options.storage_key).is_empty())
}

/// The id of the conversation stored for `customer`, if one is (a foreign
/// format is not one).
pub fn stored_id(options: &Options, customer: &str) -> Option<String> {
    let storage = storage(options.persist)?;
    Conversation::from_meta(&storage.get_item(&key(options, customer)).ok()??)
}

/// The messages stored of `customer`'s conversation `id`, in order; `now`
/// and `closed` judge answers another tab was receiving (see
/// [`Message::from_json`]). Messages left by a tab that wrote them after the
/// conversation was replaced are removed. Only a visitor with a stored
/// conversation needs it, so it is in the answers chunk ([`crate::chunk`]).
pub fn load(options: &Options, customer: &str, id: String, now: u64, closed: &str) -> Conversation {
    let mut conversation = Conversation::new(id, String::new());
    let Some(storage) = storage(options.persist) else {
        return conversation;
    };
    let prefix = message_key(options, customer, "");
    for stored in keys(&storage, &prefix) {
        let text = storage.get_item(&stored).ok().flatten().unwrap_or_default();
        match Message::from_json(&stored[prefix.len()..], &text, now, closed) {
            Some((of, message)) if of == conversation.id => {
                conversation.insert(message);
            }
            _ => {
                let _ = storage.remove_item(&stored);
            }
        }
    }
    conversation
}

/// Stores what `customer`'s conversation is (its id), not its messages
/// (storage full or blocked: not kept).
pub fn save_meta(options: &Options, customer: &str, conversation: &Conversation) {
    if let Some(storage) = storage(options.persist) {
        let _ = storage.set_item(&key(options, customer), &conversation.meta_json());
    }
}

/// Stores one message of `customer`'s conversation `conversation`, written at `now`.
pub fn save_message(
    options: &Options,
    customer: &str,
    conversation: &str,
    message: &Message,
    now: u64,
) {
    if let Some(storage) = storage(options.persist) {
        let _ = storage.set_item(
            &message_key(options, customer, &message.key),
            &message.to_json(conversation, now),
        );
    }
}

/// Forgets one message of `customer`'s conversation.
pub fn remove_message(options: &Options, customer: &str, message: &str) {
    if let Some(storage) = storage(options.persist) {
        let _ = storage.remove_item(&message_key(options, customer, message));
    }
}

/// Forgets the stored conversation of `customer`.
pub fn clear(options: &Options, customer: &str) {
    if let Some(storage) = storage(options.persist) {
        let _ = storage.remove_item(&key(options, customer));
        for key in keys(&storage, &message_key(options, customer, "")) {
            let _ = storage.remove_item(&key);
        }
    }
}

/// Forgets this widget's stored conversations, whoever they belong to (the
/// user signed out, or the mint no longer knows them).
pub fn clear_all(options: &Options) {
    if let Some(storage) = storage(options.persist) {
        for key in keys(&storage, &options.storage_key) {
            let _ = storage.remove_item(&key);
        }
    }
}

/// Whether a change of the stored `key` (another tab's `storage` event)
/// concerns `customer`'s conversation: other widgets' and other customers'
/// keys do not.
pub fn changed(options: &Options, customer: &str, key: &str) -> bool {
    key.strip_prefix(&options.storage_key)
        .and_then(|rest| rest.strip_prefix(customer))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn only_this_widgets_keys_of_this_customer_are_changes() {
        let options = Options {
            storage_key: "rc:v2:/t#@".into(),
            ..Options::default()
        };
        for ours in ["rc:v2:/t#@cus_1", "rc:v2:/t#@cus_1/b.7"] {
            assert!(changed(&options, "cus_1", ours), "{ours}");
        }
        for other in [
            "rc:v2:/t#@cus_12",
            "rc:v2:/t#@cus_12/x",
            "rc:v2:/t#2@cus_1",
            "cus_1",
            "",
        ] {
            assert!(!changed(&options, "cus_1", other), "{other}");
        }
    }
}
