//! `POST /v1/embeddings`: deterministic unit vectors in OpenAI's shape. The
//! same model and input always give the same vector; different inputs give
//! (almost surely) different ones.

use std::net::SocketAddr;

use axum::{
    Json, Router,
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use ringside_wire::customer::Scope;
use ringside_wire::embeddings::{
    Embedding, EmbeddingInput, EmbeddingList, EmbeddingUsage, EmbeddingVector, EmbeddingsRequest,
    EncodingFormat,
};

use crate::AppState;
use crate::answer::{Rng, fnv1a};
use crate::auth::authorize;
use crate::billing;
use crate::error::ApiError;
use crate::json::{self, Body};
use crate::rate;

/// The embedding models the mock knows, with their native dimensions.
pub const MODELS: &[(&str, usize)] = &[
    ("fc:openai/text-embedding-3-small", 1536),
    ("fc:openai/text-embedding-3-large", 3072),
];

/// The most inputs one call may embed.
pub const MAX_INPUTS: usize = 2048;
/// The most numbers one answer may hold (inputs × dimensions), so that no
/// request makes the mock build tens of megabytes of JSON.
pub const MAX_VALUES: usize = 1 << 20;

/// The embeddings route.
pub fn router() -> Router<AppState> {
    Router::new().route("/embeddings", post(create))
}

/// One input, as the bytes its vector is seeded from, and its token count.
struct Input {
    seed_bytes: Vec<u8>,
    tokens: u32,
}

fn text_input(text: &str) -> Input {
    Input {
        seed_bytes: text.as_bytes().to_vec(),
        tokens: u32::try_from(text.len().div_ceil(4)).unwrap_or(u32::MAX),
    }
}

fn token_input(tokens: &[u32]) -> Input {
    let mut seed_bytes = Vec::with_capacity(tokens.len() * 4 + 1);
    seed_bytes.push(0xfe);
    for t in tokens {
        seed_bytes.extend_from_slice(&t.to_le_bytes());
    }
    Input {
        seed_bytes,
        tokens: u32::try_from(tokens.len()).unwrap_or(u32::MAX),
    }
}

fn inputs(input: &EmbeddingInput) -> Result<Vec<Input>, ApiError> {
    let empty = |param: String| ApiError::invalid(param, "an input must not be empty");
    let list: Vec<Input> = match input {
        EmbeddingInput::Text(text) if text.is_empty() => return Err(empty("input".into())),
        EmbeddingInput::Text(text) => vec![text_input(text)],
        EmbeddingInput::Tokens(tokens) if tokens.is_empty() => return Err(empty("input".into())),
        EmbeddingInput::Tokens(tokens) => vec![token_input(tokens)],
        EmbeddingInput::Texts(texts) => {
            if let Some(i) = texts.iter().position(String::is_empty) {
                return Err(empty(format!("input[{i}]")));
            }
            texts.iter().map(|t| text_input(t)).collect()
        }
        EmbeddingInput::TokenLists(lists) => {
            if let Some(i) = lists.iter().position(Vec::is_empty) {
                return Err(empty(format!("input[{i}]")));
            }
            lists.iter().map(|t| token_input(t)).collect()
        }
    };
    if list.is_empty() {
        return Err(ApiError::invalid(
            "input",
            "input must not be an empty list",
        ));
    }
    if list.len() > MAX_INPUTS {
        return Err(ApiError::invalid(
            "input",
            format!("at most {MAX_INPUTS} inputs per call"),
        ));
    }
    Ok(list)
}

/// The unit vector of `bytes` under `model`, with `dims` dimensions.
pub fn vector(model: &str, bytes: &[u8], dims: usize) -> Vec<f32> {
    let seed = fnv1a(bytes, fnv1a(model.as_bytes(), 0xcbf2_9ce4_8422_2325) ^ 0x9e);
    let mut rng = Rng(seed);
    let raw: Vec<f64> = (0..dims)
        .map(|_| (rng.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        .collect();
    let norm = raw
        .iter()
        .map(|x| x * x)
        .sum::<f64>()
        .sqrt()
        .max(f64::MIN_POSITIVE);
    raw.iter().map(|x| (x / norm) as f32).collect()
}

/// Handles `POST /v1/embeddings`.
pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let caller = authorize(&state, &headers, peer.ip(), Scope::Embeddings)?;
    let request: EmbeddingsRequest = json::parse(&body)?;
    let Some(&(_, native)) = MODELS.iter().find(|(m, _)| *m == request.model) else {
        let known: Vec<&str> = MODELS.iter().map(|(m, _)| *m).collect();
        return Err(ApiError::invalid(
            "model",
            format!(
                "unknown embedding model `{}`; try one of {}",
                request.model,
                known.join(", ")
            ),
        ));
    };
    let dims = match request.dimensions {
        None => native,
        Some(d) if d >= 1 && d as usize <= native => d as usize,
        Some(_) => {
            return Err(ApiError::invalid(
                "dimensions",
                format!("dimensions must be between 1 and {native} for this model"),
            ));
        }
    };
    let inputs = inputs(&request.input)?;
    if inputs.len() * dims > MAX_VALUES {
        return Err(ApiError::invalid(
            "input",
            format!(
                "the mock answers at most {MAX_VALUES} numbers per call: fewer inputs or fewer dimensions"
            ),
        ));
    }
    let customer = caller.customer(&state, request.user.as_deref())?;
    let prompt_tokens = inputs
        .iter()
        .fold(0u32, |sum, i| sum.saturating_add(i.tokens.max(1)));
    let rate = billing::admit_and_charge(
        &mut state.store(),
        state.clock.now_ms(),
        customer.as_deref(),
        billing::cost(&request.model, prompt_tokens, 0),
    )?;

    let base64 = request.encoding_format == Some(EncodingFormat::Base64);
    let data = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let values = vector(&request.model, &input.seed_bytes, dims);
            Embedding {
                object: "embedding".into(),
                index: index as u32,
                embedding: if base64 {
                    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                    EmbeddingVector::Base64(B64.encode(bytes))
                } else {
                    EmbeddingVector::Float(values)
                },
            }
        })
        .collect();
    let list = EmbeddingList {
        object: "list".into(),
        data,
        model: request.model,
        usage: EmbeddingUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
    };
    Ok(rate::with_rate(Json(list).into_response(), rate))
}
