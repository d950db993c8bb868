//! `POST /v1/chat/completions`: deterministic answers (generated, or the
//! demo's), streamed as OpenAI chunks over SSE (paced by the configured
//! delays, with their jitter) or returned whole; a scripted completion
//! (`POST /__mock/script`) replaces the default answer or injects a fault.

use std::net::SocketAddr;
use std::time::Duration;

use axum::{
    Json, Router,
    body::{Body as ResponseBody, Bytes},
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use futures_util::stream;
use ringside_wire::chat::{
    ChatChunk, ChatCompletion, ChatMessage, ChatRequest, ChunkChoice, CompletionChoice, Delta,
    FinishReason, Role, Usage,
};
use ringside_wire::customer::Scope;
use ringside_wire::error::{ErrorBody, kind};

use crate::AppState;
use crate::answer::{self, AnswerMode, Generator, Rng};
use crate::auth::authorize;
use crate::billing;
use crate::controls::{Fault, Pacing, Script};
use crate::error::ApiError;
use crate::json::{self, Body};

/// The chat models the mock knows (their prices are in [`crate::billing`]).
pub const MODELS: &[&str] = &[
    "fc:openai/gpt-4o-mini",
    "fc:openai/gpt-4o",
    "fc:anthropic/claude-3-5-haiku",
    "fc:meta/llama-3.1-8b",
];

/// How long a scripted `stall` keeps a connection open before giving up.
pub const STALL_LIMIT: Duration = Duration::from_secs(600);

/// The least time between the last bytes sent and a scripted `drop`, so
/// those bytes reach the client before the connection is cut: a browser
/// may discard body bytes still in its pipeline when the connection fails,
/// and a test of "the partial answer is kept" must know what arrived.
const DROP_GRACE: Duration = Duration::from_millis(200);

/// The data of the frame a `malformed` fault sends: not valid JSON.
pub const MALFORMED_DATA: &str = "{\"choices\":[";

/// The chat routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/chat/completions", post(completions))
}

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
    let customer = caller.customer(&state, request.user.as_deref())?;
    let prompt_tokens = prompt_tokens(&request);

    let rate = match &customer {
        Some(id) => billing::admit(&mut state.store(), id, state.clock.now_ms())?,
        None => None,
    };
    // Taken only once admitted: a refused request leaves the script waiting.
    let (script, pacing) = {
        let mut controls = state.controls();
        (controls.scripts.pop_front(), controls.pacing)
    };
    // The answer is written with the store unlocked: a demo answer runs the
    // tokenizer, which needs about a second to load the first time (in a
    // debug build), so it runs where blocking is allowed.
    let plan = if Plan::writes_demo(script.as_ref(), pacing) {
        let request = request.clone();
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        tokio::task::spawn_blocking(move || Plan::new(&request, script, pacing, origin.as_deref()))
            .await
            .map_err(|e| ApiError::Internal(format!("writing the demo answer failed: {e}")))?
    } else {
        Plan::new(&request, script, pacing, None)
    };
    if !matches!(plan.fault, Some(Fault::Status { .. }))
        && let Some(id) = &customer
    {
        let usd = billing::cost(&request.model, prompt_tokens, plan.count as u32);
        billing::charge(&mut state.store(), id, usd);
    }
    if let Some(Fault::Status {
        status,
        code,
        message,
        retry_after,
    }) = &plan.fault
    {
        return Err(scripted_status(
            *status,
            code.as_deref(),
            message.as_deref(),
            *retry_after,
        ));
    }

    let usage = Usage {
        prompt_tokens,
        completion_tokens: plan.count as u32,
        total_tokens: prompt_tokens + plan.count as u32,
    };
    let meta = Meta {
        id: format!("chatcmpl-{:016x}", answer::seed(&request)),
        created: state.clock.now(),
        model: request.model.clone(),
    };
    let mut response = if request.stream {
        let include_usage = request.stream_options.is_some_and(|o| o.include_usage);
        sse_response(Stream::new(meta, plan, include_usage.then_some(usage)))
    } else {
        whole_response(meta, plan, usage).await?
    };
    if let Some(rate) = rate {
        rate.apply(response.headers_mut());
    }
    Ok(response)
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
    u32::try_from(bytes.div_ceil(4) + 4 * request.messages.len()).unwrap_or(u32::MAX)
}

