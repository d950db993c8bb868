//! The test controls under `/__mock/…`, served only with `--controls`
//! (`server/mock/CONTROLS.md` is their manual):
//! - `POST /__mock/reset` → 204: forget everything but the signing key;
//! - `POST /__mock/clock` `{advance_secs}` or `{set_unix}` → 200 `{now}`;
//! - `POST /__mock/script` `{completions: [Script…]}` → 204: queue answers
//!   and faults for the next chat completions;
//! - `POST /__mock/customer_delay` `{ms}` → 204: slow customer creation down;
//! - `GET|POST /__mock/settings` → 200: read or change the default answer
//!   mode, size and pacing;
//! - `POST /__mock/revoke` `{customer_id?}` → 200 `{revoked}`: revoke every
//!   live Client Token (of one customer);
//! - `GET /__mock/log` → 200 `{requests: [...]}`: every `/v1` request.

use std::collections::VecDeque;
use std::time::Duration;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::answer::AnswerMode;
use crate::config::Options;
use crate::error::ApiError;
use crate::json::{self, Body};
use crate::log::LogEntry;
use crate::state::Settings;

/// The longest answer a script or the settings may ask for, in tokens.
pub const MAX_TOKENS: usize = 100_000;
/// The longest delay a control may set, in milliseconds (10 minutes).
pub const MAX_DELAY_MS: u64 = 600_000;
/// The most scripts that may wait in the queue.
pub const MAX_QUEUED: usize = 10_000;
/// The most bytes of scripted text and tokens that may wait in the queue.
pub const MAX_QUEUED_BYTES: usize = 64 << 20;

/// What the controls have set: the scripted completions waiting, the default
/// pacing, the customer-creation delay. Kept under its own lock
/// ([`AppState::controls`]), never held with the store's.
#[derive(Debug)]
pub struct Controls {
    /// Scripted completions, taken first in, first out.
    pub scripts: VecDeque<Script>,
    /// The default answer size and pacing.
    pub pacing: Pacing,
    /// An artificial delay inside customer creation.
    pub customer_delay: Duration,
}

impl Controls {
    /// Nothing scripted, and the flags' pacing.
    pub fn new(settings: &Settings, options: &Options) -> Self {
        Controls {
            scripts: VecDeque::new(),
            pacing: Pacing::new(settings, options),
            customer_delay: Duration::ZERO,
        }
    }
}

/// How completions are written, sized and paced when no script says
/// otherwise: the flags' values until the controls change them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pacing {
    /// Generated answers or the demo's.
    pub answer_mode: AnswerMode,
    /// Tokens in a generated answer.
    pub answer_tokens: usize,
    /// Delay before the first content token.
    pub first_token_delay: Duration,
    /// Delay between content tokens.
    pub token_delay: Duration,
    /// How far each delay between tokens may stray from `token_delay`.
    pub token_jitter: Duration,
}

impl Pacing {
    /// The flags' pacing.
    pub fn new(settings: &Settings, options: &Options) -> Self {
        Pacing {
            answer_mode: options.answer_mode,
            answer_tokens: settings.answer_tokens,
            first_token_delay: settings.first_token_delay,
            token_delay: settings.token_delay,
            token_jitter: options.token_jitter,
        }
    }
}

/// One scripted chat completion: what the next completion sends instead of
/// the default answer. `tokens` wins over `text`, which wins over
/// `answer_mode`; with none of them the default answer is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The answer, split into words (each with the whitespace before it).
    #[serde(default)]
    pub text: Option<String>,
    /// The exact content deltas.
    #[serde(default)]
    pub tokens: Option<Vec<String>>,
    /// Generated answer or the demo's (default: the settings').
    #[serde(default)]
    pub answer_mode: Option<AnswerMode>,
    /// The length of the generated answer.
    #[serde(default)]
    pub token_count: Option<u32>,
    /// Milliseconds before the first content chunk.
    #[serde(default)]
    pub first_token_delay_ms: Option<u64>,
    /// Milliseconds between content chunks.
    #[serde(default)]
    pub token_delay_ms: Option<u64>,
    /// How many milliseconds each delay between chunks may stray from
    /// `token_delay_ms`, either way.
    #[serde(default)]
    pub token_jitter_ms: Option<u64>,
    /// Something to go wrong.
    #[serde(default)]
    pub fault: Option<Fault>,
}

