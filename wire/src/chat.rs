//! Chat completions: `POST /v1/chat/completions`, streamed or not.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::json::{self, Value};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The person chatting.
    User,
    /// The model.
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: Role,
    /// The text.
    pub content: String,
}

/// `stream_options` of a chat request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct StreamOptions {
    /// Ask for a last chunk carrying the token usage.
    #[cfg_attr(feature = "serde", serde(default))]
    pub include_usage: bool,
}

/// The body of `POST /v1/chat/completions`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ChatRequest {
    /// A provider-prefixed model id, e.g. `fc:openai/gpt-4o-mini`.
    pub model: String,
    /// The conversation so far.
    pub messages: Vec<ChatMessage>,
    /// Stream the answer as SSE chunks.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "std::ops::Not::not")
    )]
    pub stream: bool,
    /// The customer this call is for; with a Client Token it must be the pinned one.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub user: Option<String>,
    /// The most tokens to generate.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub max_tokens: Option<u32>,
    /// Sampling temperature, 0 to 2.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub temperature: Option<f64>,
    /// Streaming options.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub stream_options: Option<StreamOptions>,
}

/// Why the model stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum FinishReason {
    /// The answer is complete.
    Stop,
    /// `max_tokens` was reached.
    Length,
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Usage {
    /// Tokens of the request's messages.
    pub prompt_tokens: u32,
    /// Tokens of the answer.
    pub completion_tokens: u32,
    /// The sum of both.
    pub total_tokens: u32,
}

/// The incremental part of a stream chunk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Delta {
    /// Set on the first delta only.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub role: Option<Role>,
    /// The next piece of the answer.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub content: Option<String>,
}

/// One choice of a stream chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ChunkChoice {
    /// Always 0: Ringside streams one choice.
    pub index: u32,
    /// What this chunk adds.
    pub delta: Delta,
    /// Set on the last content chunk.
    pub finish_reason: Option<FinishReason>,
}

/// An OpenAI `chat.completion.chunk`, one per SSE frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
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
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub usage: Option<Usage>,
}

/// One choice of a non-streamed completion.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct CompletionChoice {
    /// Always 0.
    pub index: u32,
    /// The whole answer.
    pub message: ChatMessage,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
}

/// An OpenAI `chat.completion`: the answer of a non-streamed call.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
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
/// [`StreamFrame::parse`] reads it as serde reads this type; the tests hold
/// the two equal.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Deserialize))]
pub struct ChunkView {
    /// The choices; empty in the usage chunk.
    #[cfg_attr(feature = "serde", serde(default))]
    pub choices: Vec<ChunkChoice>,
    /// Present in the usage chunk.
    #[cfg_attr(feature = "serde", serde(default))]
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

fn role(value: &Value<'_>) -> Option<Role> {
    match value.as_str()? {
        "assistant" => Some(Role::Assistant),
        "user" => Some(Role::User),
        "system" => Some(Role::System),
        _ => None,
    }
}

fn finish_reason(value: &Value<'_>) -> Option<FinishReason> {
    match value.as_str()? {
        "stop" => Some(FinishReason::Stop),
        "length" => Some(FinishReason::Length),
        _ => None,
    }
}

fn count(value: &Value<'_>) -> Option<u32> {
    u32::try_from(value.as_u64()?).ok()
}

fn is_object(value: &Value<'_>) -> bool {
    matches!(value, Value::Object(_))
}

/// A choice of a chunk, as serde reads a [`ChunkChoice`].
fn choice(item: &Value<'_>) -> Result<ChunkChoice, FrameError> {
    let delta = item
        .get("delta")
        .filter(|d| is_object(d))
        .ok_or(FrameError::Shape("a choice without a delta object"))?;
    Ok(ChunkChoice {
        index: item
            .get("index")
            .and_then(count)
            .ok_or(FrameError::Shape("a choice without an index"))?,
        delta: Delta {
            role: json::optional(delta.get("role"), role).ok_or(FrameError::Shape("bad role"))?,
            content: json::optional(delta.get("content"), |c| c.as_str().map(str::to_string))
                .ok_or(FrameError::Shape("content is not a string"))?,
        },
        finish_reason: json::optional(item.get("finish_reason"), finish_reason)
            .ok_or(FrameError::Shape("unknown finish_reason"))?,
    })
}

/// A chunk's usage, as serde reads a [`Usage`].
fn usage(value: &Value<'_>) -> Option<Usage> {
    Some(Usage {
        prompt_tokens: count(value.get("prompt_tokens")?)?,
        completion_tokens: count(value.get("completion_tokens")?)?,
        total_tokens: count(value.get("total_tokens")?)?,
    })
}

impl StreamFrame {
    /// The data marking the end of a stream.
    pub const DONE: &'static str = "[DONE]";

