//! Every text the widget shows, overridable by the host (`strings` option).
//! English is built in; the loader fetches another language's texts
//! (`ringside-chat.<locale>.json`) only for a page in that language and
//! hands them over as `strings`, under the host's own. Templates take `{n}`
//! placeholders, written as the page's language writes numbers (`Intl`).

use ringside_wire::json::Value;

/// The built-in English strings, by key.
const DEFAULTS: &[(&str, &str)] = &[
    // The launcher's, used by the loader.
    ("openChat", "Open chat"),
    ("closeChat", "Close chat"),
    ("unread", "{n} unread"),
    ("send", "Send"),
    ("stop", "Stop"),
    ("message", "Message"),
    ("newConversation", "New conversation"),
    ("close", "Close chat"),
    ("copyMessage", "Copy message"),
    ("copy", "Copy"),
    ("copied", "Copied"),
    ("regenerate", "Regenerate"),
    ("regenerateAnswer", "Regenerate answer"),
    ("retry", "Retry"),
    ("notSent", "Not sent."),
    ("stopped", "Stopped."),
    ("typing", "Assistant is typing"),
    ("jumpToLatest", "Jump to latest"),
    ("you", "You"),
    ("assistant", "Assistant"),
    ("empty", "Type a message first."),
    (
        "tooLong",
        "Your message is {n} characters long; the limit is {max}.",
    ),
    ("busy", "Wait for the answer to finish, or stop it."),
    (
        "cooldown",
        "Too many messages. You can send again in {n} s.",
    ),
    ("unavailable", "Chat is unavailable on this page."),
    (
        "outOfCredit",
        "This chat is out of credit for now. Please come back later.",
    ),
    (
        "network",
        "Can't reach the chat service. Check your connection and try again.",
    ),
    ("interrupted", "The answer was interrupted."),
    ("stalled", "The answer stopped arriving."),
    ("closedDuring", "The page was closed during the answer."),
    (
        "rateLimited",
        "Too many messages at once. Please wait a moment.",
    ),
    (
        "serverError",
        "The chat service is having trouble. Please try again.",
    ),
    ("failed", "Something went wrong. Please try again."),
    ("continue", "Continue"),
    ("navigated", "You left the page during this answer."),
    ("elsewhere", "Answering in another tab"),
    ("helpful", "Helpful"),
    ("notHelpful", "Not helpful"),
    ("feedbackReason", "Tell us why (optional)"),
    ("thanks", "Thanks for your feedback."),
    ("history", "Past conversations"),
    ("noHistory", "No past conversations yet."),
    (
        "historyFailed",
        "Your past conversations could not be loaded.",
    ),
    ("loading", "Loading…"),
    ("backToChat", "Back to the chat"),
];

/// The strings of one widget: the defaults with the host's overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Strings {
    overrides: Vec<(String, String)>,
    /// The language numbers are written in (a BCP 47 tag; empty: English).
    pub locale: String,
}

impl Strings {
    /// Reads the `strings` option (an object of key → text); unknown keys
    /// and non-string values are reported and ignored.
    pub fn from_value(value: &Value<'_>, problems: &mut Vec<String>) -> Strings {
        let mut overrides = Vec::new();
        let Value::Object(members) = value else {
            problems.push("option `strings` must be an object of texts".into());
            return Strings::default();
        };
        for (key, text) in members {
            match (DEFAULTS.iter().any(|(k, _)| k == key), text.as_str()) {
                (true, Some(text)) => overrides.push((key.to_string(), text.to_string())),
                (false, _) => problems.push(format!("unknown string `{key}`")),
                (true, None) => problems.push(format!("string `{key}` must be text")),
            }
        }
        Strings {
            overrides,
            locale: String::new(),
        }
    }

    /// The text for `key`.
    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        if let Some((_, text)) = self.overrides.iter().rev().find(|(k, _)| k == key) {
            return text;
        }
        DEFAULTS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key, |(_, text)| text)
    }

    /// The text for `key` with `{n}` (and `{max}`) filled in.
    pub fn fill(&self, key: &str, n: usize, max: usize) -> String {
        let text = fill_in(self.get(key), "{n}", &self.number(n));
        fill_in(&text, "{max}", &self.number(max))
    }

    /// `n` as the page's language writes it (`Intl.NumberFormat`): 4,000 in
    /// English, 4.000 in German, ٤٬٠٠٠ in Arabic.
    pub fn number(&self, n: usize) -> String {
        #[cfg(target_arch = "wasm32")]
        {
            let locale = if self.locale.is_empty() {
                "en"
            } else {
                &self.locale
            };
            js_sys::Number::from(n as f64)
                .to_locale_string(locale)
                .into()
        }
        #[cfg(not(target_arch = "wasm32"))]
        n.to_string()
    }
}