/// A fault to inject. `after` counts the content chunks already sent (the
/// role chunk does not count); past the end of the answer it means "after
/// the last content chunk", before the finish chunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "FaultFields")]
pub enum Fault {
    /// Cut the connection after `after` content chunks: no `[DONE]`, the
    /// client sees the body fail.
    Drop {
        /// Content chunks sent first.
        after: u32,
    },
    /// Send one `data: {"error": {...}}` frame after `after` content chunks,
    /// then end the stream without `[DONE]`.
    Error {
        /// Content chunks sent first.
        after: u32,
        /// `error.code` (default `upstream_error`).
        code: Option<String>,
        /// `error.message`.
        message: Option<String>,
    },
    /// Send a frame whose data is not JSON (`{"choices":[`) after `after`
    /// content chunks, then end the stream without `[DONE]`.
    Malformed {
        /// Content chunks sent first.
        after: u32,
    },
    /// Answer `status` with the contract's error body before any streaming.
    Status {
        /// 400 to 599.
        status: u16,
        /// `error.code` (a default that suits the status otherwise).
        code: Option<String>,
        /// `error.message`.
        message: Option<String>,
        /// `Retry-After`, in seconds.
        retry_after: Option<u64>,
    },
    /// Send `after` content chunks, then nothing at all until the client
    /// goes away (or 10 minutes pass).
    Stall {
        /// Content chunks sent first.
        after: u32,
    },
}

/// Every field a fault may have, so a wrong type is reported at its own
/// path (`completions[0].fault.after`) before the kind decides which apply.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultFields {
    kind: FaultKind,
    #[serde(default)]
    after: Option<u32>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    retry_after: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum FaultKind {
    Drop,
    Error,
    Malformed,
    Status,
    Stall,
}

impl TryFrom<FaultFields> for Fault {
    type Error = String;

    fn try_from(f: FaultFields) -> Result<Self, String> {
        let only = |allowed: &[&str]| -> Result<(), String> {
            let present = [
                ("after", f.after.is_some()),
                ("code", f.code.is_some()),
                ("message", f.message.is_some()),
                ("status", f.status.is_some()),
                ("retry_after", f.retry_after.is_some()),
            ];
            match present
                .iter()
                .find(|(name, set)| *set && !allowed.contains(name))
            {
                Some((name, _)) => Err(format!("a {:?} fault has no `{name}`", f.kind)),
                None => Ok(()),
            }
        };
        let after = f.after.unwrap_or(0);
        Ok(match f.kind {
            FaultKind::Drop => {
                only(&["after"])?;
                Fault::Drop { after }
            }
            FaultKind::Malformed => {
                only(&["after"])?;
                Fault::Malformed { after }
            }
            FaultKind::Stall => {
                only(&["after"])?;
                Fault::Stall { after }
            }
            FaultKind::Error => {
                only(&["after", "code", "message"])?;
                Fault::Error {
                    after,
                    code: f.code,
                    message: f.message,
                }
            }
            FaultKind::Status => {
                only(&["status", "code", "message", "retry_after"])?;
                Fault::Status {
                    status: f.status.ok_or("missing field `status`")?,
                    code: f.code,
                    message: f.message,
                    retry_after: f.retry_after,
                }
            }
        })
    }
}

impl Script {
    /// The bytes of text and tokens it holds.
    pub fn size(&self) -> usize {
        self.text.as_ref().map_or(0, String::len)
            + self
                .tokens
                .as_ref()
                .map_or(0, |tokens| tokens.iter().map(|t| t.len() + 24).sum())
    }
}

impl Fault {
    /// Content chunks sent before the fault; `None` for `status`, which
    /// happens before streaming.
    pub fn after(&self) -> Option<u32> {
        match self {
            Fault::Drop { after }
            | Fault::Error { after, .. }
            | Fault::Malformed { after }
            | Fault::Stall { after } => Some(*after),
            Fault::Status { .. } => None,
        }
    }
}

/// The controls' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reset", post(reset))
        .route("/clock", post(clock))
        .route("/script", post(script))
        .route("/customer_delay", post(customer_delay))
        .route("/settings", get(settings).post(change_settings))
        .route("/revoke", post(revoke))
        .route("/log", get(log))
}

async fn reset(State(state): State<AppState>) -> StatusCode {
    state.reset();
    StatusCode::NO_CONTENT
}

/// The body of `POST /__mock/clock`: one of the two.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    /// Move the clock by this many seconds (negative: back).
    #[serde(default)]
    advance_secs: Option<f64>,
    /// Set the clock to this Unix time, in seconds.
    #[serde(default)]
    set_unix: Option<f64>,
}

