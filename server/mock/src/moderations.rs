//! `POST /v1/moderations`: deterministic verdicts in OpenAI's shape.
//!
//! A category is flagged when the input holds one of its trigger words
//! (whole words, any case) or the marker `[flag:<category>]`, e.g.
//! `[flag:self-harm/intent]`; its score is then 0.9 or more. Every other
//! score is below 0.01, derived from the text, so the same input always gets
//! the same verdict.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::{
    Json, Router,
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::post,
};
use ringside_wire::customer::Scope;
use ringside_wire::moderations::{
    ModerationInput, ModerationRequest, ModerationResponse, ModerationResult,
};

use crate::AppState;
use crate::answer::{Rng, fnv1a};
use crate::auth::authorize;
use crate::billing;
use crate::error::ApiError;
use crate::json::{self, Body};
use crate::rate;

/// The moderation models the mock knows; the first is the default.
pub const MODELS: &[&str] = &["fc:openai/omni-moderation-latest"];

/// The most inputs one call may classify.
pub const MAX_INPUTS: usize = 1024;

/// Every category and the words that flag it.
pub const CATEGORIES: &[(&str, &[&str])] = &[
    ("harassment", &["idiot", "stupid", "loser"]),
    ("harassment/threatening", &["threaten", "threat"]),
    ("hate", &["bigot", "hateful", "slur"]),
    ("hate/threatening", &[]),
    ("illicit", &["meth", "counterfeit", "launder"]),
    ("illicit/violent", &["bomb", "explosive"]),
    ("self-harm", &["suicide", "selfharm"]),
    ("self-harm/instructions", &[]),
    ("self-harm/intent", &[]),
    ("sexual", &["nsfw", "porn"]),
    ("sexual/minors", &[]),
    ("violence", &["kill", "murder", "stab", "shoot"]),
    ("violence/graphic", &["gore", "dismember"]),
];

/// The moderations route.
pub fn router() -> Router<AppState> {
    Router::new().route("/moderations", post(create))
}

/// The verdict on one text.
pub fn classify(text: &str) -> ModerationResult {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut rng = Rng(fnv1a(text.as_bytes(), 0x6d6f_6465_7261_7465));
    let mut result = ModerationResult {
        flagged: false,
        categories: BTreeMap::new(),
        category_scores: BTreeMap::new(),
        category_applied_input_types: BTreeMap::new(),
    };
    for (category, triggers) in CATEGORIES {
        let noise = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        let hit = triggers.iter().any(|t| words.contains(t))
            || lower.contains(&format!("[flag:{category}]"));
        let score = if hit {
            0.9 + noise * 0.09
        } else {
            noise * 0.01
        };
        result.flagged |= hit;
        result.categories.insert((*category).into(), hit);
        result
            .category_scores
            .insert((*category).into(), (score * 1e6).round() / 1e6);
        result
            .category_applied_input_types
            .insert((*category).into(), vec!["text".into()]);
    }
    result
}

/// Handles `POST /v1/moderations`.
pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, peer.ip(), Scope::Moderations)?;
    let request: ModerationRequest = json::parse(&body)?;
    let model = request.model.as_deref().unwrap_or(MODELS[0]);
    if !MODELS.contains(&model) {
        return Err(ApiError::invalid(
            "model",
            format!(
                "unknown moderation model `{model}`; try {}",
                MODELS.join(", ")
            ),
        ));
    }
    let texts: Vec<&str> = match &request.input {
        ModerationInput::Text(text) => vec![text],
        ModerationInput::Texts(texts) => texts.iter().map(String::as_str).collect(),
    };
    if texts.is_empty() {
        return Err(ApiError::invalid(
            "input",
            "input must not be an empty list",
        ));
    }
    if texts.len() > MAX_INPUTS {
        return Err(ApiError::invalid(
            "input",
            format!("at most {MAX_INPUTS} inputs per call"),
        ));
    }
    let customer = caller.customer(&state, None)?;
    let tokens: usize = texts.iter().map(|t| t.len().div_ceil(4)).sum();
    let rate = billing::admit_and_charge(
        &mut state.store(),
        state.clock.now_ms(),
        customer.as_deref(),
        billing::cost(model, u32::try_from(tokens).unwrap_or(u32::MAX), 0),
    )?;
    let answer = ModerationResponse {
        id: format!("modr-{:016x}", fnv1a(&body, 0xcbf2_9ce4_8422_2325)),
        model: model.to_string(),
        results: texts.into_iter().map(classify).collect(),
    };
    Ok(rate::with_rate(Json(answer).into_response(), rate))
}
