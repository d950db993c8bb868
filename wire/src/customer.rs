//! The server-side (Bearer) shapes: customers and client tokens.

use serde::{Deserialize, Serialize};

/// The body of `POST /v1/customers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomer {
    /// The host's own handle for this customer, e.g. `ext:user_42`.
    pub external_id: String,
    /// The most this customer may spend, in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd: Option<f64>,
    /// Requests per minute allowed to this customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_rpm: Option<u32>,
    /// Free-form data kept with the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A customer, as every customer route returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// `cus_…`.
    pub id: String,
    /// Always `customer`.
    pub object: String,
    /// The host's handle.
    pub external_id: String,
    /// The spending cap, if any.
    pub budget_usd: Option<f64>,
    /// What has been spent so far.
    pub spent_usd: f64,
    /// The rate limit, if any.
    pub rate_limit_rpm: Option<u32>,
    /// `None` until the first top-up: then only the budget applies.
    pub wallet_balance_usd: Option<f64>,
    /// Free-form data.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// Unix seconds.
    pub created: i64,
}

/// The body of `POST /v1/customers/{id}/wallet/topup`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topup {
    /// Dollars to add, more than 0 and at most 10 000.
    pub amount_usd: f64,
}

/// What a Client Token may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// `/v1/chat/completions`.
    Chat,
    /// `/v1/embeddings`.
    Embeddings,
    /// `/v1/moderations`.
    Moderations,
    /// `/v1/threads…` and `/v1/messages…`.
    Threads,
}

/// `bind_ip` of a mint request: an address, or `true` for the minting caller's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BindIp {
    /// `true`: the address that makes the minting call; `false`: unbound.
    Caller(bool),
    /// The browser's address, passed by a mint server in front of browsers.
    Address(String),
}

/// The body of `POST /v1/customers/{id}/client_tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateClientToken {
    /// 60 to 3600; 900 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<u32>,
    /// What the token may call.
    pub scope: Vec<Scope>,
    /// The exact origins (`scheme://host[:port]`) it may be used from.
    pub origin_allowlist: Vec<String>,
    /// Bind it to one caller address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_ip: Option<BindIp>,
}

/// A Client Token; `token` is present only in the answer to the mint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientToken {
    /// `ct_…`.
    pub id: String,
    /// Always `client_token`.
    pub object: String,
    /// The JWT, only when just minted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// Seconds of life it had when this answer was made.
    pub expires_in: u64,
    /// The customer it is pinned to.
    pub customer_id: String,
    /// What it may call.
    pub scope: Vec<Scope>,
    /// Where it may be used from.
    pub origin_allowlist: Vec<String>,
    /// The address it is bound to, if any.
    pub bind_ip: Option<String>,
    /// Whether it was revoked.
    #[serde(default)]
    pub revoked: bool,
}

/// `{object: "list", data: [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct List<T> {
    /// Always `list`.
    pub object: String,
    /// The items.
    pub data: Vec<T>,
}
