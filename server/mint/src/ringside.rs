//! The two calls the mint makes to Ringside, with the FC API key.

use std::time::Duration;

use reqwest::StatusCode;
use ringside_wire::customer::{BindIp, ClientToken, CreateClientToken, CreateCustomer, Scope};
use ringside_wire::error::{ErrorBody, code};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::MintError;

/// A Ringside client holding the FC API key. The key never leaves this type:
/// it is not in `Debug` output, logs or responses.
#[derive(Clone)]
pub struct Ringside {
    http: reqwest::Client,
    base: String,
    api_key: SecretString,
}

impl std::fmt::Debug for Ringside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ringside")
            .field("base", &self.base)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

impl Ringside {
    /// A client for the gateway at `base` (e.g. `https://api.fightclub.pro`).
    pub fn new(base: &str, api_key: SecretString, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .timeout(timeout)
            .build()
            .expect("the HTTP client builds");
        Ringside {
            http,
            base: base.trim_end_matches('/').to_string(),
            api_key,
        }
    }

    /// The gateway's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Creates the customer if it does not exist yet. The Idempotency-Key is
    /// derived from the body, so a repeat is replayed, and a customer created
    /// earlier with other settings answers `customer_exists`, also a success.
    pub async fn upsert_customer(&self, customer: &CreateCustomer) -> Result<(), MintError> {
        let body = serde_json::to_vec(customer).expect("a customer serialises");
        let key = format!("upsert-{:x}", Sha256::digest(&body));
        let response = self
            .http
            .post(format!("{}/v1/customers", self.base))
            .bearer_auth(self.api_key.expose_secret())
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(unavailable)?;
        match response.status() {
            StatusCode::CREATED | StatusCode::OK => Ok(()),
            status => {
                let code = error_code(response).await;
                if status == StatusCode::CONFLICT && code == code::CUSTOMER_EXISTS {
                    Ok(())
                } else {
                    Err(MintError::Upstream {
                        status: status.as_u16(),
                        code,
                    })
                }
            }
        }
    }

    /// Mints a chat Client Token for `external_id`, usable only from `origin`
    /// and, when given, only from the browser address `ip`.
    pub async fn mint(
        &self,
        external_id: &str,
        origin: &str,
        ip: Option<std::net::IpAddr>,
        ttl_seconds: u32,
    ) -> Result<ClientToken, MintError> {
        let request = CreateClientToken {
            ttl_seconds: Some(ttl_seconds),
            scope: vec![Scope::Chat],
            origin_allowlist: vec![origin.to_string()],
            bind_ip: ip.map(|ip| BindIp::Address(ip.to_string())),
        };
        let response = self
            .http
            .post(format!(
                "{}/v1/customers/{}/client_tokens",
                self.base,
                path_segment(external_id)
            ))
            .bearer_auth(self.api_key.expose_secret())
            .json(&request)
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status();
        if status != StatusCode::CREATED && status != StatusCode::OK {
            let code = error_code(response).await;
            return Err(MintError::Upstream {
                status: status.as_u16(),
                code,
            });
        }
        let token: ClientToken = response.json().await.map_err(|e| MintError::Upstream {
            status: status.as_u16(),
            code: format!("malformed_response ({e})"),
        })?;
        if token.token.is_none() {
            return Err(MintError::Upstream {
                status: status.as_u16(),
                code: "missing_token".into(),
            });
        }
        Ok(token)
    }
}

fn unavailable(error: reqwest::Error) -> MintError {
    // Without the URL: it is ours, but the error text stays short and safe.
    MintError::Unavailable(error.without_url().to_string())
}

async fn error_code(response: reqwest::Response) -> String {
    response
        .json::<ErrorBody>()
        .await
        .map(|body| body.error.code)
        .unwrap_or_else(|_| "unknown".into())
}

/// Percent-encodes what a path segment may not hold as is.
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
