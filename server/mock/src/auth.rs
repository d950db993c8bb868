//! Who is calling: a server with the API key (`Authorization: Bearer sk_…`),
//! or a browser with a Client Token (`Authorization: Client <jwt>`), checked
//! in exactly the contract's order.

use std::net::IpAddr;

use axum::http::{HeaderMap, header};
use ringside_wire::customer::Scope;

use crate::AppState;
use crate::error::{ApiError, ClientTokenError};
use crate::jwt::Claims;

/// The key scope that minting, listing and revoking Client Tokens needs.
pub const SCOPE_CLIENT_TOKENS: &str = "api:client_tokens";

/// An API key that authenticated a server call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key itself (Idempotency-Keys are scoped to it).
    pub key: String,
    /// Whether it has the scope [`SCOPE_CLIENT_TOKENS`].
    pub client_tokens: bool,
}

/// An authenticated caller of a client-allowed endpoint.
#[derive(Debug)]
pub enum Caller {
    /// A server holding an API key: may act for any customer.
    Server(ApiKey),
    /// A browser holding a Client Token that passed every header check.
    Client(Claims),
}

impl Caller {
    /// The customer whose wallet and limits a call counts against: the pinned
    /// one for a Client Token, the body's `user` (if it names a customer) for
    /// a server.
    ///
    /// With a Client Token, a `user` naming anyone else (by id or external id)
    /// is refused: `403 client_token_customer_mismatch`.
    pub fn customer(
        &self,
        state: &AppState,
        user: Option<&str>,
    ) -> Result<Option<String>, ApiError> {
        match self {
            Caller::Server(_) => {
                let id = user.and_then(|u| state.store().customer(u).map(|c| c.id.clone()));
                if let Some(id) = &id {
                    crate::log::note_customer(id);
                }
                Ok(id)
            }
            Caller::Client(claims) => {
                if let Some(user) = user {
                    let store = state.store();
                    let pinned = store.customer(&claims.sub);
                    let same = user == claims.sub || pinned.is_some_and(|c| c.external_id == user);
                    if !same {
                        return Err(ClientTokenError::CustomerMismatch.into());
                    }
                }
                Ok(Some(claims.sub.clone()))
            }
        }
    }

    /// The customer a Client Token is pinned to; `None` for a server.
    pub fn pinned(&self) -> Option<&str> {
        match self {
            Caller::Server(_) => None,
            Caller::Client(claims) => Some(&claims.sub),
        }
    }
}

enum Credential<'a> {
    Bearer(&'a str),
    Client(&'a str),
}

fn credential(headers: &HeaderMap) -> Result<Option<Credential<'_>>, ApiError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        // Two credentials: which one is meant is ambiguous, so neither is used.
        return Err(ApiError::InvalidApiKey);
    }
    // The scheme decides which check refuses a value, even one that is not
    // visible ASCII (a garbled Client Token is still a Client Token).
    let bytes = value.as_bytes();
    let (scheme, rest) = match bytes.iter().position(|&b| b == b' ') {
        Some(space) => (&bytes[..space], &bytes[space + 1..]),
        None => (bytes, &b""[..]),
    };
    let rest = std::str::from_utf8(rest).map(|r| r.trim_start_matches(' '));
    if scheme.eq_ignore_ascii_case(b"bearer") {
        rest.map(|key| Some(Credential::Bearer(key)))
            .map_err(|_| ApiError::InvalidApiKey)
    } else if scheme.eq_ignore_ascii_case(b"client") {
        rest.map(|token| Some(Credential::Client(token)))
            .map_err(|_| {
                ClientTokenError::Invalid("the token has characters outside [A-Za-z0-9_.-]").into()
            })
    } else {
        Err(ApiError::InvalidApiKey)
    }
}

