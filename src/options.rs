//! The widget's options: the same names whether they come from `data-*`
//! attributes, custom-element attributes or the JS `mount(options)` call
//! (the loader turns each into this JSON, camelCase as in `dataset`).
//!
//! [`TABLE`] is the one list of the option names. The loader's `OPTIONS`
//! (`js/ringside-chat.js`), the npm package's `ChatOptions`
//! (`js/npm/index.d.ts`) and the README's table are held to it by this
//! module's tests, and so is [`Options::from_json`], which must read every
//! option the table says the widget reads.

use ringside_wire::json::{self, Value};

use crate::strings::Strings;

/// Where the conversation is kept between page loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persist {
    /// `sessionStorage`: survives reloads and navigation in this tab.
    Session,
    /// `localStorage`: survives closing the browser, shared by its tabs.
    Local,
    /// A Ringside thread of the customer (and `localStorage`): a signed-in
    /// user finds the conversation on another device.
    Server,
    /// Nowhere.
    None,
}

/// How the widget sits on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A launcher in a corner opens a floating panel.
    Floating,
    /// The panel fills a container of the host's page, always open.
    Inline,
}

/// How the token request carries credentials (`fetch`'s `credentials`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// Cookies for the page's own origin only (the default).
    SameOrigin,
    /// Cookies even for a token endpoint on another origin.
    Include,
    /// No cookies.
    Omit,
}

/// What the host page can configure.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Floating (launcher and panel) or inline (a panel in a container).
    pub mode: Mode,
    /// How the token request carries cookies.
    pub token_credentials: Credentials,
    /// Extra headers for the token request (e.g. the host's CSRF token).
    pub token_headers: Vec<(String, String)>,
    /// Where the user is (page, section, plan), sent with each question.
    pub context: Option<String>,
    /// The texts the widget shows.
    pub strings: Strings,
    /// Tells apart the stored conversations of widgets that share a token endpoint.
    pub name: String,
    /// What this widget's stored conversations are keyed by, before the
    /// customer's id. The loader makes it (`storageKey`, not an option a
    /// page can set), so it can forget them without the wasm.
    pub storage_key: String,
    /// The host's mint route; POSTed to for a Client Token. A path of the
    /// page's own origin, or an https URL (http only on loopback).
    pub token_endpoint: String,
    /// The Ringside gateway, used only when the mint names none (the mint's
    /// `api_base` wins: page markup can be injected, the mint cannot). An
    /// https URL (http only on loopback).
    pub api_base: Option<String>,
    /// The model to chat with.
    pub model: String,
    /// The panel's title, which also names the dialog.
    pub title: String,
    /// The placeholder of the message box.
    pub placeholder: String,
    /// Shown when the conversation is empty.
    pub welcome: String,
    /// Questions offered when the conversation is empty.
    pub suggestions: Vec<String>,
    /// The longest message accepted, in characters.
    pub max_length: usize,
    /// How many past messages are sent with each question.
    pub history_limit: usize,
    /// Where the conversation is kept.
    pub persist: Persist,
    /// Shown when the customer is out of credit; empty: the `outOfCredit` string.
    pub out_of_credit_message: String,
    /// An answer that sends nothing for this long is interrupted.
    pub stall_timeout_ms: u32,
    /// Where the visitor's ratings of answers are POSTed (none: only the
    /// `feedback` event). A path of this site or an https URL.
    pub feedback_endpoint: Option<String>,
}

/// Who reads an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBy {
    /// The loader alone, in JS, before any wasm (the launcher, the host element).
    Loader,
    /// The widget alone ([`Options::from_json`]).
    Widget,
    /// Both.
    Both,
}

/// One option a page can set.
#[derive(Debug, Clone, Copy)]
pub struct OptionName {
    /// Its name, camelCase (kebab-case in attributes).
    pub name: &'static str,
    /// Who reads it.
    pub read_by: ReadBy,
    /// A value other than its default, as JSON: the tests mount with it to
    /// see that it is read.
    pub example: &'static str,
}

