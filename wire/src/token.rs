//! What a mint endpoint (the host's `/api/chat-token`) returns to the widget.

use serde::{Deserialize, Serialize};

/// A Client Token for the browser, with its lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The Client Token, sent as `Authorization: Client <token>`.
    pub token: String,
    /// When it expires, in Unix seconds (by the server's clock).
    pub expires_at: i64,
    /// Seconds it stays valid from now: what the widget schedules by, so a
    /// wrong clock in the browser does not matter. Older mints may omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// The gateway this token was minted for, so a page need not configure it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
}