/// The error a `status` fault answers.
fn scripted_status(
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
    retry_after: Option<u64>,
) -> ApiError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = code.map_or_else(
        || {
            match status.as_u16() {
                402 => "customer_wallet_empty",
                403 => "permission_denied",
                429 => "rate_limit_exceeded",
                503 => "service_unavailable",
                500..=599 => "internal_error",
                _ => "invalid_request",
            }
            .to_string()
        },
        str::to_string,
    );
    ApiError::Scripted {
        status,
        message: message.map_or_else(
            || format!("scripted failure: {} {code}", status.as_u16()),
            str::to_string,
        ),
        code,
        retry_after,
    }
}

/// The error object an `error` fault sends mid-stream.
fn stream_error(code: Option<&str>, message: Option<&str>) -> ErrorBody {
    ErrorBody {
        error: ringside_wire::error::ApiError {
            kind: kind::API.into(),
            code: code.unwrap_or("upstream_error").into(),
            message: message
                .unwrap_or("the upstream model failed mid-answer")
                .into(),
            param: None,
        },
    }
}

struct Meta {
    id: String,
    created: i64,
    model: String,
}

/// Where the tokens of an answer come from.
#[derive(Debug)]
enum Tokens {
    /// The deterministic answer, made as it is sent (cut by `max_tokens`
    /// without changing its first tokens).
    Generated(std::iter::Take<Generator>),
    /// Tokens known in advance: a script's, or a demo answer's.
    Listed(std::vec::IntoIter<String>),
}

impl Iterator for Tokens {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        match self {
            Tokens::Generated(generator) => generator.next(),
            Tokens::Listed(tokens) => tokens.next(),
        }
    }
}

/// What one completion will send: decided when it is admitted.
#[derive(Debug)]
struct Plan {
    tokens: Tokens,
    count: usize,
    finish: FinishReason,
    first_delay: Duration,
    delay: Duration,
    jitter: Duration,
    /// Draws the jitter, seeded by the request: the same request is paced
    /// the same way.
    rng: Rng,
    fault: Option<Fault>,
}

impl Plan {
    /// Whether the answer will be the demo's: no script text or tokens, and
    /// the demo mode asked for by the script or the settings.
    fn writes_demo(script: Option<&Script>, pacing: Pacing) -> bool {
        let listed = script.is_some_and(|s| s.tokens.is_some() || s.text.is_some());
        let mode = script.and_then(|s| s.answer_mode);
        !listed && mode.unwrap_or(pacing.answer_mode) == AnswerMode::Demo
    }

