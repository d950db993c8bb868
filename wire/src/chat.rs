//! Chat completions: `POST /v1/chat/completions`, streamed or not.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person chatting.
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: Role,
    /// The text.
    pub content: String,
}

/// `stream_options` of a chat request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamOptions {
    /// Ask for a last chunk carrying the token usage.
    #[serde(default)]
    pub include_usage: bool,
}

/// The body of `POST /v1/chat/completions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// A provider-prefixed model id, e.g. `fc:openai/gpt-4o-mini`.
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<ChatMessage>,
    /// Stream the answer as SSE chunks.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    /// The customer this call is for; with a Client Token it must be the pinned one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The most tokens to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0 to 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Streaming options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The answer is complete.
    Stop,
    /// `max_tokens` was reached.
    Length,
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the request's messages.
    pub prompt_tokens: u32,
    /// Tokens of the answer.
    pub completion_tokens: u32,
    /// The sum of both.
    pub total_tokens: u32,
}

/// The incremental part of a stream chunk.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Delta {
    /// Set on the first delta only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// The next piece of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

/// One choice of a stream chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Always 0: Ringside streams one choice.
    pub index: u32,
    /// What this chunk adds.
    pub delta: Delta,
    /// Set on the last content chunk.
    pub finish_reason: Option<FinishReason>,
}

/// An OpenAI `chat.completion.chunk`, one per SSE frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// The completion's id (`chatcmpl-…`), the same in every chunk.
    pub id: String,
    /// Always `chat.completion.chunk`.
    pub object: String,
    /// Unix seconds.
    pub created: i64,
    /// The model that answered.
    pub model: String,
    /// Empty in the usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// Only in the usage chunk (with `stream_options.include_usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

/// One choice of a non-streamed completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionChoice {
    /// Always 0.
    pub index: u32,
    /// The whole answer.
    pub message: ChatMessage,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
}

/// An OpenAI `chat.completion`: the answer of a non-streamed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// `chatcmpl-…`.
    pub id: String,
    /// Always `chat.completion`.
    pub object: String,
    /// Unix seconds.
    pub created: i64,
    /// The model that answered.
    pub model: String,
    /// One choice.
    pub choices: Vec<CompletionChoice>,
    /// Token counts.
    pub usage: Usage,
}

/// The data of one completion stream frame, as a client reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamFrame {
    /// A chunk: the first carries the role, then content, then a finish reason.
    Chunk(ChunkView),
    /// The stream failed after it started; no `[DONE]` follows.
    Error(ApiError),
    /// `[DONE]`: the answer is complete.
    Done,
}

/// The parts of a chunk a client uses (ids and timestamps are skipped).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct ChunkView {
    /// The choices; empty in the usage chunk.
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// Present in the usage chunk.
    #[serde(default)]
    pub usage: Option<Usage>,
}

impl ChunkView {
    /// The content this chunk adds to the answer, if any.
    pub fn content(&self) -> Option<&str> {
        self.choices.first()?.delta.content.as_deref()
    }

    /// Why the model stopped, on the last content chunk.
    pub fn finish_reason(&self) -> Option<FinishReason> {
        self.choices.first()?.finish_reason
    }
}

#[derive(Deserialize)]
struct FrameRepr {
    #[serde(default)]
    error: Option<ApiError>,
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<Usage>,
}

impl StreamFrame {
    /// The data marking the end of a stream.
    pub const DONE: &'static str = "[DONE]";

    /// Decodes the `data` of one SSE event of a completion stream.
    pub fn parse(data: &str) -> Result<StreamFrame, serde_json::Error> {
        if data == Self::DONE {
            return Ok(StreamFrame::Done);
        }
        let repr: FrameRepr = serde_json::from_str(data)?;
        Ok(match repr.error {
            Some(error) => StreamFrame::Error(error),
            None => StreamFrame::Chunk(ChunkView {
                choices: repr.choices,
                usage: repr.usage,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_decode_chunks_errors_and_done() {
        let chunk = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"#;
        match StreamFrame::parse(chunk).unwrap() {
            StreamFrame::Chunk(c) => assert_eq!(c.content(), Some("Hi")),
            other => panic!("expected a chunk, got {other:?}"),
        }
        let error = r#"{"error":{"type":"api_error","code":"upstream_error","message":"boom","param":null}}"#;
        match StreamFrame::parse(error).unwrap() {
            StreamFrame::Error(e) => assert_eq!(e.code, "upstream_error"),
            other => panic!("expected an error, got {other:?}"),
        }
        assert_eq!(StreamFrame::parse("[DONE]").unwrap(), StreamFrame::Done);
        assert!(StreamFrame::parse("{not json").is_err());
    }

    #[test]
    fn a_request_omits_what_is_unset() {
        let request = ChatRequest {
            model: "fc:openai/gpt-4o-mini".into(),
            messages: vec![ChatMessage {
                role: Role::User,
                content: "hi".into(),
            }],
            stream: true,
            user: None,
            max_tokens: None,
            temperature: None,
            stream_options: None,
        };
        assert_eq!(
            serde_json::to_string(&request).unwrap(),
            r#"{"model":"fc:openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true}"#
        );
    }
}
