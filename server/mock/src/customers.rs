//! Customers (Bearer only): create with Idempotency-Key replay, get by id or
//! external id, top up the wallet.

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use ringside_wire::customer::{CreateCustomer, Customer, Topup};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::require_api_key;
use crate::billing::round_nano;
use crate::error::ApiError;
use crate::json::{self, Body, Path};
use crate::log::note_customer;
use crate::state::{Idempotent, new_id};

/// How long an Idempotency-Key's answer is replayed.
const IDEMPOTENCY_TTL_SECS: i64 = 24 * 60 * 60;
/// The most a single top-up may add, in dollars.
pub const MAX_TOPUP_USD: f64 = 10_000.0;

/// The customer routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customers", post(create))
        .route("/customers/{id}", get(get_customer))
        .route("/customers/{id}/wallet/topup", post(topup))
}

/// Removes an in-progress Idempotency-Key record if the request that holds
/// it never finishes (its client went away mid-delay), so the key is not
/// wedged at `idempotency_request_in_progress` for ever.
struct InProgress<'a> {
    state: &'a AppState,
    slot: Option<(String, String)>,
}

impl InProgress<'_> {
    /// The request finished: its answer is stored (or dropped) by the caller.
    fn disarm(mut self) -> (String, String) {
        self.slot.take().unwrap_or_default()
    }
}

impl Drop for InProgress<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            let mut store = self.state.store();
            if matches!(
                store.idempotency.get(&slot),
                Some(Idempotent::InProgress { .. })
            ) {
                store.idempotency.remove(&slot);
            }
        }
    }
}

/// Handles `POST /v1/customers`.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let api_key = require_api_key(&state, &headers)?;
    let Some(key) = idempotency_key(&headers)? else {
        delay(&state).await;
        return create_customer(&state, &body)
            .map(|c| (StatusCode::CREATED, Json(c)).into_response());
    };

    let slot = (api_key.key, key);
    let body_hash: [u8; 32] = Sha256::digest(&body).into();
    {
        let mut store = state.store();
        let now = state.clock.now();
        store.idempotency.retain(|_, record| match record {
            Idempotent::Done { at, .. } => now - *at < IDEMPOTENCY_TTL_SECS,
            Idempotent::InProgress { .. } => true,
        });
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
                ..
            }) => {
                if *first != body_hash {
                    return Err(ApiError::IdempotencyKeyReused);
                }
                if let Ok(customer) = serde_json::from_slice::<Customer>(body) {
                    note_customer(&customer.id);
                }
                let mut response = (
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::OK),
                    [(header::CONTENT_TYPE, "application/json")],
                    body.clone(),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
                return Ok(response);
            }
            None => {}
        }
        store
            .idempotency
            .insert(slot.clone(), Idempotent::InProgress { body_hash });
    }
    let guard = InProgress {
        state: &state,
        slot: Some(slot),
    };
    delay(&state).await;

    let result = create_customer(&state, &body);
    let slot = guard.disarm();
    let mut store = state.store();
    match &result {
        Ok(customer) => {
            let body = serde_json::to_vec(customer).unwrap_or_default();
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

/// The artificial delay a test set with `POST /__mock/customer_delay`.
async fn delay(state: &AppState) {
    let delay = state.controls().customer_delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
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
    note_customer(&customer.id);
    Ok(customer)
}

/// Handles `GET /v1/customers/{id}`: `cus_…` or the external id.
pub async fn get_customer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Json<Customer>, ApiError> {
    require_api_key(&state, &headers)?;
    let customer = state
        .store()
        .customer(&handle)
        .cloned()
        .ok_or_else(|| no_customer(&handle))?;
    note_customer(&customer.id);
    Ok(Json(customer))
}

/// Handles `POST /v1/customers/{id}/wallet/topup` `{amount_usd}`: 0 < amount ≤ 10 000.
pub async fn topup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
    Body(body): Body,
) -> Result<Json<Customer>, ApiError> {
    require_api_key(&state, &headers)?;
    let request: Topup = json::parse(&body)?;
    let amount = request.amount_usd;
    if !(amount > 0.0 && amount <= MAX_TOPUP_USD) {
        return Err(ApiError::invalid(
            "amount_usd",
            "amount_usd must be more than 0 and at most 10000",
        ));
    }
    let mut store = state.store();
    let customer = store
        .customer_mut(&handle)
        .ok_or_else(|| no_customer(&handle))?;
    customer.wallet_balance_usd = Some(round_nano(
        customer.wallet_balance_usd.unwrap_or(0.0) + amount,
    ));
    note_customer(&customer.id);
    Ok(Json(customer.clone()))
}

/// 404 for a customer handle nobody created.
pub fn no_customer(handle: &str) -> ApiError {
    ApiError::NotFound(format!("no customer `{handle}`"))
}
