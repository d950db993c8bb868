//! The request extractors: a JSON body of at most 1 MiB (413 beyond) whose
//! parse error names the field at fault (`param`) as the contract asks, and a
//! path extractor whose rejection is the contract's error too.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest body the mock reads.
pub const MAX_BODY: usize = 1 << 20;

/// A JSON request body whose rejection is the contract's error.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_limited(req.into_body()).await?;
        parse(&bytes).map(Json)
    }
}

/// A raw body of at most [`MAX_BODY`] bytes, for handlers that must check
/// credentials before they parse (the contract's check order).
#[derive(Debug)]
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        read_limited(req.into_body()).await.map(Body)
    }
}

/// Reads a whole body, refusing more than [`MAX_BODY`] bytes (413), or one
/// that did not arrive in time (408, see [`crate::serve`]).
pub async fn read_limited(body: axum::body::Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|error| {
        let too_large = std::error::Error::source(&error)
            .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::PayloadTooLarge
        } else if crate::serve::is_body_timeout(&error) {
            ApiError::RequestTimeout
        } else {
            ApiError::InvalidRequest {
                param: None,
                message: "the request body could not be read".into(),
            }
        }
    })
}

/// Path parameters whose rejection (bad percent-encoding, say) is a 400 in
/// the contract's shape, not axum's plain text.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| ApiError::InvalidRequest {
                param: None,
                message: rejection.body_text(),
            })
    }
}

/// Parses JSON like [`parse`], taking an empty body as `T::default()`.
pub fn parse_or_default<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse(bytes)
    }
}

/// Parses JSON, naming the path of the first bad field. Malformed JSON is
/// reported as such (no `param`) even when a field before the fault is wrong.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Err(error) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        return Err(ApiError::InvalidRequest {
            param: None,
            message: format!("the body is not valid JSON: {error}"),
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let malformed = inner.is_syntax() || inner.is_eof();
        let mut param = (path != "." && !malformed).then_some(path);
        // serde reports a missing field at its parent; name the field itself.
        let text = inner.to_string();
        if let Some(field) = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            param = Some(match param {
                Some(parent) => format!("{parent}.{field}"),
                None => field.to_string(),
            });
        }
        let message = if malformed {
            format!("the body is not valid JSON: {inner}")
        } else {
            format!("invalid request: {inner}")
        };
        ApiError::InvalidRequest { param, message }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringside_wire::chat::ChatRequest;

    #[test]
    fn a_wrong_type_names_its_path() {
        let error =
            parse::<ChatRequest>(br#"{"model":"m","messages":[{"role":"user","content":7}]}"#)
                .unwrap_err();
        match error {
            ApiError::InvalidRequest { param, .. } => {
                assert_eq!(param.as_deref(), Some("messages[0].content"))
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        match parse::<ChatRequest>(br#"{"messages":[]}"#).unwrap_err() {
            ApiError::InvalidRequest { param, .. } => assert_eq!(param.as_deref(), Some("model")),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn malformed_json_is_a_400_without_param() {
        match parse::<ChatRequest>(b"{\"model\":").unwrap_err() {
            ApiError::InvalidRequest { param, message } => {
                assert_eq!(param, None);
                assert!(message.contains("not valid JSON"), "{message}");
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    }
}
