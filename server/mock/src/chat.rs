//! `POST /v1/chat/completions`: deterministic answers, streamed as OpenAI
//! chunks over SSE (paced by the configured delays) or returned whole.

use std::net::SocketAddr;
use std::time::Duration;

use axum::{
    Json,
    body::{Body as ResponseBody, Bytes},
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures_util::stream;
use ringside_wire::chat::{
    ChatChunk, ChatCompletion, ChatMessage, ChatRequest, ChunkChoice, CompletionChoice, Delta,
    FinishReason, Role, Usage,
};
use ringside_wire::customer::Scope;

use crate::answer;
use crate::auth::authorize;
use crate::error::ApiError;
use crate::json::{self, Body};
use crate::state::AppState;

/// The models the mock knows.
pub const MODELS: &[&str] = &[
    "fc:openai/gpt-4o-mini",
    "fc:openai/gpt-4o",
    "fc:anthropic/claude-3-5-haiku",
    "fc:meta/llama-3.1-8b",
];

/// Handles `POST /v1/chat/completions`.
pub async fn completions(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, peer.ip(), Scope::Chat)?;
    let request: ChatRequest = json::parse(&body)?;
    validate(&request)?;
    let _customer = caller.customer(&state, request.user.as_deref())?;

    let settings = &state.settings;
    let mut count = settings.answer_tokens;
    let mut finish = FinishReason::Stop;
    if let Some(max) = request.max_tokens
        && (max as usize) < count
    {
        count = max as usize;
        finish = FinishReason::Length;
    }
    let tokens = answer::generate(&request, count);
    let usage = Usage {
        prompt_tokens: prompt_tokens(&request),
        completion_tokens: tokens.len() as u32,
        total_tokens: prompt_tokens(&request) + tokens.len() as u32,
    };
    let meta = Meta {
        id: format!("chatcmpl-{:016x}", answer::seed(&request)),
        created: state.clock.now(),
        model: request.model.clone(),
    };

    if !request.stream {
        let completion = ChatCompletion {
            id: meta.id,
            object: "chat.completion".into(),
            created: meta.created,
            model: meta.model,
            choices: vec![CompletionChoice {
                index: 0,
                message: ChatMessage {
                    role: Role::Assistant,
                    content: tokens.concat(),
                },
                finish_reason: finish,
            }],
            usage,
        };
        return Ok(Json(completion).into_response());
    }

    let include_usage = request.stream_options.is_some_and(|o| o.include_usage);
    let stream = Stream {
        meta,
        tokens,
        finish,
        usage: include_usage.then_some(usage),
        first_delay: settings.first_token_delay,
        delay: settings.token_delay,
        next: 0,
    };
    Ok(sse_response(stream))
}

fn validate(request: &ChatRequest) -> Result<(), ApiError> {
    if !MODELS.contains(&request.model.as_str()) {
        return Err(ApiError::invalid(
            "model",
            format!(
                "unknown model `{}`; try one of {}",
                request.model,
                MODELS.join(", ")
            ),
        ));
    }
    if request.messages.is_empty() {
        return Err(ApiError::invalid("messages", "messages must not be empty"));
    }
    if request.max_tokens == Some(0) {
        return Err(ApiError::invalid(
            "max_tokens",
            "max_tokens must be at least 1",
        ));
    }
    if let Some(t) = request.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(ApiError::invalid(
            "temperature",
            "temperature must be between 0 and 2",
        ));
    }
    Ok(())
}

/// A rough count: one token per four bytes, like OpenAI's rule of thumb.
fn prompt_tokens(request: &ChatRequest) -> u32 {
    let bytes: usize = request.messages.iter().map(|m| m.content.len()).sum();
    (bytes.div_ceil(4) + 4 * request.messages.len()) as u32
}

struct Meta {
    id: String,
    created: i64,
    model: String,
}

/// A completion stream, rendered one frame at a time as it is sent, so an
/// open stream costs its tokens and little else.
struct Stream {
    meta: Meta,
    tokens: Vec<String>,
    finish: FinishReason,
    usage: Option<Usage>,
    first_delay: Duration,
    delay: Duration,
    /// 0: the role chunk; 1..=n: content; then finish, usage, `[DONE]`.
    next: usize,
}

impl Stream {
    fn chunk(&self, delta: Delta, finish: Option<FinishReason>, usage: Option<Usage>) -> String {
        let chunk = ChatChunk {
            id: self.meta.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.meta.created,
            model: self.meta.model.clone(),
            choices: if usage.is_some() {
                vec![]
            } else {
                vec![ChunkChoice {
                    index: 0,
                    delta,
                    finish_reason: finish,
                }]
            },
            usage,
        };
        serde_json::to_string(&chunk).expect("a chunk serialises")
    }

    /// The delay before the next frame and its bytes, or `None` at the end.
    fn advance(&mut self) -> Option<(Duration, Bytes)> {
        let n = self.tokens.len();
        let step = self.next;
        self.next += 1;
        let (delay, data) = match step {
            0 => (
                Duration::ZERO,
                self.chunk(
                    Delta {
                        role: Some(Role::Assistant),
                        content: None,
                    },
                    None,
                    None,
                ),
            ),
            i if i <= n => {
                let delay = if i == 1 { self.first_delay } else { self.delay };
                let content = std::mem::take(&mut self.tokens[i - 1]);
                (
                    delay,
                    self.chunk(
                        Delta {
                            role: None,
                            content: Some(content),
                        },
                        None,
                        None,
                    ),
                )
            }
            i if i == n + 1 => (
                Duration::ZERO,
                self.chunk(Delta::default(), Some(self.finish), None),
            ),
            i if i == n + 2 && self.usage.is_some() => (
                Duration::ZERO,
                self.chunk(Delta::default(), None, self.usage),
            ),
            i if i == n + 2 || (i == n + 3 && self.usage.is_some()) => {
                (Duration::ZERO, "[DONE]".to_string())
            }
            _ => return None,
        };
        let mut frame = String::with_capacity(data.len() + 8);
        ringside_wire::sse::write_data_event(&mut frame, &data);
        Some((delay, Bytes::from(frame)))
    }
}

fn sse_response(stream: Stream) -> Response {
    let body = stream::unfold(stream, |mut stream| async move {
        let (delay, frame) = stream.advance()?;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Some((Ok::<_, std::convert::Infallible>(frame), stream))
    });
    let mut response = ResponseBody::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
