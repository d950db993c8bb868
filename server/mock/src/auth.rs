//! Who is calling: a server with the API key (`Authorization: Bearer sk_…`),
//! or a browser with a Client Token (`Authorization: Client <jwt>`), checked
//! in exactly the contract's order.

use std::net::IpAddr;

use axum::http::{HeaderMap, header};
use ringside_wire::customer::Scope;

use crate::error::{ApiError, ClientTokenError};
use crate::jwt::Claims;
use crate::state::AppState;

/// An authenticated caller of a client-allowed endpoint.
#[derive(Debug)]
pub enum Caller {
    /// A server holding the API key: may act for any customer.
    Server,
    /// A browser holding a Client Token that passed every header check.
    Client(Claims),
}

impl Caller {
    /// The customer whose wallet and limits a call counts against: the pinned
    /// one for a Client Token, the body's `user` for a server.
    ///
    /// With a Client Token, a `user` naming anyone else (by id or external id)
    /// is refused: `403 client_token_customer_mismatch`.
    pub fn customer(
        &self,
        state: &AppState,
        user: Option<&str>,
    ) -> Result<Option<String>, ApiError> {
        match self {
            Caller::Server => {
                Ok(user.and_then(|u| state.store().customer(u).map(|c| c.id.clone())))
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
    let Ok(value) = value.to_str() else {
        return Err(ApiError::InvalidApiKey);
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim_start_matches(' ');
    Ok(Some(if scheme.eq_ignore_ascii_case("bearer") {
        Credential::Bearer(rest)
    } else if scheme.eq_ignore_ascii_case("client") {
        Credential::Client(rest)
    } else {
        return Err(ApiError::InvalidApiKey);
    }))
}

/// Checks 1–3 of the table: the token itself, its expiry, its revocation.
fn verify_client_token(state: &AppState, token: &str) -> Result<Claims, ClientTokenError> {
    let claims = state.signer.verify(token, state.clock.now())?;
    match state.store().client_tokens.get(&claims.jti) {
        Some(record) if record.customer_id != claims.sub => Err(ClientTokenError::Invalid(
            "the token does not match its record",
        )),
        Some(record) if record.revoked => Err(ClientTokenError::Revoked),
        Some(_) => Ok(claims),
        None => Err(ClientTokenError::Invalid(
            "this gateway did not mint the token",
        )),
    }
}

/// Bearer-only routes (customers, client tokens): the API key, nothing else.
///
/// A Client Token here is verified first (a bad one is a 401 like anywhere
/// else), then refused as `403 client_token_endpoint_not_allowed`.
pub fn require_api_key(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match credential(headers)? {
        Some(Credential::Bearer(key)) if constant_time_eq(key, &state.settings.api_key) => Ok(()),
        Some(Credential::Client(token)) => {
            verify_client_token(state, token)?;
            Err(ClientTokenError::EndpointNotAllowed.into())
        }
        _ => Err(ApiError::InvalidApiKey),
    }
}

/// Client-allowed routes: the API key, or a Client Token that passes the
/// table's checks (all but the body's `user`, which [`Caller::customer`] does).
pub fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    peer: IpAddr,
    scope: Scope,
) -> Result<Caller, ApiError> {
    match credential(headers)? {
        Some(Credential::Bearer(key)) if constant_time_eq(key, &state.settings.api_key) => {
            Ok(Caller::Server)
        }
        Some(Credential::Bearer(_)) => Err(ApiError::InvalidApiKey),
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