    /// Decodes the `data` of one SSE event of a completion stream: `[DONE]`,
    /// an object with a non-null `error` (read as serde reads an
    /// [`ErrorBody`](crate::error::ErrorBody)), or a chunk (read as serde
    /// reads a [`ChunkView`]).
    pub fn parse(data: &str) -> Result<StreamFrame, FrameError> {
        if data == Self::DONE {
            return Ok(StreamFrame::Done);
        }
        let value = json::parse(data).map_err(FrameError::Json)?;
        if !is_object(&value) {
            return Err(FrameError::Shape("not an object"));
        }
        if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
            return ApiError::from_value(error)
                .map(StreamFrame::Error)
                .ok_or(FrameError::Shape("bad error"));
        }
        let choices = match value.get("choices") {
            None => Vec::new(),
            Some(Value::Array(items)) => items.iter().map(choice).collect::<Result<_, _>>()?,
            Some(_) => return Err(FrameError::Shape("choices is not an array")),
        };
        let usage =
            json::optional(value.get("usage"), usage).ok_or(FrameError::Shape("bad usage"))?;
        Ok(StreamFrame::Chunk(ChunkView { choices, usage }))
    }
}

/// An answer's stream read to its text: bytes in, in reads of any size; out,
/// the text of its content chunks and the data of the frame that ended it.
///
/// The frame that ends an answer is `[DONE]`, an error, or one that is not a
/// chunk: what it means is for [`StreamFrame::parse`] to say again, where the
/// answer is shown (the widget decodes in a worker, and hands the page only
/// text and that one frame). Nothing after it is read.
#[derive(Debug)]
pub struct AnswerDecoder {
    sse: crate::sse::SseParser,
    text: String,
    end: Option<String>,
}

/// The same as [`AnswerDecoder::new`]: a derived one would start its SSE
/// parser past the point where a leading byte order mark is dropped.
impl Default for AnswerDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl AnswerDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        AnswerDecoder {
            sse: crate::sse::SseParser::new(),
            text: String::new(),
            end: None,
        }
    }

    /// Reads the next bytes of the stream.
    pub fn feed(&mut self, bytes: &[u8]) {
        let (text, end) = (&mut self.text, &mut self.end);
        if end.is_some() {
            return;
        }
        self.sse.feed(bytes, &mut |event| {
            if end.is_some() {
                return;
            }
            match StreamFrame::parse(&event.data) {
                Ok(StreamFrame::Chunk(chunk)) => {
                    if let Some(content) = chunk.content() {
                        text.push_str(content);
                    }
                }
                _ => *end = Some(event.data),
            }
        });
    }

    /// The text decoded since the last call.
    pub fn take_text(&mut self) -> String {
        std::mem::take(&mut self.text)
    }

    /// The data of the frame that ended the answer, once it has come.
    pub fn end(&self) -> Option<&str> {
        self.end.as_deref()
    }
}