const fn option(name: &'static str, read_by: ReadBy, example: &'static str) -> OptionName {
    OptionName {
        name,
        read_by,
        example,
    }
}

/// Every option a page can set, in the order the README lists them. To add
/// one: a row here, a field of [`Options`] (and its reading in
/// [`Options::from_json`]) if the widget reads it, its name in the loader's
/// `OPTIONS`, its type and doc in `ChatOptions`, a row in the README; the
/// tests name whichever is missing.
pub const TABLE: &[OptionName] = &[
    option("tokenEndpoint", ReadBy::Both, r#""/api/other-token""#),
    option("tokenCredentials", ReadBy::Widget, r#""include""#),
    option("tokenHeaders", ReadBy::Widget, r#"{"x-csrf-token":"abc"}"#),
    option("apiBase", ReadBy::Widget, r#""https://gateway.example""#),
    option("model", ReadBy::Widget, r#""fc:openai/gpt-4o""#),
    option("title", ReadBy::Widget, r#""Help""#),
    option("welcome", ReadBy::Widget, r#""Hello""#),
    option("suggestions", ReadBy::Widget, r#"["Pricing?"]"#),
    option("placeholder", ReadBy::Widget, r#""Type here""#),
    option("theme", ReadBy::Loader, r#""dark""#),
    option("position", ReadBy::Loader, r#""left""#),
    option("mode", ReadBy::Both, r#""inline""#),
    option("container", ReadBy::Loader, r##""#chat""##),
    option("open", ReadBy::Loader, "true"),
    option("persist", ReadBy::Widget, r#""local""#),
    option("context", ReadBy::Widget, r#"{"page":"/pricing"}"#),
    option("strings", ReadBy::Both, r#"{"send":"Envoyer"}"#),
    option("dir", ReadBy::Loader, r#""rtl""#),
    option("maxLength", ReadBy::Widget, "200"),
    option("historyLimit", ReadBy::Widget, "5"),
    option("outOfCreditMessage", ReadBy::Widget, r#""Top up, please""#),
    option("stallTimeoutMs", ReadBy::Widget, "3000"),
    option("name", ReadBy::Both, r#""help""#),
    option(
        "feedbackEndpoint",
        ReadBy::Widget,
        r#""/api/chat-feedback""#,
    ),
    option("locale", ReadBy::Both, r#""fr""#),
];

/// The public gateway, when neither the page nor the mint names one.
pub const DEFAULT_API_BASE: &str = "https://api.fightclub.pro";

impl Default for Options {
    fn default() -> Self {
        let mut options = Options {
            mode: Mode::Floating,
            token_credentials: Credentials::SameOrigin,
            token_headers: Vec::new(),
            context: None,
            strings: Strings::default(),
            name: String::new(),
            storage_key: String::new(),
            token_endpoint: "/api/chat-token".into(),
            api_base: None,
            model: "fc:openai/gpt-4o-mini".into(),
            title: "Chat with us".into(),
            placeholder: "Ask a question…".into(),
            welcome: "Hi! Ask me anything.".into(),
            suggestions: Vec::new(),
            max_length: 4000,
            history_limit: 20,
            persist: Persist::Session,
            out_of_credit_message: String::new(),
            stall_timeout_ms: 30_000,
            feedback_endpoint: None,
        };
        options.storage_key = format!("ringside-chat:v2:{}#@", options.token_endpoint);
        options
    }
}

impl Options {
    /// Reads options from the loader's JSON. Unknown names are ignored; a bad
    /// value keeps its default and is reported, for one clear console error.
    pub fn from_json(text: &str) -> (Options, Vec<String>) {
        let mut options = Options::default();
        let mut problems = Vec::new();
        let value = match json::parse(text) {
            Ok(value @ Value::Object(_)) => value,
            _ => {
                problems.push("the options are not a JSON object; using defaults".to_string());
                return (options, problems);
            }
        };
        let mut bad = |name: &str, wanted: &str| {
            problems.push(format!(
                "option `{name}` must be {wanted}; using the default"
            ))
        };

        let text_of = |name: &str| match value.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(()),
        };
        for (name, slot) in [
            ("tokenEndpoint", &mut options.token_endpoint),
            ("model", &mut options.model),
            ("title", &mut options.title),
            ("placeholder", &mut options.placeholder),
            ("outOfCreditMessage", &mut options.out_of_credit_message),
        ] {
            match text_of(name) {
                Ok(Some(s)) if !s.is_empty() => *slot = s,
                Ok(None) => {}
                _ => bad(name, "a non-empty string"),
            }
        }
        if !is_trusted_url(&options.token_endpoint, true) {
            bad(
                "tokenEndpoint",
                "a path of this site or an https URL (http only on loopback)",
            );
            options.token_endpoint = Options::default().token_endpoint;
        }
        match text_of("name") {
            Ok(Some(s)) => options.name = s,
            Ok(None) => {}
            Err(()) => bad("name", "a string"),
        }
        options.storage_key = match text_of("storageKey") {
            Ok(Some(s)) if !s.is_empty() => s,
            _ => format!(
                "ringside-chat:v2:{}#{}@",
                options.token_endpoint, options.name
            ),
        };
        match text_of("welcome") {
            Ok(Some(s)) => options.welcome = s,
            Ok(None) => {}
            Err(()) => bad("welcome", "a string"),
        }
        match text_of("apiBase") {
            Ok(Some(s)) if is_trusted_url(&s, false) => {
                options.api_base = Some(s.trim_end_matches('/').to_string());
            }
            Ok(None) => {}
            _ => bad("apiBase", "an https URL (http only on loopback)"),
        }
        match value.get("suggestions") {
            None | Some(Value::Null) => {}
            // From JS: an array of strings.
            Some(Value::Array(items)) if items.iter().all(|i| i.as_str().is_some()) => {
                options.suggestions = items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
            }
            // From a data-* attribute: `A | B | C`.
            Some(Value::String(s)) => {
                options.suggestions = s
                    .split('|')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            Some(_) => bad("suggestions", "a list of strings, or one string split by |"),
        }
        let mut number = |name: &str, min: u64, max: u64| -> Option<u64> {
            let n = match value.get(name)? {
                Value::Null => return None,
                Value::String(s) => s.trim().parse().ok(),
                other => other.as_u64(),
            };
            match n {
                Some(n) if (min..=max).contains(&n) => Some(n),
                _ => {
                    problems.push(format!("option `{name}` must be a whole number from {min} to {max}; using the default"));
                    None
                }
            }
        };
        if let Some(n) = number("maxLength", 1, 100_000) {
            options.max_length = n as usize;
        }
        if let Some(n) = number("historyLimit", 1, 200) {
            options.history_limit = n as usize;
        }
        if let Some(n) = number("stallTimeoutMs", 500, 600_000) {
            options.stall_timeout_ms = n as u32;
        }
        match text_of("mode").as_ref().map(|s| s.as_deref()) {
            Ok(None | Some("floating")) => {}
            Ok(Some("inline")) => options.mode = Mode::Inline,
            _ => problems.push("option `mode` must be floating or inline; using floating".into()),
        }
        match text_of("tokenCredentials").as_ref().map(|s| s.as_deref()) {
            Ok(None | Some("same-origin")) => {}
            Ok(Some("include")) => options.token_credentials = Credentials::Include,
            Ok(Some("omit")) => options.token_credentials = Credentials::Omit,
            _ => problems.push(
                "option `tokenCredentials` must be same-origin, include or omit; using same-origin"
                    .into(),
            ),
        }
        // Objects may come as JSON text from a `data-*` attribute.
        let object_of = |name: &str, problems: &mut Vec<String>| -> Option<String> {
            match value.get(name) {
                None | Some(Value::Null) => None,
                Some(Value::String(text)) => Some(text.to_string()),
                Some(object @ Value::Object(_)) => Some(compact(object)),
                Some(_) => {
                    problems.push(format!("option `{name}` must be an object"));
                    None
                }
            }
        };
        if let Some(text) = object_of("tokenHeaders", &mut problems) {
            match json::parse(&text) {
                Ok(Value::Object(members)) if members.iter().all(|(_, v)| v.as_str().is_some()) => {
                    options.token_headers = members
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.as_str().unwrap_or("").to_string()))
                        .collect();
                }
                _ => problems.push(
                    "option `tokenHeaders` must be an object of header names to texts".into(),
                ),
            }
        }
        if let Some(text) = object_of("strings", &mut problems) {
            match json::parse(&text) {
                Ok(value) => options.strings = Strings::from_value(&value, &mut problems),
                Err(_) => problems.push("option `strings` must be an object of texts".into()),
            }
        }
        // Context is free-form: an object (sent as JSON) or a sentence.
        match value.get("context") {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => options.context = Some(text.to_string()),
            Some(other) => options.context = Some(compact(other)),
        }
        match text_of("persist").as_ref().map(|s| s.as_deref()) {
            Ok(None) => {}
            Ok(Some("session")) => options.persist = Persist::Session,
            Ok(Some("local")) => options.persist = Persist::Local,
            Ok(Some("none")) => options.persist = Persist::None,
            Ok(Some("server")) => options.persist = Persist::Server,
            _ => problems.push(
                "option `persist` must be session, local, server or none; using session".into(),
            ),
        }
        match text_of("feedbackEndpoint") {
            Ok(None) => {}
            Ok(Some(s)) if is_trusted_url(&s, true) => options.feedback_endpoint = Some(s),
            _ => problems.push(
                "option `feedbackEndpoint` must be a path of this site or an https URL (http only on loopback)"
                    .into(),
            ),
        }
        // The loader resolved it (the option, the page's `lang`, the
        // browser's languages); numbers and times are written in it.
        if let Ok(Some(locale)) = text_of("locale") {
            options.strings.locale = locale;
        }
        (options, problems)
    }
}

/// `value` as compact JSON text.
fn compact(value: &Value<'_>) -> String {
    let mut text = String::new();
    json::write_value(&mut text, value);
    text
}

/// Whether the widget may send questions or credentials to `url`: an https
/// URL, or http on a loopback host (development and tests), or, when
/// `relative` allows it, a path of the page's own origin. A host page's markup
/// can be injected (CMS fields, comments), so a plain-http or odd URL from it
/// is refused rather than trusted.
pub fn is_trusted_url(url: &str, relative: bool) -> bool {
    // Bytes, not `str` patterns: their searchers are a good share of the
    // text code in the wasm (see BENCHMARKS.md), and every character that
    // matters here is ASCII.
    let bytes = url.as_bytes();
    let head = bytes
        .iter()
        .position(|c| matches!(c, b'/' | b'?' | b'#'))
        .unwrap_or(bytes.len());
    // No scheme: a path of this origin, `/api/chat-token`; never
    // `//other.host/…`, which takes the page's scheme, perhaps http.
    if !bytes[..head].contains(&b':') {
        return relative && !url.is_empty() && !url.starts_with("//") && !url.starts_with('\\');
    }
    let lower = url.to_ascii_lowercase();
    let (https, rest) = match (
        lower.strip_prefix("https://"),
        lower.strip_prefix("http://"),
    ) {
        (Some(rest), _) => (true, rest.as_bytes()),
        (None, Some(rest)) => (false, rest.as_bytes()),
        _ => return false,
    };
    // The host, without credentials (`https://good@evil` is refused) or port.
    let end = rest
        .iter()
        .position(|c| matches!(c, b'/' | b'?' | b'#' | b'\\'))
        .unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = match authority.iter().rposition(|c| *c == b':') {
        Some(colon) if !authority[colon..].contains(&b']') => &authority[..colon],
        _ => authority,
    };
    if host.is_empty() || authority.contains(&b'@') {
        return false;
    }
    // 127.x.y.z, four parts of one to three digits, each at most 255.
    let (mut parts, mut value, mut digits) = (1, 0u32, 0);
    let v4_loopback = host.starts_with(b"127.")
        && host.iter().all(|c| match c {
            b'.' => {
                let whole = digits > 0;
                (parts, value, digits) = (parts + 1, 0, 0);
                whole
            }
            b'0'..=b'9' => {
                (value, digits) = (value * 10 + u32::from(c - b'0'), digits + 1);
                value <= 255 && digits <= 3
            }
            _ => false,
        })
        && digits > 0
        && parts == 4;
    https || v4_loopback || host == b"localhost" || host == b"[::1]"
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(not(target_arch = "wasm32"))]
    use crate::project_files::{names_in, typescript_members};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn missing_options_take_their_defaults() {
        let (options, problems) = Options::from_json(
            r#"{"tokenEndpoint":"/t","title":"Help","apiBase":"https://x/","unknown":1}"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(options.api_base.as_deref(), Some("https://x"));
        assert_eq!(options.token_endpoint, "/t");
        assert_eq!(options.title, "Help");
        assert_eq!(options.model, Options::default().model);
    }

    #[test]
    fn data_attributes_and_js_values_both_work() {
        let (from_data, problems) = Options::from_json(
            r#"{"suggestions":"Pricing? | Docs? |","maxLength":"200","persist":"local","stallTimeoutMs":"3000"}"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let (from_js, _) = Options::from_json(
            r#"{"suggestions":["Pricing?","Docs?"],"maxLength":200,"persist":"local","stallTimeoutMs":3000}"#,
        );
        assert_eq!(from_data, from_js);
        assert_eq!(from_js.suggestions, ["Pricing?", "Docs?"]);
        assert_eq!(
            (
                from_js.max_length,
                from_js.persist,
                from_js.stall_timeout_ms
            ),
            (200, Persist::Local, 3000)
        );
    }

    #[test]
    fn objects_come_from_js_or_as_json_text_from_attributes() {
        let (from_js, problems) = Options::from_json(
            r#"{"mode":"inline","tokenHeaders":{"x-csrf-token":"abc"},"strings":{"send":"Envoyer"},"context":{"page":"/pricing","plan":"pro"},"tokenCredentials":"include"}"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let (from_data, problems) = Options::from_json(
            r#"{"mode":"inline","tokenHeaders":"{\"x-csrf-token\":\"abc\"}","strings":"{\"send\":\"Envoyer\"}","context":"{\"page\":\"/pricing\",\"plan\":\"pro\"}","tokenCredentials":"include"}"#,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(from_js, from_data);
        assert_eq!(from_js.mode, Mode::Inline);
        assert_eq!(from_js.token_credentials, Credentials::Include);
        assert_eq!(
            from_js.token_headers,
            [("x-csrf-token".to_string(), "abc".to_string())]
        );
        assert_eq!(from_js.strings.get("send"), "Envoyer");
        assert_eq!(
            from_js.context.as_deref(),
            Some(r#"{"page":"/pricing","plan":"pro"}"#)
        );
    }

    #[test]
    fn a_bad_value_keeps_its_default_and_says_why() {
        let (options, problems) = Options::from_json(
            r#"{"title": 7, "model": "", "maxLength": -3, "persist": "cloud", "apiBase": "javascript:x", "suggestions": 5}"#,
        );
        assert_eq!(options, Options::default());
        assert_eq!(problems.len(), 6, "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("`title`")),
            "{problems:?}"
        );
        let (options, problems) = Options::from_json("not json");
        assert_eq!(options, Options::default());
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn the_widget_reads_every_option_the_table_gives_it_and_no_other() {
        for option in TABLE {
            let (options, problems) =
                Options::from_json(&format!("{{\"{}\":{}}}", option.name, option.example));
            assert!(problems.is_empty(), "{}: {problems:?}", option.name);
            let read = options != Options::default();
            let widget = option.read_by != ReadBy::Loader;
            assert_eq!(
                read,
                widget,
                "`{}` is read by {:?}, but Options::from_json {} it",
                option.name,
                option.read_by,
                if read { "reads" } else { "ignores" }
            );
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn table_names() -> Vec<String> {
        TABLE.iter().map(|o| o.name.to_string()).collect()
    }

    /// `names`, sorted: the loader and the types list them in their own order.
    #[cfg(not(target_arch = "wasm32"))]
    fn sorted(mut names: Vec<String>) -> Vec<String> {
        names.sort();
        names
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_loader_knows_every_option_of_the_table() {
        let loader = names_in(
            "js/ringside-chat.js",
            "var OPTIONS = [",
            "];",
            ',',
            |item| item.strip_prefix('"')?.strip_suffix('"'),
        );
        assert_eq!(
            sorted(loader),
            sorted(table_names()),
            "js/ringside-chat.js OPTIONS"
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_typescript_types_name_every_option_of_the_table() {
        assert_eq!(
            typescript_members("ChatOptions"),
            sorted(table_names()),
            "js/npm/index.d.ts ChatOptions"
        );
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_readme_documents_every_option_of_the_table() {
        let rows = names_in(
            "README.md",
            "| option | default | what it does |",
            "\n\n",
            '\n',
            |row| row.strip_prefix("| `")?.split(" |").next(),
        );
        // A row may name several options: `` `maxLength`, `historyLimit` ``.
        let documented: Vec<String> = rows
            .iter()
            .flat_map(|row| row.split(", "))
            .map(|name| name.trim_matches('`').to_string())
            .collect();
        assert_eq!(documented, table_names(), "README.md's option table");
    }

    /// Issue 14: an injected `<ringside-chat api-base="http://evil">` must
    /// not send the visitor's questions (or token) over plain http elsewhere.
    #[test]
    fn urls_from_markup_must_be_https_or_loopback() {
        for good in [
            "https://api.example.com",
            "https://api.example.com:8443/v1",
            "http://127.0.0.1:8787",
            "http://localhost:8080/",
            "http://[::1]:9/x",
            "HTTPS://API.EXAMPLE.COM",
        ] {
            assert!(is_trusted_url(good, false), "{good} is trusted");
        }
        for bad in [
            "http://evil.example",
            "http://127.0.0.1.evil.example",
            "http://127.0.0.256",
            "http://127.0.0",
            "http://127..0.1",
            "http://127.0.0.1a",
            "http://localhost.evil.example",
            "http://127.0.0.1@evil.example",
            "https://good.example@evil.example",
            "https://",
            "javascript:alert(1)",
            "data:text/plain,x",
            "//evil.example/t",
            "/api/chat-token",
        ] {
            assert!(!is_trusted_url(bad, false), "{bad} is refused");
        }
        for path in ["/api/chat-token", "api/token", "/t?x=http://y"] {
            assert!(is_trusted_url(path, true), "{path} is a path of this site");
        }
        for bad in [
            "//evil.example/t",
            "\\\\evil.example",
            "http://evil.example/t",
            "data:,x",
        ] {
            assert!(!is_trusted_url(bad, true), "{bad} is refused");
        }
        let (options, problems) = Options::from_json(
            r#"{"apiBase":"http://evil.example","tokenEndpoint":"http://evil.example/t"}"#,
        );
        assert_eq!(options.api_base, None);
        assert_eq!(options.token_endpoint, Options::default().token_endpoint);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