/// Checks 1–3 of the table: the token itself, its expiry, its revocation.
fn verify_client_token(state: &AppState, token: &str) -> Result<Claims, ClientTokenError> {
    let claims = state.signer.verify(token, state.clock.now())?;
    match state.store().client_tokens.get(&claims.jti) {
        Some(record) if record.token.customer_id != claims.sub => Err(ClientTokenError::Invalid(
            "the token does not match its record",
        )),
        Some(record) => {
            crate::log::note_customer(&claims.sub);
            if record.token.revoked {
                Err(ClientTokenError::Revoked)
            } else {
                Ok(claims)
            }
        }
        None => Err(ClientTokenError::Invalid(
            "this gateway did not mint the token",
        )),
    }
}

/// The API key `presented` stands for, if it is one of ours.
fn api_key(state: &AppState, presented: &str) -> Option<ApiKey> {
    if constant_time_eq(presented, &state.settings.api_key) {
        return Some(ApiKey {
            key: presented.to_string(),
            client_tokens: true,
        });
    }
    match &state.options.restricted_api_key {
        Some(restricted) if constant_time_eq(presented, restricted) => Some(ApiKey {
            key: presented.to_string(),
            client_tokens: false,
        }),
        _ => None,
    }
}

/// Bearer-only routes (customers, wallets): an API key, nothing else.
///
/// A Client Token here is verified first (a bad one is a 401 like anywhere
/// else), then refused as `403 client_token_endpoint_not_allowed`.
pub fn require_api_key(state: &AppState, headers: &HeaderMap) -> Result<ApiKey, ApiError> {
    match credential(headers)? {
        Some(Credential::Bearer(key)) => api_key(state, key).ok_or(ApiError::InvalidApiKey),
        Some(Credential::Client(token)) => {
            verify_client_token(state, token)?;
            Err(ClientTokenError::EndpointNotAllowed.into())
        }
        None => Err(ApiError::InvalidApiKey),
    }
}

/// The Client Token routes (mint, list, revoke): an API key with the scope
/// `api:client_tokens`; another key is `403 insufficient_scope`.
pub fn require_client_tokens_scope(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<ApiKey, ApiError> {
    let key = require_api_key(state, headers)?;
    if key.client_tokens {
        Ok(key)
    } else {
        Err(ApiError::InsufficientScope(SCOPE_CLIENT_TOKENS))
    }
}

/// Client-allowed routes: an API key, or a Client Token that passes the
/// table's header checks (the body's `user` is [`Caller::customer`]'s, the
/// limits and money are [`crate::billing`]'s).
pub fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    peer: IpAddr,
    scope: Scope,
) -> Result<Caller, ApiError> {
    match credential(headers)? {
        Some(Credential::Bearer(key)) => api_key(state, key)
            .map(Caller::Server)
            .ok_or(ApiError::InvalidApiKey),
        None => Err(ClientTokenError::Invalid("no Authorization header").into()),
        Some(Credential::Client(token)) => {
            let claims = verify_client_token(state, token)?;
            let scope_name = scope_name(scope);
            if !claims.scope.iter().any(|s| s == scope_name) {
                return Err(ClientTokenError::ScopeDenied(scope_name).into());
            }
            let mut origins = headers.get_all(header::ORIGIN).iter();
            let origin = match (origins.next(), origins.next()) {
                (Some(origin), None) => origin.to_str().ok(),
                _ => None,
            };
            if !origin.is_some_and(|o| claims.origins.iter().any(|allowed| allowed == o)) {
                return Err(ClientTokenError::OriginMismatch.into());
            }
            if let Some(bound) = &claims.ip {
                let bound: Option<IpAddr> = bound.parse().ok();
                if bound.map(|ip| ip.to_canonical()) != Some(peer.to_canonical()) {
                    return Err(ClientTokenError::IpMismatch.into());
                }
            }
            Ok(Caller::Client(claims))
        }
    }
}

/// The name of a scope as tokens carry it.
pub fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Chat => "chat",
        Scope::Embeddings => "embeddings",
        Scope::Moderations => "moderations",
        Scope::Threads => "threads",
    }
}

/// Compares secrets without leaking where they differ through timing.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
