//! The request middleware: gives every request an id (answered as
//! `x-request-id`, also on errors), runs it in a `tracing` span carrying that
//! id, and logs how it ended, with the operator-facing detail of an error.

use std::time::Instant;

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

use crate::error::ErrorDetail;

/// The response header that carries the request id.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id, in its extensions for handlers that want it.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

/// A fresh request id: 16 hex digits. Ids sent by clients are not trusted.
fn new_id() -> HeaderValue {
    let text = format!("{:016x}", rand::random::<u64>());
    HeaderValue::from_str(&text).expect("hex is a valid header value")
}

/// The middleware (use with `axum::middleware::from_fn`).
pub async fn observe(mut request: Request, next: Next) -> Response {
    let id = new_id();
    let span = tracing::info_span!(
        "request",
        id = id.to_str().unwrap_or_default(),
        method = %request.method(),
        path = request.uri().path(),
    );
    request.extensions_mut().insert(RequestId(id.clone()));
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    span.in_scope(|| match response.extensions().get::<ErrorDetail>() {
        Some(ErrorDetail(detail)) if status >= 500 => {
            tracing::warn!(status, micros, error = %detail, "request failed");
        }
        Some(ErrorDetail(detail)) => {
            tracing::info!(status, micros, error = %detail, "request refused");
        }
        None => tracing::debug!(status, micros, "request done"),
    });
    response.headers_mut().insert(REQUEST_ID, id);
    response
}
