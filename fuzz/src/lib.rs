//! What the HTTP fuzz targets share: fuzz bytes read as a short script of
//! HTTP requests, and the checks every answer must pass.
//!
//! The script format, easy for a fuzzer to mutate and for a person to read
//! in a corpus file: requests separated by NUL bytes; each is a request line
//! `METHOD PATH`, header lines `name: value`, a blank line, then the body.
//! Placeholders (`$KEY`, `$TOKEN`, …) are replaced before sending, so the
//! fuzzer can reuse what earlier answers returned (a minted token, say)
//! without guessing it.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};

/// The most requests one input sends.
pub const MAX_REQUESTS: usize = 6;

/// One request of a script, before placeholders are filled in.
#[derive(Debug, Clone)]
pub struct Raw<'a> {
    /// The method, as written.
    pub method: &'a [u8],
    /// The path and query, as written.
    pub path: &'a [u8],
    /// `name: value` pairs, as written.
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    /// The body.
    pub body: &'a [u8],
}

/// Splits fuzz bytes into at most [`MAX_REQUESTS`] raw requests.
pub fn script(input: &[u8]) -> Vec<Raw<'_>> {
    input
        .split(|&b| b == 0)
        .take(MAX_REQUESTS)
        .map(|part| {
            let (head, body) = match find(part, b"\n\n") {
                Some(at) => (&part[..at], &part[at + 2..]),
                None => (part, &b""[..]),
            };
            let mut lines = head.split(|&b| b == b'\n');
            let first = lines.next().unwrap_or(b"");
            let (method, path) = match first.iter().position(|&b| b == b' ') {
                Some(at) => (&first[..at], &first[at + 1..]),
                None => (first, &b"/"[..]),
            };
            let headers = lines
                .filter_map(|line| {
                    let at = line.iter().position(|&b| b == b':')?;
                    let value = &line[at + 1..];
                    let value = value.strip_prefix(b" ").unwrap_or(value);
                    Some((&line[..at], value))
                })
                .collect();
            Raw {
                method,
                path,
                headers,
                body,
            }
        })
        .collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Replaces each `(placeholder, value)` in `bytes`.
pub fn fill(bytes: &[u8], values: &[(&str, &str)]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (placeholder, value) in values {
        let mut next = Vec::with_capacity(out.len());
        let mut rest = &out[..];
        while let Some(at) = find(rest, placeholder.as_bytes()) {
            next.extend_from_slice(&rest[..at]);
            next.extend_from_slice(value.as_bytes());
            rest = &rest[at + placeholder.len()..];
        }
        next.extend_from_slice(rest);
        out = next;
    }
    out
}

/// The request `raw` describes with `values` filled in, or `None` when it is
/// not one HTTP can carry (a method, path or header a client could not send).
pub fn build(raw: &Raw<'_>, values: &[(&str, &str)]) -> Option<Request<Body>> {
    let method = Method::from_bytes(raw.method).ok()?;
    let path = fill(raw.path, values);
    let path = std::str::from_utf8(&path).ok()?;
    if !path.starts_with('/') {
        return None;
    }
    let mut request = Request::builder().method(method).uri(path);
    for (name, value) in &raw.headers {
        let name = HeaderName::from_bytes(name).ok()?;
        let value = HeaderValue::from_bytes(&fill(value, values)).ok()?;
        request = request.header(name, value);
    }
    request.body(Body::from(fill(raw.body, values))).ok()
}

/// Checks that a refusal is the contract's error body:
/// `{"error": {"type": "…", "code": "…", "message": "…", "param": …}}`.
pub fn assert_contract_error(status: u16, body: &[u8]) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "a {status} answer is not JSON ({e}): {:?}",
            String::from_utf8_lossy(body)
        )
    });
    let error = &value["error"];
    for field in ["type", "code", "message"] {
        assert!(
            error[field].is_string(),
            "a {status} answer lacks error.{field}: {value}"
        );
    }
    assert!(
        error.get("param").is_some(),
        "a {status} answer lacks error.param: {value}"
    );
}
