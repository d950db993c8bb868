//! Customers (Bearer only): create with Idempotency-Key replay, get by id or
//! external id.

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use ringside_wire::customer::{CreateCustomer, Customer};
use sha2::{Digest, Sha256};

use crate::auth::require_api_key;
use crate::error::ApiError;
use crate::json::{self, Body};
use crate::state::{AppState, Idempotent, new_id};

/// How long an Idempotency-Key's answer is replayed.
const IDEMPOTENCY_TTL_SECS: i64 = 24 * 60 * 60;

/// Handles `POST /v1/customers`.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    require_api_key(&state, &headers)?;
    let Some(key) = idempotency_key(&headers)? else {
        return create_customer(&state, &body)
            .map(|c| (StatusCode::CREATED, Json(c)).into_response());
    };

    let slot = (state.settings.api_key.clone(), key);
    let body_hash: [u8; 32] = Sha256::digest(&body).into();
    {
        let mut store = state.store();
        let now = state.clock.now();
        match store.idempotency.get(&slot) {
            Some(Idempotent::InProgress { body_hash: first }) => {
                return Err(if *first == body_hash {
                    ApiError::IdempotencyInProgress
                } else {
                    ApiError::IdempotencyKeyReused
                });
            }
            Some(Idempotent::Done {
                body_hash: first,
                status,
                body,
                at,
            }) if now - at < IDEMPOTENCY_TTL_SECS => {
                if *first != body_hash {
                    return Err(ApiError::IdempotencyKeyReused);
                }
                let mut response = (
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::OK),
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    body.clone(),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
                return Ok(response);
            }
            _ => {}
        }
        store
            .idempotency
            .insert(slot.clone(), Idempotent::InProgress { body_hash });
    }

    let result = create_customer(&state, &body);
    let mut store = state.store();
    match &result {
        Ok(customer) => {
            let body = serde_json::to_vec(customer).expect("a customer serialises");
            store.idempotency.insert(
                slot,
                Idempotent::Done {
                    body_hash,
                    status: 201,
                    body,
                    at: state.clock.now(),
                },
            );
        }
        // Refusals (4xx) are not stored: the client may fix the request and retry with the same key.
        Err(_) => {
            store.idempotency.remove(&slot);
        }
    }
    result.map(|c| (StatusCode::CREATED, Json(c)).into_response())
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all("idempotency-key").iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return if headers.contains_key("idempotency-key") {
            Err(ApiError::invalid(
                "Idempotency-Key",
                "send one Idempotency-Key header, not several",
            ))
        } else {
            Ok(None)
        };
    };
    match value.to_str() {
        Ok(key) if !key.is_empty() && key.len() <= 255 => Ok(Some(key.to_string())),
        _ => Err(ApiError::invalid(
            "Idempotency-Key",
            "an Idempotency-Key is 1 to 255 visible ASCII characters",
        )),
    }
}

fn create_customer(state: &AppState, body: &[u8]) -> Result<Customer, ApiError> {
    let request: CreateCustomer = json::parse(body)?;
    let external_id = &request.external_id;
    if external_id.is_empty() || external_id.chars().count() > 255 {
        return Err(ApiError::invalid(
            "external_id",
            "external_id must be 1 to 255 characters",
        ));
    }
    if external_id.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "external_id",
            "external_id must be printable characters",
        ));
    }
    if external_id.starts_with("cus_") {
        return Err(ApiError::invalid(
            "external_id",
            "external_id must not start with `cus_`",
        ));
    }
    if let Some(budget) = request.budget_usd
        && (!budget.is_finite() || budget < 0.0)
    {
        return Err(ApiError::invalid(
            "budget_usd",
            "budget_usd must be a number of dollars, 0 or more",
        ));
    }
    if request.rate_limit_rpm == Some(0) {
        return Err(ApiError::invalid(
            "rate_limit_rpm",
            "rate_limit_rpm must be at least 1",
        ));
    }

    let mut store = state.store();
    if store.external_ids.contains_key(external_id) {
        return Err(ApiError::CustomerExists(external_id.clone()));
    }
    let customer = Customer {
        id: new_id("cus_"),
        object: "customer".into(),
        external_id: external_id.clone(),
        budget_usd: request.budget_usd,
        spent_usd: 0.0,
        rate_limit_rpm: request.rate_limit_rpm,
        wallet_balance_usd: None,
        metadata: request.metadata.unwrap_or_default(),
        created: state.clock.now(),
    };
    store
        .external_ids
        .insert(customer.external_id.clone(), customer.id.clone());
    store
        .customers
        .insert(customer.id.clone(), customer.clone());
    Ok(customer)
}

/// Handles `GET /v1/customers/{id}`: `cus_…` or the external id.
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Json<Customer>, ApiError> {
    require_api_key(&state, &headers)?;
    state
        .store()
        .customer(&handle)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no customer `{handle}`")))
}
