//! The `/v1` middleware: a body-size guard for every request, and the
//! request log of the test controls (`GET /__mock/log`): every `/v1`
//! request with its method, path, status, kind of credential, customer and
//! JSON body, so a test can count mints and completions and see exactly which
//! messages were sent. Kept only when the controls are on, and bounded: the
//! last [`MAX_ENTRIES`] requests, at most [`MAX_BYTES`] of bodies in all.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::{
    body::Body,
    extract::{OriginalUri, Request, State},
    http::{HeaderMap, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::error::ApiError;
use crate::json::{MAX_BODY, read_limited};

/// The most requests kept.
pub const MAX_ENTRIES: usize = 10_000;
/// The most body bytes kept across all entries; the oldest go first.
pub const MAX_BYTES: usize = 32 << 20;

tokio::task_local! {
    static CUSTOMER: RefCell<Option<String>>;
}

/// Records that the request being served acts for `customer_id` (a no-op
/// outside the log middleware).
pub fn note_customer(customer_id: &str) {
    let _ = CUSTOMER.try_with(|cell| *cell.borrow_mut() = Some(customer_id.to_string()));
}

/// One logged request.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The status answered (200 for a stream, whatever happened later).
    pub status: u16,
    /// `bearer`, `client` or `none`: the `Authorization` scheme sent.
    pub auth: &'static str,
    /// The customer the request acted for, once the mock knew it.
    pub customer_id: Option<String>,
    /// The body, if it was JSON.
    pub body: Option<serde_json::Value>,
    #[serde(skip)]
    size: usize,
}

/// The last requests, oldest first.
#[derive(Debug, Default)]
pub struct RequestLog {
    inner: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    entries: VecDeque<LogEntry>,
    bytes: usize,
}

impl RequestLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends an entry, dropping the oldest beyond the bounds.
    pub fn push(&self, entry: LogEntry) {
        let mut log = self.lock();
        log.bytes += entry.size;
        log.entries.push_back(entry);
        while log.entries.len() > MAX_ENTRIES || log.bytes > MAX_BYTES {
            match log.entries.pop_front() {
                Some(old) => log.bytes -= old.size,
                None => break,
            }
        }
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.lock().entries.iter().cloned().collect()
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        *self.lock() = Entries::default();
    }
}

/// The kind of credential a request carries.
fn auth_kind(headers: &HeaderMap) -> &'static str {
    let scheme = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(' ').next())
        .unwrap_or("");
    if scheme.eq_ignore_ascii_case("bearer") {
        "bearer"
    } else if scheme.eq_ignore_ascii_case("client") {
        "client"
    } else {
        "none"
    }
}

/// Whether the request announces a body over [`MAX_BODY`].
fn announced_too_large(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|length| length > MAX_BODY as u64)
}

/// The middleware of every `/v1` request: refuses a body announced over
/// 1 MiB (413) whatever the route, and logs the request in `log` if there is
/// one (when the controls are on).
///
/// The size check is written here rather than taken from tower-http's
/// `RequestBodyLimitLayer`, which answers an announced length over the limit
/// with its own `text/plain` body: the contract's 413 is its JSON error, and
/// the log must see the refusal too. Bodies without a length are cut at the
/// same limit where they are read ([`read_limited`]).
pub async fn record(
    State(log): State<Option<Arc<RequestLog>>>,
    request: Request,
    next: Next,
) -> Response {
    let too_large = announced_too_large(request.headers());
    let Some(log) = log else {
        if too_large {
            return ApiError::PayloadTooLarge.into_response();
        }
        return next.run(request).await;
    };
    let method = request.method().to_string();
    let path = match request.extensions().get::<OriginalUri>() {
        Some(original) => original.path().to_string(),
        None => request.uri().path().to_string(),
    };
    let auth = auth_kind(request.headers());
    let (parts, body) = request.into_parts();
    let read = if too_large {
        Err(ApiError::PayloadTooLarge)
    } else {
        read_limited(body).await
    };
    let (response, body, size, customer) = match read {
        Err(error) => (error.into_response(), None, 0, None),
        Ok(bytes) => {
            let logged = serde_json::from_slice::<serde_json::Value>(&bytes).ok();
            let size = if logged.is_some() { bytes.len() } else { 0 };
            let request = Request::from_parts(parts, Body::from(bytes));
            let (response, customer) = CUSTOMER
                .scope(RefCell::new(None), async {
                    let response = next.run(request).await;
                    (response, CUSTOMER.with(|cell| cell.borrow().clone()))
                })
                .await;
            (response, logged, size, customer)
        }
    };
    log.push(LogEntry {
        method,
        status: response.status().as_u16(),
        auth,
        customer_id: customer,
        body,
        size: size + path.len() + 128,
        path,
    });
    response
}
