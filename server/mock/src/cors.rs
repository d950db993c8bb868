//! CORS exactly as the contract says: browsers call `/v1/*` cross-origin with
//! an `Authorization` header, so every such route answers the preflight for
//! any origin, and actual responses echo the request's `Origin` (never `*`,
//! with `Vary: Origin`) and expose `Retry-After` and the `x-ratelimit-*` headers.
//!
//! Written here rather than with tower-http's `CorsLayer`, whose answers
//! differ from these in ways `tests/api/cors.rs` pins: it writes its lists
//! without spaces (`authorization,content-type`) and grants the first of two
//! `Origin`s (here neither is: two are ambiguous); it also takes every
//! `OPTIONS` as a preflight (here one without `Access-Control-Request-Method`
//! reaches the router, and its 405).

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// How long a browser may cache a preflight answer, in seconds.
pub const MAX_AGE_SECS: u32 = 7200;
const ALLOW_HEADERS: &str = "authorization, content-type";
const ALLOW_METHODS: &str = "GET, POST, DELETE";
const EXPOSE_HEADERS: &str = "retry-after, x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests";

/// The middleware; apply it to the `/v1` routes.
pub async fn cors(request: Request, next: Next) -> Response {
    let origin = single_origin(request.headers());
    let is_preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if is_preflight {
        let mut response = (StatusCode::NO_CONTENT, Body::empty()).into_response();
        let headers = response.headers_mut();
        if let Some(origin) = origin {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from(MAX_AGE_SECS),
            );
        }
        headers.insert(
            header::VARY,
            HeaderValue::from_static(
                "origin, access-control-request-method, access-control-request-headers",
            ),
        );
        return response;
    }

    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    response
}

/// The request's `Origin`, if it sent exactly one (two are ambiguous: none is granted).
fn single_origin(headers: &HeaderMap) -> Option<HeaderValue> {
    let mut values = headers.get_all(header::ORIGIN).iter();
    match (values.next(), values.next()) {
        (Some(origin), None) if origin != "null" => Some(origin.clone()),
        _ => None,
    }
}
