//! Client tokens (Bearer only): mint a short-lived JWT for one customer.

use std::net::{IpAddr, SocketAddr};

use axum::{
    Json,
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, StatusCode},
};
use ringside_wire::customer::{BindIp, ClientToken, CreateClientToken};

use crate::auth::{require_api_key, scope_name};
use crate::error::ApiError;
use crate::json::{self, Body};
use crate::jwt::{AUDIENCE, Claims};
use crate::state::{AppState, new_id};

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
    require_api_key(&state, &headers)?;
    let customer_id = state
        .store()
        .customer(&handle)
        .map(|c| c.id.clone())
        .ok_or_else(|| ApiError::NotFound(format!("no customer `{handle}`")))?;
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
    let mut scope: Vec<_> = request.scope.clone();
    scope.dedup();
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
    state
        .store()
        .client_tokens
        .insert(record.id.clone(), record.clone());
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