/// The answer of `POST /__mock/clock`.
#[derive(Debug, Serialize)]
struct Now {
    /// The mock's time, Unix seconds.
    now: i64,
}

/// Seconds as whole milliseconds, refusing what no clock could hold.
fn secs_to_ms(param: &str, secs: f64) -> Result<i64, ApiError> {
    let ms = (secs * 1000.0).round();
    if ms.is_finite() && ms.abs() < 1e15 {
        Ok(ms as i64)
    } else {
        Err(ApiError::invalid(param, "out of range"))
    }
}

async fn clock(State(state): State<AppState>, Body(body): Body) -> Result<Json<Now>, ApiError> {
    let change: ClockChange = json::parse_or_default(&body)?;
    match (change.advance_secs, change.set_unix) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "advance_secs",
                "send advance_secs or set_unix, not both",
            ));
        }
        (Some(secs), None) => state.clock.advance_ms(secs_to_ms("advance_secs", secs)?),
        (None, Some(unix)) => state.clock.set_ms(secs_to_ms("set_unix", unix)?),
        (None, None) => {}
    }
    Ok(Json(Now {
        now: state.clock.now(),
    }))
}

/// The body of `POST /__mock/script`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptRequest {
    completions: Vec<Script>,
}

fn check_delay(param: String, ms: Option<u64>) -> Result<(), ApiError> {
    match ms {
        Some(ms) if ms > MAX_DELAY_MS => Err(ApiError::invalid(
            param,
            format!("at most {MAX_DELAY_MS} ms"),
        )),
        _ => Ok(()),
    }
}

fn check_script(i: usize, script: &Script) -> Result<(), ApiError> {
    let at = |field: &str| format!("completions[{i}].{field}");
    if script.token_count.is_some_and(|n| n as usize > MAX_TOKENS) {
        return Err(ApiError::invalid(
            at("token_count"),
            format!("at most {MAX_TOKENS} tokens"),
        ));
    }
    if script.tokens.as_ref().is_some_and(|t| t.len() > MAX_TOKENS) {
        return Err(ApiError::invalid(
            at("tokens"),
            format!("at most {MAX_TOKENS} tokens"),
        ));
    }
    check_delay(at("first_token_delay_ms"), script.first_token_delay_ms)?;
    check_delay(at("token_delay_ms"), script.token_delay_ms)?;
    check_delay(at("token_jitter_ms"), script.token_jitter_ms)?;
    if script.answer_mode == Some(AnswerMode::Demo) && script.token_count.is_some() {
        return Err(ApiError::invalid(
            at("token_count"),
            "token_count sizes a generated answer; a demo answer is as long as its text",
        ));
    }
    if let Some(Fault::Status {
        status,
        code,
        retry_after,
        ..
    }) = &script.fault
    {
        if !(400..=599).contains(status) {
            return Err(ApiError::invalid(
                at("fault.status"),
                "a fault's status is 400 to 599",
            ));
        }
        if code.as_ref().is_some_and(|c| c.is_empty()) {
            return Err(ApiError::invalid(
                at("fault.code"),
                "code must not be empty",
            ));
        }
        if retry_after.is_some_and(|s| s > 86_400) {
            return Err(ApiError::invalid(
                at("fault.retry_after"),
                "at most 86400 seconds",
            ));
        }
    }
    Ok(())
}

