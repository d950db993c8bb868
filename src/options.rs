//! The widget's options: the same names whether they come from `data-*`
//! attributes, custom-element attributes or the JS `mount(options)` call
//! (the loader turns each into this JSON).

use ringside_wire::json::{self, Value};

/// What the host page can configure.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The host's mint route; POSTed to for a Client Token.
    pub token_endpoint: String,
    /// The Ringside gateway. When unset, the mint's `api_base` is used, then
    /// the public gateway.
    pub api_base: Option<String>,
    /// The model to chat with.
    pub model: String,
    /// The panel's title, which also names the dialog.
    pub title: String,
    /// The placeholder of the message box.
    pub placeholder: String,
}

/// The public gateway, when neither the page nor the mint names one.
pub const DEFAULT_API_BASE: &str = "https://api.fightclub.pro";

impl Default for Options {
    fn default() -> Self {
        Options {
            token_endpoint: "/api/chat-token".into(),
            api_base: None,
            model: "fc:openai/gpt-4o-mini".into(),
            title: "Chat with us".into(),
            placeholder: "Ask a question…".into(),
        }
    }
}

impl Options {
    /// Reads options from the loader's JSON (camelCase names, as `data-*`
    /// attributes become in `dataset`). Unknown names are ignored; a bad value
    /// keeps its default and is reported, for one clear console error.
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
        let mut text_option = |name: &str, slot: &mut String| match value.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if !s.trim().is_empty() => *slot = s.trim().to_string(),
            Some(_) => problems.push(format!(
                "option `{name}` must be a non-empty string; using `{slot}`"
            )),
        };
        text_option("tokenEndpoint", &mut options.token_endpoint);
        text_option("model", &mut options.model);
        text_option("title", &mut options.title);
        text_option("placeholder", &mut options.placeholder);
        let mut api_base = String::new();
        text_option("apiBase", &mut api_base);
        if !api_base.is_empty() {
            options.api_base = Some(api_base.trim_end_matches('/').to_string());
        }
        (options, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_options_take_their_defaults() {
        let (options, problems) =
            Options::from_json(r#"{"tokenEndpoint":"/t","title":"Help","apiBase":"http://x/"}"#);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(options.api_base.as_deref(), Some("http://x"));
        assert_eq!(options.token_endpoint, "/t");
        assert_eq!(options.title, "Help");
        assert_eq!(options.model, Options::default().model);
    }

    #[test]
    fn a_bad_value_keeps_its_default_and_says_why() {
        let (options, problems) = Options::from_json(r#"{"title": 7, "model": ""}"#);
        assert_eq!(options, Options::default());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems.iter().any(|p| p.contains("`title`")),
            "{problems:?}"
        );
        let (options, problems) = Options::from_json("not json");
        assert_eq!(options, Options::default());
        assert_eq!(problems.len(), 1);
    }
}