/// What the widget POSTs to `/v1/chat/completions`: a streamed
/// [`ChatRequest`] with the model and the messages, and nothing else (the
/// sampling settings are the host's, upstream). Written without serde; the
/// tests hold [`StreamRequest::to_json`] equal to serde's writing of the
/// same request.
#[derive(Debug, Clone, Copy)]
pub struct StreamRequest<'a> {
    /// A provider-prefixed model id, e.g. `fc:openai/gpt-4o-mini`.
    pub model: &'a str,
    /// The conversation so far.
    pub messages: &'a [ChatMessage],
}

impl StreamRequest<'_> {
    /// This request as JSON.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(
            64 + self
                .messages
                .iter()
                .map(|m| m.content.len() + 32)
                .sum::<usize>(),
        );
        out.push_str("{\"model\":");
        json::write_string(&mut out, self.model);
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
        out.push_str("],\"stream\":true}");
        out
    }
}

#[cfg(feature = "serde")]
impl From<StreamRequest<'_>> for ChatRequest {
    fn from(request: StreamRequest<'_>) -> Self {
        ChatRequest {
            model: request.model.to_string(),
            messages: request.messages.to_vec(),
            stream: true,
            user: None,
            max_tokens: None,
            temperature: None,
            stream_options: None,
        }
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
        let messages = [
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
        ];
        let request = StreamRequest {
            model: "fc:openai/gpt-4o-mini",
            messages: &messages,
        };
        let ours: serde_json::Value = serde_json::from_str(&request.to_json()).unwrap();
        assert_eq!(
            ours,
            serde_json::to_value(ChatRequest::from(request)).unwrap()
        );
        assert_eq!(
            request.to_json(),
            serde_json::to_string(&ChatRequest::from(request)).unwrap(),
            "the same text, member for member"
        );
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

    /// An answer's text and ending, frame by frame: what the widget did
    /// before it had [`AnswerDecoder`].
    fn frame_by_frame(stream: &[u8]) -> (String, Option<String>) {
        let mut text = String::new();
        for event in crate::sse::parse_all(stream) {
            match StreamFrame::parse(&event.data) {
                Ok(StreamFrame::Chunk(chunk)) => text.push_str(chunk.content().unwrap_or("")),
                _ => return (text, Some(event.data)),
            }
        }
        (text, None)
    }

    fn decode_in_reads(stream: &[u8], cuts: &[usize]) -> (String, Option<String>) {
        let mut decoder = AnswerDecoder::new();
        let mut text = String::new();
        let mut from = 0;
        for &cut in cuts.iter().chain([stream.len()].iter()) {
            decoder.feed(&stream[from..cut]);
            text.push_str(&decoder.take_text());
            from = cut;
        }
        (text, decoder.end().map(str::to_string))
    }

    #[test]
    fn an_answer_decodes_to_its_text_and_the_frame_that_ended_it_in_any_reads() {
        let chunk = |content: &str| {
            format!(
                "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}},\"finish_reason\":null}}]}}\n\n"
            )
        };
        let endings = [
            "data: [DONE]\n\n",
            "data: {\"error\":{\"message\":\"Budget spent.\",\"type\":\"insufficient_quota\",\"code\":\"budget_exceeded\"}}\n\n",
            "data: {not json\n\n",
            "",
        ];
        for ending in endings {
            let stream = format!(
                "{}: keep-alive\n\n{}{}{ending}{}",
                chunk("Hé"),
                chunk("llo\\n\\n**wor"),
                chunk("ld** ✓"),
                chunk("after the end")
            );
            let stream = stream.as_bytes();
            let expected = frame_by_frame(stream);
            assert_eq!(
                expected.0,
                if ending.is_empty() {
                    "Héllo\n\n**world** ✓after the end"
                } else {
                    "Héllo\n\n**world** ✓"
                }
            );
            assert_eq!(decode_in_reads(stream, &[]), expected, "{ending}");
            for cut in 0..=stream.len() {
                assert_eq!(
                    decode_in_reads(stream, &[cut]),
                    expected,
                    "{ending} cut at {cut}"
                );
            }
            let bytes: Vec<usize> = (1..stream.len()).collect();
            assert_eq!(
                decode_in_reads(stream, &bytes),
                expected,
                "{ending} byte by byte"
            );
        }
    }

    // proptest needs a native target (its RNG and its failure files).
    #[cfg(not(target_arch = "wasm32"))]
    mod agrees_with_serde {
        use super::super::*;
        use crate::error::ErrorBody;
        use crate::error::tests::api_error;
        use crate::shapes::{
            any_value, array, either, integer, member, not_array, object, one_of, string,
            struct_member,
        };
        use proptest::prelude::*;

        /// A frame as serde reads it: `[DONE]`, an object with a non-null
        /// `error` as an [`ErrorBody`], any other object as a [`ChunkView`].
        fn serde_frame(data: &str) -> Option<StreamFrame> {
            if data == StreamFrame::DONE {
                return Some(StreamFrame::Done);
            }
            let value: serde_json::Value = serde_json::from_str(data).ok()?;
            if !value.is_object() {
                return None;
            }
            if value.get("error").is_some_and(|e| !e.is_null()) {
                let body: ErrorBody = serde_json::from_str(data).ok()?;
                return Some(StreamFrame::Error(body.error));
            }
            serde_json::from_str(data).ok().map(StreamFrame::Chunk)
        }

        fn chunk() -> BoxedStrategy<String> {
            let delta = object(vec![
                ("role", member(one_of(&["assistant", "user", "system"]))),
                ("content", member(string())),
            ]);
            let choice = object(vec![
                ("index", member(integer())),
                ("delta", struct_member(delta)),
                ("finish_reason", member(one_of(&["stop", "length"]))),
            ]);
            let usage = object(vec![
                ("prompt_tokens", member(integer())),
                ("completion_tokens", member(integer())),
                ("total_tokens", member(integer())),
            ]);
            object(vec![
                ("id", member(string())),
                ("object", member(string())),
                (
                    "choices",
                    member(array(either(vec![(6, choice), (1, any_value())]))),
                ),
                (
                    "usage",
                    prop_oneof![
                        2 => Just(None),
                        2 => usage.prop_map(Some),
                        1 => not_array().prop_map(Some),
                    ]
                    .boxed(),
                ),
                // Mostly absent: the chunk's own members are what is tested here.
                (
                    "error",
                    prop_oneof![
                        6 => Just(None),
                        1 => Just(Some("null".to_string())),
                        2 => api_error().prop_map(Some),
                        1 => any_value().prop_map(Some),
                    ]
                    .boxed(),
                ),
            ])
        }

        fn message() -> impl Strategy<Value = ChatMessage> {
            (
                prop::sample::select(vec![Role::System, Role::User, Role::Assistant]),
                any::<String>(),
            )
                .prop_map(|(role, content)| ChatMessage { role, content })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2048))]

            #[test]
            fn every_near_frame_reads_as_serde_reads_it(data in either(vec![
                (8, chunk()),
                (1, any_value()),
                (1, Just("[DONE]".to_string()).boxed()),
            ])) {
                prop_assert_eq!(StreamFrame::parse(&data).ok(), serde_frame(&data), "{}", data);
            }

            #[test]
            fn every_request_is_written_as_serde_writes_it(
                model in any::<String>(),
                messages in prop::collection::vec(message(), 0..4),
            ) {
                let request = StreamRequest { model: &model, messages: &messages };
                let ours: serde_json::Value = serde_json::from_str(&request.to_json()).unwrap();
                prop_assert_eq!(ours, serde_json::to_value(ChatRequest::from(request)).unwrap());
                let read: ChatRequest = serde_json::from_str(&request.to_json()).unwrap();
                prop_assert_eq!(read, ChatRequest::from(request));
            }
        }
    }
}