    /// The answer for `request`, asked from a page of `origin`: the script's,
    /// if one was queued, else the default one of the mode in force (demo or
    /// generated); `max_tokens` cuts any (`finish_reason: length`).
    fn new(
        request: &ChatRequest,
        script: Option<Script>,
        pacing: Pacing,
        origin: Option<&str>,
    ) -> Self {
        let script = script.unwrap_or_default();
        // A request ending with the assistant's own unfinished words asks
        // for the rest: the answer is the one asked without them, from
        // where they end (see `answer::continuation`).
        let stripped;
        let (request, prefix) = match answer::continuation(request) {
            Some((without, prefix)) => {
                stripped = without;
                (&stripped, Some(prefix))
            }
            None => (request, None),
        };
        let max = request.max_tokens.map_or(usize::MAX, |m| m as usize);
        let mode = script.answer_mode.unwrap_or(pacing.answer_mode);
        let wanted = script
            .token_count
            .map_or(pacing.answer_tokens, |n| n as usize);
        let listed = match (script.tokens, script.text) {
            (Some(tokens), _) => Some(tokens),
            (None, Some(text)) => Some(answer::split_words(&text)),
            (None, None) if mode == AnswerMode::Demo => Some(crate::demo::tokens::split(
                &crate::demo::answer(request, origin),
            )),
            (None, None) => None,
        };
        let listed = match (listed, prefix) {
            (listed, None) => listed,
            (listed, Some(prefix)) => {
                let all = listed
                    .unwrap_or_else(|| Generator::new(answer::seed(request), wanted).collect());
                // Words that are not the start of this answer: answer whole.
                Some(answer::after_prefix(&all, &prefix).unwrap_or(all))
            }
        };
        let (tokens, count, finish) = match listed {
            Some(mut tokens) => {
                let finish = if tokens.len() > max {
                    tokens.truncate(max);
                    FinishReason::Length
                } else {
                    FinishReason::Stop
                };
                let count = tokens.len();
                (Tokens::Listed(tokens.into_iter()), count, finish)
            }
            None => {
                let (count, finish) = if max < wanted {
                    (max, FinishReason::Length)
                } else {
                    (wanted, FinishReason::Stop)
                };
                let generator = Generator::new(answer::seed(request), wanted).take(count);
                (Tokens::Generated(generator), count, finish)
            }
        };
        Plan {
            tokens,
            count,
            finish,
            first_delay: script
                .first_token_delay_ms
                .map_or(pacing.first_token_delay, Duration::from_millis),
            delay: script
                .token_delay_ms
                .map_or(pacing.token_delay, Duration::from_millis),
            jitter: script
                .token_jitter_ms
                .map_or(pacing.token_jitter, Duration::from_millis),
            rng: Rng(answer::seed(request) ^ JITTER_SEED),
            fault: script.fault,
        }
    }

    /// The wait before the next chunk after the first: `delay`, moved by up
    /// to `jitter` either way (never below zero), to the microsecond.
    fn next_delay(&mut self) -> Duration {
        let jitter = self.jitter.as_micros() as u64;
        if jitter == 0 {
            return self.delay;
        }
        let offset = self.rng.below((2 * jitter + 1) as usize) as u64;
        let micros = (self.delay.as_micros() as u64 + offset).saturating_sub(jitter);
        Duration::from_micros(micros)
    }
}

/// Mixed into the request's seed for the jitter, so that it does not follow
/// the generated answer's words.
const JITTER_SEED: u64 = 0x6a09_e667_f3bc_c908;

/// A non-streamed answer, or the non-streamed form of its fault.
async fn whole_response(meta: Meta, plan: Plan, usage: Usage) -> Result<Response, ApiError> {
    match plan.fault {
        None | Some(Fault::Status { .. }) => {}
        Some(Fault::Error { code, message, .. }) => {
            let body = stream_error(code.as_deref(), message.as_deref());
            return Err(ApiError::Scripted {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: body.error.code,
                message: body.error.message,
                retry_after: None,
            });
        }
        Some(Fault::Malformed { .. }) => {
            return Ok(
                ([(header::CONTENT_TYPE, "application/json")], MALFORMED_DATA).into_response(),
            );
        }
        Some(Fault::Drop { .. }) => {
            let body = stream::once(async {
                tokio::time::sleep(DROP_GRACE).await;
                Err::<Bytes, _>(std::io::Error::other("scripted drop"))
            });
            let mut response = ResponseBody::from_stream(body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Ok(response);
        }
        Some(Fault::Stall { .. }) => {
            tokio::time::sleep(STALL_LIMIT).await;
            return Err(ApiError::UpstreamTimeout);
        }
    }
    let completion = ChatCompletion {
        id: meta.id,
        object: "chat.completion".into(),
        created: meta.created,
        model: meta.model,
        choices: vec![CompletionChoice {
            index: 0,
            message: ChatMessage {
                role: Role::Assistant,
                content: plan.tokens.collect(),
            },
            finish_reason: plan.finish,
        }],
        usage,
    };
    Ok(Json(completion).into_response())
}

/// Where a stream is in its sequence of frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Role,
    Content,
    Finish,
    Usage,
    Done,
    End,
}

