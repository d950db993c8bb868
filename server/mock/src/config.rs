//! The mock's flags (each also readable from the environment), and the two
//! values they make: [`Settings`] (how it answers) and [`Options`] (what a
//! test or a demo turns on).

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

use crate::answer::AnswerMode;
use crate::serve::Timeouts;
use crate::state::Settings;

/// The rest of the flags: what a test or a demo turns on.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A second API key without the `api:client_tokens` scope: it may call
    /// everything but minting, listing and revoking Client Tokens (403
    /// `insufficient_scope`).
    pub restricted_api_key: Option<String>,
    /// Serve the test controls under `/__mock/…` (and keep the request log).
    pub controls: bool,
    /// How long clients may take to send a request head and a body.
    pub timeouts: Timeouts,
    /// Which answers are written when no script says (the controls may change it).
    pub answer_mode: AnswerMode,
    /// How far each delay between tokens may stray from `token_delay`, either
    /// way (the controls may change it).
    pub token_jitter: Duration,
}

/// A faithful stand-in for the Ringside gateway, for tests and demos.
#[derive(Debug, Clone, Parser)]
#[command(name = "ringside-mock", version)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one. Loopback only, unless
    /// you mean to expose a mock.
    #[arg(long, env = "RINGSIDE_MOCK_LISTEN", default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,

    /// The API key (every scope, `api:client_tokens` included) that servers
    /// must send as `Authorization: Bearer <key>`.
    #[arg(
        long,
        env = "RINGSIDE_MOCK_API_KEY",
        default_value = "sk_test_ringside_mock",
        hide_env_values = true
    )]
    pub api_key: String,

    /// A second API key without the scope `api:client_tokens`: it may call
    /// everything but minting, listing and revoking Client Tokens, which
    /// answer it 403 `insufficient_scope`. None by default.
    #[arg(long, env = "RINGSIDE_MOCK_RESTRICTED_API_KEY", hide_env_values = true)]
    pub restricted_api_key: Option<String>,

    /// Serve the test controls under `/__mock/…` (reset, clock, scripted
    /// completions and faults, customer-creation delay, settings, request
    /// log); see server/mock/CONTROLS.md. Off by default: then `/__mock/…` is
    /// a 404 like any unknown route.
    #[arg(long, env = "RINGSIDE_MOCK_CONTROLS")]
    pub controls: bool,

    /// The `iss` of the Client Tokens it mints.
    #[arg(long, env = "RINGSIDE_MOCK_ISSUER", default_value = "ringside-mock")]
    pub issuer: String,

    /// Tokens in each generated answer (the controls may change it; a
    /// request's `max_tokens` cuts it). At most 100000.
    #[arg(
        long,
        env = "RINGSIDE_MOCK_ANSWER_TOKENS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u32).range(0..=100_000)
    )]
    pub answer_tokens: u32,

    /// Milliseconds before the first content token of a streamed answer.
    #[arg(
        long,
        env = "RINGSIDE_MOCK_FIRST_TOKEN_DELAY_MS",
        default_value_t = 250
    )]
    pub first_token_delay_ms: u64,

    /// Milliseconds between the tokens of a streamed answer.
    #[arg(long, env = "RINGSIDE_MOCK_TOKEN_DELAY_MS", default_value_t = 30)]
    pub token_delay_ms: u64,

    /// How many milliseconds each delay between tokens may stray from
    /// --token-delay-ms, either way, as a model's pace wavers (0: none).
    #[arg(long, env = "RINGSIDE_MOCK_TOKEN_JITTER_MS", default_value_t = 0)]
    pub token_jitter_ms: u64,

    /// The answers: `generated` (words seeded by the request, what tests
    /// expect) or `demo` (answers about the demo's fictional company, chosen
    /// by what the question is about, in a real tokenizer's tokens).
    #[arg(long, env = "RINGSIDE_MOCK_ANSWER_MODE", value_enum, default_value_t = AnswerMode::Generated)]
    pub answer_mode: AnswerMode,
}

impl Config {
    /// The keys and switches these flags describe.
    pub fn options(&self) -> Options {
        Options {
            restricted_api_key: self.restricted_api_key.clone(),
            controls: self.controls,
            timeouts: Timeouts::default(),
            answer_mode: self.answer_mode,
            token_jitter: Duration::from_millis(self.token_jitter_ms),
        }
    }

    /// The answer settings these flags describe.
    pub fn settings(&self) -> Settings {
        Settings {
            api_key: self.api_key.clone(),
            answer_tokens: self.answer_tokens as usize,
            first_token_delay: Duration::from_millis(self.first_token_delay_ms),
            token_delay: Duration::from_millis(self.token_delay_ms),
        }
    }
}
