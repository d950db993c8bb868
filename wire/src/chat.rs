//! Chat completions: `POST /v1/chat/completions`, streamed or not.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::json::{self, Value};

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
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChunkView {
    /// The choices; empty in the usage chunk.
    pub choices: Vec<ChunkChoice>,
    /// Present in the usage chunk.
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

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The data is not JSON.
    Json(json::Error),
    /// JSON, but not a chunk, an error or `[DONE]`.
    Shape(&'static str),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Json(e) => write!(f, "not JSON: {e}"),
            FrameError::Shape(what) => write!(f, "not a chat chunk: {what}"),
        }
    }
}

impl std::error::Error for FrameError {}

fn role(value: &Value<'_>) -> Result<Option<Role>, FrameError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => match s.as_ref() {
            "assistant" => Ok(Some(Role::Assistant)),
            "user" => Ok(Some(Role::User)),
            "system" => Ok(Some(Role::System)),
            _ => Err(FrameError::Shape("unknown role")),
        },
        _ => Err(FrameError::Shape("role is not a string")),
    }
}

fn optional_str(
    value: Option<&Value<'_>>,
    what: &'static str,
) -> Result<Option<String>, FrameError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.to_string())),
        Some(_) => Err(FrameError::Shape(what)),
    }
}

impl StreamFrame {
    /// The data marking the end of a stream.
    pub const DONE: &'static str = "[DONE]";

    /// Decodes the `data` of one SSE event of a completion stream.
    pub fn parse(data: &str) -> Result<StreamFrame, FrameError> {
        if data == Self::DONE {
            return Ok(StreamFrame::Done);
        }
        let value = json::parse(data).map_err(FrameError::Json)?;
        if !matches!(value, Value::Object(_)) {
            return Err(FrameError::Shape("not an object"));
        }
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            return ApiError::from_value(error)
                .map(StreamFrame::Error)
                .ok_or(FrameError::Shape("bad error"));
        }
        let mut choices = Vec::new();
        match value.get("choices") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let delta = item
                        .get("delta")
                        .ok_or(FrameError::Shape("a choice without delta"))?;
                    let finish_reason = match item.get("finish_reason") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(s)) if s == "stop" => Some(FinishReason::Stop),
                        Some(Value::String(s)) if s == "length" => Some(FinishReason::Length),
                        Some(_) => return Err(FrameError::Shape("unknown finish_reason")),
                    };
                    choices.push(ChunkChoice {
                        index: item.get("index").and_then(Value::as_u64).unwrap_or(0) as u32,
                        delta: Delta {
                            role: delta.get("role").map(role).transpose()?.flatten(),
                            content: optional_str(delta.get("content"), "content is not a string")?,
                        },
                        finish_reason,
                    });
                }
            }
            Some(_) => return Err(FrameError::Shape("choices is not an array")),
        }
        let usage = match value.get("usage") {
            None | Some(Value::Null) => None,
            Some(usage) => {
                let count = |key| usage.get(key).and_then(Value::as_u64).map(|n| n as u32);
                Some(Usage {
                    prompt_tokens: count("prompt_tokens").ok_or(FrameError::Shape("bad usage"))?,
                    completion_tokens: count("completion_tokens")
                        .ok_or(FrameError::Shape("bad usage"))?,
                    total_tokens: count("total_tokens").ok_or(FrameError::Shape("bad usage"))?,
                })
            }
        };
        Ok(StreamFrame::Chunk(ChunkView { choices, usage }))
    }
}

impl ChatRequest {
    /// This request as JSON, written without serde (the widget's path; the
    /// tests hold it equal to the serde form).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(
            64 + self
                .messages
                .iter()
                .map(|m| m.content.len() + 32)
                .sum::<usize>(),
        );
        out.push_str("{\"model\":");
        json::write_string(&mut out, &self.model);
        out.push_str(",\"messages\":[");
        for (i, message) in self.messages.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"role\":\"");
            out.push_str(match message.role {
                Role::System => "system",
                Role::User => "user",
                Role::Assistant => "assistant",
            });
            out.push_str("\",\"content\":");
            json::write_string(&mut out, &message.content);
            out.push('}');
        }
        out.push(']');
        if self.stream {
            out.push_str(",\"stream\":true");
        }
        if let Some(user) = &self.user {
            out.push_str(",\"user\":");
            json::write_string(&mut out, user);
        }
        if let Some(max) = self.max_tokens {
            out.push_str(",\"max_tokens\":");
            json::write_u64(&mut out, u64::from(max));
        }
        if let Some(options) = self.stream_options {
            out.push_str(if options.include_usage {
                ",\"stream_options\":{\"include_usage\":true}"
            } else {
                ",\"stream_options\":{\"include_usage\":false}"
            });
        }
        // `temperature` is a server-side setting here: the widget never sends
        // one, and writing floats would cost the wasm its float formatting.
        out.push('}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

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
    fn frames_with_odd_shapes_are_errors_not_panics() {
        for data in [
            "[]",
            "7",
            r#"{"choices":{}}"#,
            r#"{"choices":[{}]}"#,
            r#"{"choices":[{"delta":{"content":7}}]}"#,
        ] {
            assert!(StreamFrame::parse(data).is_err(), "{data}");
        }
        let usage =
            r#"{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#;
        match StreamFrame::parse(usage).unwrap() {
            StreamFrame::Chunk(c) => assert_eq!(c.usage.map(|u| u.total_tokens), Some(3)),
            other => panic!("expected usage, got {other:?}"),
        }
    }

    #[test]
    fn every_chunk_the_mock_could_write_reads_back() {
        let chunk = ChatChunk {
            id: "chatcmpl-1".into(),
            object: "chat.completion.chunk".into(),
            created: 1,
            model: "m".into(),
            choices: vec![ChunkChoice {
                index: 0,
                delta: Delta {
                    role: Some(Role::Assistant),
                    content: Some("a \"quoted\" \u{1f389}\n".into()),
                },
                finish_reason: Some(FinishReason::Length),
            }],
            usage: None,
        };
        let data = serde_json::to_string(&chunk).unwrap();
        match StreamFrame::parse(&data).unwrap() {
            StreamFrame::Chunk(view) => assert_eq!(view.choices, chunk.choices),
            other => panic!("expected a chunk, got {other:?}"),
        }
    }

    #[test]
    fn a_request_written_by_hand_equals_the_serde_form() {
        let request = ChatRequest {
            model: "fc:openai/gpt-4o-mini".into(),
            messages: vec![
                ChatMessage {
                    role: Role::System,
                    content: "be \"nice\"\n\u{1}".into(),
                },
                ChatMessage {
                    role: Role::User,
                    content: "héllo <b>".into(),
                },
                ChatMessage {
                    role: Role::Assistant,
                    content: String::new(),
                },
            ],
            stream: true,
            user: Some("ext:u".into()),
            max_tokens: Some(300),
            temperature: None,
            stream_options: Some(StreamOptions {
                include_usage: true,
            }),
        };
        let ours: serde_json::Value = serde_json::from_str(&request.to_json()).unwrap();
        assert_eq!(ours, serde_json::to_value(&request).unwrap());
        let minimal = ChatRequest {
            stream: false,
            user: None,
            max_tokens: None,
            stream_options: None,
            ..request
        };
        let ours: serde_json::Value = serde_json::from_str(&minimal.to_json()).unwrap();
        assert_eq!(ours, serde_json::to_value(&minimal).unwrap());
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