/// What the stream does next.
enum Step {
    /// Wait, then send these bytes.
    Frame(Duration, Bytes),
    /// Wait, then cut the connection.
    Abort(Duration),
    /// Send nothing at all, then cut the connection after [`STALL_LIMIT`].
    Stall,
    /// End the body normally.
    End,
}

/// A completion stream, rendered one frame at a time as it is sent, so an
/// open stream costs a few words of state and little else.
struct Stream {
    meta: Meta,
    plan: Plan,
    usage: Option<Usage>,
    phase: Phase,
    /// Content chunks sent so far.
    sent: usize,
    /// A content frame up to its content string: rendered once, as most
    /// frames of a stream are content (see [`Stream::content_frame`]).
    content_prefix: String,
}

/// What follows the content string in a content frame.
const CONTENT_SUFFIX: &str = "},\"finish_reason\":null}]}\n\n";

impl Stream {
    fn new(meta: Meta, plan: Plan, usage: Option<Usage>) -> Self {
        let json = |text: &str| serde_json::to_string(text).unwrap_or_default();
        let content_prefix = format!(
            "data: {{\"id\":{},\"object\":\"chat.completion.chunk\",\"created\":{},\"model\":{},\"choices\":[{{\"index\":0,\"delta\":{{\"content\":",
            json(&meta.id),
            meta.created,
            json(&meta.model),
        );
        Stream {
            meta,
            plan,
            usage,
            phase: Phase::Role,
            sent: 0,
            content_prefix,
        }
    }

