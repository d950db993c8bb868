//! Moderations: `POST /v1/moderations`, in OpenAI's shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What to classify: one text or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ModerationInput {
    /// One text.
    Text(String),
    /// Several texts, one result each.
    Texts(Vec<String>),
}

/// The body of `POST /v1/moderations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationRequest {
    /// What to classify.
    pub input: ModerationInput,
    /// A provider-prefixed moderation model; the gateway picks one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// The verdict on one input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModerationResult {
    /// Whether any category was flagged.
    pub flagged: bool,
    /// Each category (`hate`, `violence`, `self-harm/intent`, …) and whether it was flagged.
    pub categories: BTreeMap<String, bool>,
    /// Each category's score, 0 to 1.
    pub category_scores: BTreeMap<String, f64>,
    /// The kinds of input each category was judged on (`text`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub category_applied_input_types: BTreeMap<String, Vec<String>>,
}

/// The answer of `POST /v1/moderations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModerationResponse {
    /// `modr-…`.
    pub id: String,
    /// The model that answered.
    pub model: String,
    /// One result per input, in order.
    pub results: Vec<ModerationResult>,
}
