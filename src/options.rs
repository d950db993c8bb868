//! The widget's options: the same names whether they come from `data-*`
//! attributes, custom-element attributes or the JS `mount(options)` call
//! (the loader turns each into this JSON).

use serde::Deserialize;

/// What the host page can configure.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
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
    /// Reads options from the loader's JSON; a bad document yields the
    /// defaults and the reason, for one clear console error.
    pub fn from_json(json: &str) -> (Options, Option<String>) {
        match serde_json::from_str(json) {
            Ok(options) => (options, None),
            Err(error) => (
                Options::default(),
                Some(format!("invalid options ({error}); using defaults")),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_options_take_their_defaults() {
        let (options, error) = Options::from_json(r#"{"tokenEndpoint":"/t","title":"Help"}"#);
        assert_eq!(error, None);
        assert_eq!(options.token_endpoint, "/t");
        assert_eq!(options.title, "Help");
        assert_eq!(options.model, Options::default().model);
    }

    #[test]
    fn a_malformed_document_gives_defaults_and_says_why() {
        let (options, error) = Options::from_json(r#"{"title": 7}"#);
        assert_eq!(options, Options::default());
        assert!(error.unwrap().contains("invalid options"));
    }
}