    /// A content chunk's frame: byte for byte what serialising its
    /// [`ChatChunk`] would give, without building one per token.
    fn content_frame(&self, content: &str) -> Bytes {
        let mut out = Vec::with_capacity(
            self.content_prefix.len() + content.len() + 2 + CONTENT_SUFFIX.len() + 8,
        );
        out.extend_from_slice(self.content_prefix.as_bytes());
        if serde_json::to_writer(&mut out, content).is_err() {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(CONTENT_SUFFIX.as_bytes());
        Bytes::from(out)
    }

    fn chunk(&self, delta: Delta, finish: Option<FinishReason>, usage: Option<Usage>) -> Bytes {
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
        frame(&serde_json::to_string(&chunk).unwrap_or_default())
    }

    /// The next step: role chunk, content chunks (or the fault, once its
    /// `after` chunks are sent), finish chunk, usage chunk, `[DONE]`.
    fn advance(&mut self) -> Step {
        match self.phase {
            Phase::Role => {
                self.phase = Phase::Content;
                let role = Delta {
                    role: Some(Role::Assistant),
                    content: None,
                };
                Step::Frame(Duration::ZERO, self.chunk(role, None, None))
            }
            Phase::Content => {
                let delay = if self.sent == 0 {
                    self.plan.first_delay
                } else {
                    self.plan.next_delay()
                };
                let due = self
                    .plan
                    .fault
                    .as_ref()
                    .and_then(Fault::after)
                    .is_some_and(|after| (after as usize).min(self.plan.count) == self.sent);
                if due {
                    self.phase = Phase::End;
                    return match self.plan.fault.take() {
                        Some(Fault::Drop { .. }) => Step::Abort(delay.max(DROP_GRACE)),
                        Some(Fault::Error { code, message, .. }) => {
                            let body = stream_error(code.as_deref(), message.as_deref());
                            let data = serde_json::to_string(&body).unwrap_or_default();
                            Step::Frame(delay, frame(&data))
                        }
                        Some(Fault::Malformed { .. }) => Step::Frame(delay, frame(MALFORMED_DATA)),
                        _ => Step::Stall,
                    };
                }
                match self.plan.tokens.next() {
                    Some(content) if self.sent < self.plan.count => {
                        self.sent += 1;
                        Step::Frame(delay, self.content_frame(&content))
                    }
                    _ => {
                        self.phase = Phase::Finish;
                        self.advance()
                    }
                }
            }
            Phase::Finish => {
                self.phase = if self.usage.is_some() {
                    Phase::Usage
                } else {
                    Phase::Done
                };
                let finish = Some(self.plan.finish);
                Step::Frame(Duration::ZERO, self.chunk(Delta::default(), finish, None))
            }
            Phase::Usage => {
                self.phase = Phase::Done;
                Step::Frame(
                    Duration::ZERO,
                    self.chunk(Delta::default(), None, self.usage),
                )
            }
            Phase::Done => {
                self.phase = Phase::End;
                Step::Frame(Duration::ZERO, frame("[DONE]"))
            }
            Phase::End => Step::End,
        }
    }
}

/// One SSE event holding `data`.
fn frame(data: &str) -> Bytes {
    let mut out = String::with_capacity(data.len() + 8);
    ringside_wire::sse::write_data_event(&mut out, data);
    Bytes::from(out)
}

fn sse_response(stream: Stream) -> Response {
    let body = stream::unfold(stream, |mut stream| async move {
        let item = match stream.advance() {
            Step::Frame(delay, frame) => {
                sleep(delay).await;
                Ok(frame)
            }
            Step::Abort(delay) => {
                sleep(delay).await;
                Err(std::io::Error::other("scripted drop"))
            }
            Step::Stall => {
                tokio::time::sleep(STALL_LIMIT).await;
                Err(std::io::Error::other("scripted stall ran out"))
            }
            Step::End => return None,
        };
        Some((item, stream))
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

async fn sleep(delay: Duration) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ChatRequest {
        ChatRequest {
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
        }
    }

    fn pacing(delay_ms: u64, jitter_ms: u64) -> Pacing {
        Pacing {
            answer_mode: AnswerMode::Generated,
            answer_tokens: 3,
            first_token_delay: Duration::ZERO,
            token_delay: Duration::from_millis(delay_ms),
            token_jitter: Duration::from_millis(jitter_ms),
        }
    }

    fn stream() -> Stream {
        let request = request();
        let pacing = pacing(0, 0);
        let meta = Meta {
            id: "chatcmpl-\"odd\"".into(),
            created: 1_700_000_000,
            model: "fc:openai/gpt-4o-mini".into(),
        };
        Stream::new(meta, Plan::new(&request, None, pacing, None), None)
    }

    #[test]
    fn jitter_moves_each_delay_within_its_bounds_the_same_way_for_the_same_request() {
        // 23 ± 10 ms: 30 to 77 tokens a second, the demo's pace.
        let delays = |delay, jitter| {
            let mut plan = Plan::new(&request(), None, pacing(delay, jitter), None);
            (0..2000).map(|_| plan.next_delay()).collect::<Vec<_>>()
        };
        let paced = delays(23, 10);
        let (min, max) = (paced.iter().min().unwrap(), paced.iter().max().unwrap());
        assert!(*min >= Duration::from_millis(13) && *max <= Duration::from_millis(33));
        assert!(*min < Duration::from_millis(14) && *max > Duration::from_millis(32));
        assert_eq!(paced, delays(23, 10), "the same request, the same pace");
        assert!(
            delays(30, 0)
                .iter()
                .all(|d| *d == Duration::from_millis(30)),
            "no jitter: every delay is the setting"
        );
        assert!(
            delays(2, 10)
                .iter()
                .all(|d| *d <= Duration::from_millis(12)),
            "a delay never goes below zero"
        );
    }

    #[test]
    fn a_content_frame_is_byte_for_byte_its_serialised_chunk() {
        let stream = stream();
        for content in ["Hello", " \"quoted\"\n", "é 🎉 \u{1}", ""] {
            let delta = Delta {
                role: None,
                content: Some(content.into()),
            };
            assert_eq!(
                stream.content_frame(content),
                stream.chunk(delta, None, None),
                "{content:?}"
            );
        }
    }
}
