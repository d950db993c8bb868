//! Client tokens (Bearer only, key scope `api:client_tokens`): mint a
//! short-lived JWT for one customer, list a customer's tokens (without the
//! JWTs), revoke one.

use std::net::{IpAddr, SocketAddr};

use axum::{
    Json, Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
    routing::{delete, post},
};
use ringside_wire::customer::{BindIp, ClientToken, CreateClientToken, List};

use crate::AppState;
use crate::auth::{require_client_tokens_scope, scope_name};
use crate::customers::no_customer;
use crate::error::ApiError;
use crate::json::{self, Body, Path};
use crate::jwt::{AUDIENCE, Claims};
use crate::log::note_customer;
use crate::state::{TokenRecord, new_id};

/// The client token routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customers/{id}/client_tokens", post(mint).get(list))
        .route("/customers/{id}/client_tokens/{ct_id}", delete(revoke))
}

/// The `cus_…` id of the customer `handle` names, or 404.
fn customer_id(state: &AppState, handle: &str) -> Result<String, ApiError> {
    let id = state
        .store()
        .customer(handle)
        .map(|c| c.id.clone())
        .ok_or_else(|| no_customer(handle))?;
    note_customer(&id);
    Ok(id)
}

/// A token as lists show it: no JWT, and `expires_in` as of now.
fn listed(token: &ClientToken, now: i64) -> ClientToken {
    ClientToken {
        token: None,
        expires_in: u64::try_from(token.expires_at - now).unwrap_or(0),
        ..token.clone()
    }
}

/// Handles `GET /v1/customers/{id}/client_tokens`: newest first.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Json<List<ClientToken>>, ApiError> {
    require_client_tokens_scope(&state, &headers)?;
    let customer_id = customer_id(&state, &handle)?;
    let now = state.clock.now();
    let store = state.store();
    let mut records: Vec<&TokenRecord> = store
        .client_tokens
        .values()
        .filter(|r| r.token.customer_id == customer_id)
        .collect();
    records.sort_by_key(|r| std::cmp::Reverse(r.seq));
    Ok(Json(List {
        object: "list".into(),
        data: records.iter().map(|r| listed(&r.token, now)).collect(),
    }))
}

/// Handles `DELETE /v1/customers/{id}/client_tokens/{ct_id}`: the token,
/// `revoked: true`. Revoking twice is not an error.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((handle, token_id)): Path<(String, String)>,
) -> Result<Json<ClientToken>, ApiError> {
    require_client_tokens_scope(&state, &headers)?;
    let customer_id = customer_id(&state, &handle)?;
    let now = state.clock.now();
    let mut store = state.store();
    match store.client_tokens.get_mut(&token_id) {
        Some(record) if record.token.customer_id == customer_id => {
            record.token.revoked = true;
            Ok(Json(listed(&record.token, now)))
        }
        _ => Err(ApiError::NotFound(format!(
            "customer `{handle}` has no client token `{token_id}`"
        ))),
    }
}

/// The lifetime of a token minted without `ttl_seconds`.
pub const DEFAULT_TTL: u32 = 900;
/// The shortest and longest lifetimes allowed.
pub const TTL_RANGE: std::ops::RangeInclusive<u32> = 60..=3600;

/// Handles `POST /v1/customers/{id}/client_tokens`.
pub async fn mint(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(handle): Path<String>,
    Body(body): Body,
) -> Result<(StatusCode, Json<ClientToken>), ApiError> {
    require_client_tokens_scope(&state, &headers)?;
    let customer_id = customer_id(&state, &handle)?;
    let request: CreateClientToken = json::parse(&body)?;

    let ttl = request.ttl_seconds.unwrap_or(DEFAULT_TTL);
    if !TTL_RANGE.contains(&ttl) {
        return Err(ApiError::invalid(
            "ttl_seconds",
            "ttl_seconds must be between 60 and 3600",
        ));
    }
    if request.scope.is_empty() {
        return Err(ApiError::invalid(
            "scope",
            "scope must name at least one of chat, embeddings, moderations, threads",
        ));
    }
    if request.origin_allowlist.is_empty() {
        return Err(ApiError::invalid(
            "origin_allowlist",
            "origin_allowlist must hold at least one origin",
        ));
    }
    for (i, origin) in request.origin_allowlist.iter().enumerate() {
        if !is_origin(origin) {
            return Err(ApiError::invalid(
                format!("origin_allowlist[{i}]"),
                format!("`{origin}` is not an origin: scheme://host[:port], no path"),
            ));
        }
    }
    let bind_ip = match &request.bind_ip {
        None | Some(BindIp::Caller(false)) => None,
        Some(BindIp::Caller(true)) => Some(peer.ip().to_canonical()),
        Some(BindIp::Address(address)) => Some(
            address
                .parse::<IpAddr>()
                .map_err(|_| ApiError::invalid("bind_ip", "bind_ip must be an IP address or true"))?
                .to_canonical(),
        ),
    };

    let now = state.clock.now();
    let mut scope: Vec<_> = Vec::with_capacity(request.scope.len());
    for s in &request.scope {
        if !scope.contains(s) {
            scope.push(*s);
        }
    }
    let record = ClientToken {
        id: new_id("ct_"),
        object: "client_token".into(),
        token: None,
        expires_at: now + i64::from(ttl),
        expires_in: u64::from(ttl),
        customer_id: customer_id.clone(),
        scope,
        origin_allowlist: request.origin_allowlist.clone(),
        bind_ip: bind_ip.map(|ip| ip.to_string()),
        revoked: false,
    };
    let claims = Claims {
        iss: state.signer.issuer().to_string(),
        aud: AUDIENCE.into(),
        sub: customer_id,
        jti: record.id.clone(),
        iat: now,
        nbf: now,
        exp: record.expires_at,
        scope: record
            .scope
            .iter()
            .map(|s| scope_name(*s).to_string())
            .collect(),
        origins: record.origin_allowlist.clone(),
        ip: record.bind_ip.clone(),
    };
    let token = state.signer.sign(&claims);
    state.store().remember_token(record.clone(), now);
    Ok((
        StatusCode::CREATED,
        Json(ClientToken {
            token: Some(token),
            ..record
        }),
    ))
}

/// `scheme://host[:port]` with nothing after: what an `Origin` header holds.
pub fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let scheme_ok = !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
        // An IPv6 literal: `[::1]` or `[::1]:8080`.
        let Some((address, after)) = bracketed.split_once(']') else {
            return false;
        };
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => return false,
            },
        };
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        (address, port)
    } else {
        match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        }
    };
    let host_ok = !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ', '[', ']']);
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
    scheme_ok && host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::is_origin;

    #[test]
    fn origins_are_scheme_host_and_port_without_a_path() {
        for good in [
            "https://a.com",
            "http://127.0.0.1:8080",
            "http://[::1]:3000",
            "http://[::1]",
            "https://x.y.z",
        ] {
            assert!(is_origin(good), "{good}");
        }
        for bad in [
            "https://a.com/",
            "a.com",
            "https://",
            "https://a.com:x",
            "https://a.com/path",
            "https://u@a.com",
            "://a.com",
            "https://a.com:123456",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }
}