/// `template` with every `placeholder` in it replaced by `value`. Written
/// out rather than `str::replace`, whose substring search is the largest
/// piece of text code the widget would otherwise carry.
fn fill_in(template: &str, placeholder: &str, value: &str) -> String {
    let mut out = String::with_capacity(template.len() + value.len());
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if !placeholder.is_empty()
            && let Some(after) = rest.strip_prefix(placeholder)
        {
            out.push_str(value);
            rest = after;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_wire::json::parse;
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn placeholders_are_filled_everywhere_and_nothing_else_changes() {
        assert_eq!(fill_in("{n}s, {n}!", "{n}", "3"), "3s, 3!");
        assert_eq!(fill_in("é{n}{n", "{n}", "42"), "é42{n");
        assert_eq!(fill_in("no placeholder", "{n}", "1"), "no placeholder");
        assert_eq!(fill_in("{n}", "", "x"), "{n}");
        assert_eq!(fill_in("", "{n}", "x"), "");
    }

    #[test]
    fn overrides_replace_defaults_and_templates_fill() {
        let mut problems = Vec::new();
        let value =
            parse(r#"{"send":"Envoyer","tooLong":"{n}/{max}","bogus":"x","retry":3}"#).unwrap();
        let strings = Strings::from_value(&value, &mut problems);
        assert_eq!(strings.get("send"), "Envoyer");
        assert_eq!(strings.get("stop"), "Stop");
        assert_eq!(strings.fill("tooLong", 25, 20), "25/20");
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    /// Issue 17: every bundled language says every text the widget shows
    /// (and the title, placeholder and welcome the loader takes from it),
    /// nothing else, and keeps each template's placeholders.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn every_bundled_language_has_every_text_and_its_placeholders() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("js/locales");
        let mut languages = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let tag = name
                .strip_prefix("ringside-chat.")
                .and_then(|n| n.strip_suffix(".json"))
                .unwrap_or_else(|| panic!("{name}: named ringside-chat.<locale>.json"))
                .to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let Ok(ringside_wire::json::Value::Object(members)) = parse(&text) else {
                panic!("{name} is a JSON object");
            };
            let mut keys: Vec<&str> = members.iter().map(|(k, _)| k.as_ref()).collect();
            keys.sort_unstable();
            let mut wanted: Vec<&str> = DEFAULTS.iter().map(|(k, _)| *k).collect();
            wanted.extend(["title", "placeholder", "welcome"]);
            wanted.sort_unstable();
            assert_eq!(keys, wanted, "{name} has exactly the widget's keys");
            for (key, translated) in &members {
                let translated = translated.as_str().unwrap_or_default();
                assert!(!translated.trim().is_empty(), "{name}: {key} is empty");
                let english = DEFAULTS
                    .iter()
                    .find(|(k, _)| k == key)
                    .map_or("", |(_, e)| e);
                for placeholder in ["{n}", "{max}"] {
                    assert_eq!(
                        english.contains(placeholder),
                        translated.contains(placeholder),
                        "{name}: {key} keeps {placeholder}"
                    );
                }
            }
            languages.push(tag);
        }
        languages.sort();
        let mut loader: Vec<String> = LOADER_LOCALES.iter().map(|l| l.to_string()).collect();
        loader.sort();
        assert_eq!(
            languages, loader,
            "the loader offers exactly the bundled languages"
        );
    }

    /// The languages the loader knows (`LOCALES` in js/ringside-chat.js).
    #[cfg(not(target_arch = "wasm32"))]
    const LOADER_LOCALES: &[&str] = &[
        "es", "fr", "de", "pt-BR", "it", "nl", "ja", "zh-CN", "ko", "ar", "he", "hi", "ru", "pl",
        "tr",
    ];

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_loader_lists_the_bundled_languages() {
        let loader = include_str!("../js/ringside-chat.js");
        let list = LOADER_LOCALES
            .iter()
            .map(|l| format!("\"{l}\""))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(
            loader.contains(&format!("var LOCALES = [{list}];")),
            "js/ringside-chat.js lists {list}"
        );
        // The npm entry spells out each language's import, for bundlers.
        let npm = include_str!("../js/npm/index.js");
        for l in LOADER_LOCALES {
            let import = format!("\"{l}\": () => import(\"./ringside-chat.{l}.json\"),");
            assert!(npm.contains(&import), "js/npm/index.js lacks {import}");
        }
    }

    #[test]
    fn every_key_the_widget_uses_has_a_default() {
        let strings = Strings::default();
        for (key, text) in DEFAULTS {
            assert_eq!(strings.get(key), *text);
        }
    }

    /// Where the code asks for a string by its key: `.text("key")` (the
    /// chat's), `strings.get(…)` and `s.get(…)` (a `Strings`), `.fill("key", …)`,
    /// and the keys [`crate::error::ChatError::user_message`] returns. Every
    /// literal in such a call's first argument counts (`if user { "you" }
    /// else { "assistant" }` gives two).
    #[cfg(not(target_arch = "wasm32"))]
    fn keys_asked_for(file: &str, text: &str, found: &mut Vec<(String, String)>) {
        let literals = |code: &str, found: &mut Vec<(String, String)>| {
            for (i, piece) in code.split('"').enumerate() {
                if i % 2 == 1 {
                    found.push((file.to_string(), piece.to_string()));
                }
            }
        };
        for call in [".text(", "strings.get(", " s.get(", "(s.get(", ".fill("] {
            for (at, _) in text.match_indices(call) {
                // The first argument: up to a comma or the closing
                // parenthesis at its own depth.
                let argument = &text[at + call.len()..];
                let mut depth = 0;
                let end = argument
                    .find(|c| {
                        match c {
                            '(' | '{' | '[' => depth += 1,
                            ')' | '}' | ']' if depth == 0 => return true,
                            ')' | '}' | ']' => depth -= 1,
                            ',' if depth == 0 => return true,
                            _ => {}
                        }
                        false
                    })
                    .unwrap_or(argument.len());
                literals(&argument[..end], found);
            }
        }
        if let Some(at) = text.find("fn user_message(") {
            let body = &text[at..];
            let end = body.find("\n    }\n").unwrap_or(body.len());
            literals(&body[..end], found);
        }
    }

    /// A misspelled key would show the key itself on screen: it fails here.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn every_key_the_code_asks_for_has_a_default() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(src).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("strings.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                keys_asked_for(&path.display().to_string(), &text, &mut found);
            }
        }
        // The scan itself must keep finding them (the panel's, the
        // transcript's, the errors').
        for key in ["send", "copied", "stopped", "you", "cooldown", "network"] {
            assert!(
                found.iter().any(|(_, k)| k == key),
                "the scan missed `{key}`: {found:?}"
            );
        }
        for (file, key) in &found {
            assert!(
                DEFAULTS.iter().any(|(k, _)| k == key),
                "{file} asks for the string `{key}`, which has no default in DEFAULTS"
            );
        }
    }

    /// The loader shows its few texts before the wasm is there, with the same
    /// English defaults.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_loaders_texts_are_keys_with_the_same_defaults() {
        let loader = crate::project_files::read("js/ringside-chat.js");
        let calls: Vec<&str> = loader.split("text(\"").skip(1).collect();
        assert!(calls.len() >= 3, "the loader's text(…) calls: {calls:?}");
        for call in calls {
            let (key, rest) = call
                .split_once("\", \"")
                .expect("text(\"key\", \"fallback\")");
            let fallback = rest.split('"').next().unwrap();
            assert_eq!(
                DEFAULTS.iter().find(|(k, _)| *k == key).map(|(_, t)| *t),
                Some(fallback),
                "the loader's `{key}`"
            );
        }
    }

    /// The npm package's `ChatStrings` type names exactly the keys there are.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_typescript_types_name_every_string() {
        let mut keys: Vec<String> = DEFAULTS.iter().map(|(k, _)| k.to_string()).collect();
        keys.sort();
        assert_eq!(
            crate::project_files::typescript_members("ChatStrings"),
            keys
        );
    }
}
