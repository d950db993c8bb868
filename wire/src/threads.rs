//! Threads and their messages: `POST /v1/threads`, `GET /v1/threads/{id}`,
//! `POST|GET /v1/threads/{id}/messages`, in OpenAI's (Assistants) shape. A
//! thread belongs to the customer that created it.

use serde::{Deserialize, Serialize};

/// Who wrote a thread message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageRole {
    /// The person chatting.
    User,
    /// The model.
    Assistant,
}

/// One part of a message's content as a client sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ContentPartInput {
    /// `{"type": "text", "text": "…"}`.
    Text {
        /// The text.
        text: String,
    },
}

/// A message's content as a client sends it: a string, or text parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageInput {
    /// Plain text.
    Text(String),
    /// Text parts, joined in order.
    Parts(Vec<ContentPartInput>),
}

/// The body of `POST /v1/threads/{id}/messages` (and each of `messages` when
/// creating a thread).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateMessage {
    /// `user` or `assistant`.
    pub role: MessageRole,
    /// The text.
    pub content: MessageInput,
    /// Free-form data kept with the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The body of `POST /v1/threads` (may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateThread {
    /// Messages to start the thread with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<CreateMessage>,
    /// Free-form data kept with the thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    /// `thread_…`.
    pub id: String,
    /// Always `thread`.
    pub object: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Free-form data.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// The text of a content part, with its annotations (always empty here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextContent {
    /// The text.
    pub value: String,
    /// Citations and file paths; Ringside adds none.
    #[serde(default)]
    pub annotations: Vec<serde_json::Value>,
}

/// One part of a stored message: `{"type": "text", "text": {"value", "annotations"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageContent {
    /// Always `text`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    pub text: TextContent,
}

/// A message of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadMessage {
    /// `msg_…`.
    pub id: String,
    /// Always `thread.message`.
    pub object: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The thread it belongs to.
    pub thread_id: String,
    /// Who wrote it.
    pub role: MessageRole,
    /// Its text, as one part.
    pub content: Vec<MessageContent>,
    /// Free-form data.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

/// `GET /v1/threads/{id}/messages`: a page of messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageList {
    /// Always `list`.
    pub object: String,
    /// The messages, in the asked order.
    pub data: Vec<ThreadMessage>,
    /// The id of the first message of the page.
    pub first_id: Option<String>,
    /// The id of the last message of the page.
    pub last_id: Option<String>,
    /// Whether more messages follow `last_id`.
    pub has_more: bool,
}

/// `GET /v1/threads`: a page of the caller's threads, newest first.
///
/// Not in the contract's page of routes, which names no way to list threads:
/// without it a signed-in user's other device could not find their
/// conversations. The mock answers it; a gateway that does not (404 or 405)
/// leaves the widget with the threads this browser knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadList {
    /// Always `list`.
    pub object: String,
    /// The threads, newest first.
    pub data: Vec<Thread>,
    /// The id of the first thread of the page.
    pub first_id: Option<String>,
    /// The id of the last thread of the page.
    pub last_id: Option<String>,
    /// Whether more threads follow `last_id`.
    pub has_more: bool,
}