async fn script(State(state): State<AppState>, Body(body): Body) -> Result<StatusCode, ApiError> {
    let request: ScriptRequest = json::parse(&body)?;
    for (i, script) in request.completions.iter().enumerate() {
        check_script(i, script)?;
    }
    let mut controls = state.controls();
    if controls.scripts.len() + request.completions.len() > MAX_QUEUED {
        return Err(ApiError::invalid(
            "completions",
            format!("at most {MAX_QUEUED} scripts may wait"),
        ));
    }
    let queued: usize = controls.scripts.iter().map(Script::size).sum();
    let adding: usize = request.completions.iter().map(Script::size).sum();
    if queued + adding > MAX_QUEUED_BYTES {
        return Err(ApiError::invalid(
            "completions",
            "at most 64 MiB of scripted text may wait",
        ));
    }
    let demo = request
        .completions
        .iter()
        .any(|s| s.answer_mode == Some(AnswerMode::Demo));
    controls.scripts.extend(request.completions);
    drop(controls);
    if demo {
        crate::demo::tokens::warm_up();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `POST /__mock/customer_delay`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Delay {
    ms: u64,
}

async fn customer_delay(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<StatusCode, ApiError> {
    let delay: Delay = json::parse(&body)?;
    check_delay("ms".into(), Some(delay.ms))?;
    state.controls().customer_delay = Duration::from_millis(delay.ms);
    Ok(StatusCode::NO_CONTENT)
}

/// The default answer mode, size and pacing, as `GET|POST /__mock/settings`
/// show and take them (every field optional when changing).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsBody {
    #[serde(default)]
    answer_mode: Option<AnswerMode>,
    #[serde(default)]
    answer_tokens: Option<usize>,
    #[serde(default)]
    first_token_delay_ms: Option<u64>,
    #[serde(default)]
    token_delay_ms: Option<u64>,
    #[serde(default)]
    token_jitter_ms: Option<u64>,
}

fn current(state: &AppState) -> SettingsBody {
    let pacing = state.controls().pacing;
    SettingsBody {
        answer_mode: Some(pacing.answer_mode),
        answer_tokens: Some(pacing.answer_tokens),
        first_token_delay_ms: Some(pacing.first_token_delay.as_millis() as u64),
        token_delay_ms: Some(pacing.token_delay.as_millis() as u64),
        token_jitter_ms: Some(pacing.token_jitter.as_millis() as u64),
    }
}

async fn settings(State(state): State<AppState>) -> Json<SettingsBody> {
    Json(current(&state))
}

async fn change_settings(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<Json<SettingsBody>, ApiError> {
    let change: SettingsBody = json::parse_or_default(&body)?;
    if change.answer_tokens.is_some_and(|n| n > MAX_TOKENS) {
        return Err(ApiError::invalid(
            "answer_tokens",
            format!("at most {MAX_TOKENS} tokens"),
        ));
    }
    check_delay("first_token_delay_ms".into(), change.first_token_delay_ms)?;
    check_delay("token_delay_ms".into(), change.token_delay_ms)?;
    check_delay("token_jitter_ms".into(), change.token_jitter_ms)?;
    if change.answer_mode == Some(AnswerMode::Demo) {
        crate::demo::tokens::warm_up();
    }
    {
        let mut controls = state.controls();
        let pacing = &mut controls.pacing;
        if let Some(mode) = change.answer_mode {
            pacing.answer_mode = mode;
        }
        if let Some(n) = change.answer_tokens {
            pacing.answer_tokens = n;
        }
        if let Some(ms) = change.first_token_delay_ms {
            pacing.first_token_delay = Duration::from_millis(ms);
        }
        if let Some(ms) = change.token_delay_ms {
            pacing.token_delay = Duration::from_millis(ms);
        }
        if let Some(ms) = change.token_jitter_ms {
            pacing.token_jitter = Duration::from_millis(ms);
        }
    }
    Ok(Json(current(&state)))
}

/// The body of `POST /__mock/revoke`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    /// Only this customer's tokens (`cus_…` or external id); all when absent.
    #[serde(default)]
    customer_id: Option<String>,
}

/// The answer of `POST /__mock/revoke`.
#[derive(Debug, Serialize)]
struct Revoked {
    /// How many live tokens it revoked.
    revoked: usize,
}

/// Revokes every live Client Token (of one customer), as its owner's
/// server would one by one: a page can watch the widget recover from a
/// token refused mid-conversation without holding an API key.
async fn revoke(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<Json<Revoked>, ApiError> {
    let request: RevokeRequest = json::parse_or_default(&body)?;
    let now = state.clock.now();
    let mut store = state.store();
    let customer = match &request.customer_id {
        Some(handle) => Some(
            store
                .customer(handle)
                .ok_or_else(|| ApiError::NotFound(format!("no customer `{handle}`")))?
                .id
                .clone(),
        ),
        None => None,
    };
    let mut revoked = 0;
    for record in store.client_tokens.values_mut() {
        let token = &mut record.token;
        let chosen = customer.as_ref().is_none_or(|id| *id == token.customer_id);
        if chosen && !token.revoked && token.expires_at > now {
            token.revoked = true;
            revoked += 1;
        }
    }
    Ok(Json(Revoked { revoked }))
}

/// The answer of `GET /__mock/log`.
#[derive(Debug, Serialize)]
struct Log {
    requests: Vec<LogEntry>,
}

async fn log(State(state): State<AppState>) -> Json<Log> {
    Json(Log {
        requests: state.log.entries(),
    })
}
