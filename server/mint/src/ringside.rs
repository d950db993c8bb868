//! The two calls the mint makes to Ringside, with the FC API key, and when
//! each may be retried: the customer upsert carries an Idempotency-Key, so it
//! is retried (with jittered exponential backoff) after connection failures,
//! timeouts, 5xx, 429 and `idempotency_request_in_progress`; a token mint has
//! no such key, so it is retried only when the request never reached Ringside
//! (the connection could not be made), never after a timeout or an answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::StatusCode;
use ringside_wire::customer::{BindIp, ClientToken, CreateClientToken, CreateCustomer, Scope};
use ringside_wire::error::{ErrorBody, code};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::MintError;
use crate::metrics::{Call, CallResult, Metrics};

/// Timeouts and retries of upstream calls.
#[derive(Debug, Clone)]
pub struct UpstreamOptions {
    /// The longest one attempt may take, connection to last byte.
    pub timeout: Duration,
    /// The longest a connection may take to open.
    pub connect_timeout: Duration,
    /// Extra attempts, where a retry is safe.
    pub retries: u32,
    /// The first backoff's upper bound; it doubles each retry (full jitter).
    pub backoff_base: Duration,
    /// The largest backoff.
    pub backoff_max: Duration,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        UpstreamOptions {
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            retries: 2,
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(2),
        }
    }
}

/// A Ringside client holding the FC API key. The key never leaves this type:
/// it is not in `Debug` output, logs or responses.
#[derive(Clone)]
pub struct Ringside {
    http: reqwest::Client,
    base: String,
    api_key: SecretString,
    options: UpstreamOptions,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Ringside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ringside")
            .field("base", &self.base)
            .field("api_key", &"[redacted]")
            .field("options", &self.options)
            .finish()
    }
}

/// One attempt's failure, and whether another attempt is allowed.
struct Failure {
    error: MintError,
    retry: bool,
}

impl Ringside {
    /// A client for the gateway at `base` (e.g. `https://api.fightclub.pro`).
    pub fn new(
        base: &str,
        api_key: SecretString,
        options: UpstreamOptions,
        metrics: Arc<Metrics>,
    ) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout.min(options.timeout))
            .timeout(options.timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .expect("the HTTP client builds");
        Ringside {
            http,
            base: base.trim_end_matches('/').to_string(),
            api_key,
            options,
            metrics,
        }
    }

    /// The gateway's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Runs `attempt` until it succeeds, fails for good, or retries run out.
    async fn with_retries<T, F, Fut>(&self, call: Call, mut attempt: F) -> Result<T, MintError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let mut tries = 0;
        loop {
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(Failure { error, retry }) => {
                    if !retry || tries >= self.options.retries {
                        return Err(error);
                    }
                    let ceiling = self
                        .options
                        .backoff_base
                        .saturating_mul(1 << tries.min(16))
                        .min(self.options.backoff_max);
                    let wait = rand::thread_rng().gen_range(Duration::ZERO..=ceiling);
                    tracing::debug!(call = ?call, %error, ?wait, "retrying a Ringside call");
                    self.metrics.retry(call);
                    tokio::time::sleep(wait).await;
                    tries += 1;
                }
            }
        }
    }

    /// Creates the customer if it does not exist yet. The Idempotency-Key is
    /// derived from the body, so a repeat is replayed, and a customer created
    /// earlier with other settings answers `customer_exists`, also a success.
    pub async fn upsert_customer(&self, customer: &CreateCustomer) -> Result<(), MintError> {
        let body = serde_json::to_vec(customer).expect("a customer serialises");
        let key = format!("upsert-{:x}", Sha256::digest(&body));
        let url = format!("{}/v1/customers", self.base);
        self.with_retries(Call::Upsert, || async {
            let started = Instant::now();
            let sent = self
                .http
                .post(&url)
                .bearer_auth(self.api_key.expose_secret())
                .header("idempotency-key", &key)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                Err(error) => {
                    // The key makes a repeat safe, however far the first got.
                    return Err(self.transport_failure(Call::Upsert, error, started, true));
                }
            };
            let status = response.status();
            if status.is_success() {
                self.metrics
                    .upstream(Call::Upsert, CallResult::Ok, started.elapsed());
                return Ok(());
            }
            let code = error_code(response).await;
            if status == StatusCode::CONFLICT && code == code::CUSTOMER_EXISTS {
                self.metrics
                    .upstream(Call::Upsert, CallResult::Ok, started.elapsed());
                return Ok(());
            }
            self.metrics
                .upstream(Call::Upsert, CallResult::Error, started.elapsed());
            let retry = status.is_server_error()
                || status == StatusCode::TOO_MANY_REQUESTS
                || (status == StatusCode::CONFLICT
                    && code == code::IDEMPOTENCY_REQUEST_IN_PROGRESS);
            Err(Failure {
                error: MintError::Upstream {
                    status: status.as_u16(),
                    code,
                },
                retry,
            })
        })
        .await
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
        self.mint_scoped(external_id, origin, ip, ttl_seconds, vec![Scope::Chat])
            .await
    }

    /// [`Ringside::mint`] with the token's `scope` (`chat`, and `threads`
    /// for widgets that keep conversations on the server).
    pub async fn mint_scoped(
        &self,
        external_id: &str,
        origin: &str,
        ip: Option<std::net::IpAddr>,
        ttl_seconds: u32,
        scope: Vec<Scope>,
    ) -> Result<ClientToken, MintError> {
        let request = CreateClientToken {
            ttl_seconds: Some(ttl_seconds),
            scope,
            origin_allowlist: vec![origin.to_string()],
            bind_ip: ip.map(|ip| BindIp::Address(ip.to_string())),
        };
        let body = serde_json::to_vec(&request).expect("a token request serialises");
        let url = format!(
            "{}/v1/customers/{}/client_tokens",
            self.base,
            path_segment(external_id)
        );
        self.with_retries(Call::Mint, || async {
            let started = Instant::now();
            let sent = self
                .http
                .post(&url)
                .bearer_auth(self.api_key.expose_secret())
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            let response = match sent {
                Ok(response) => response,
                // Without an Idempotency-Key, only a request that never
                // reached Ringside may be sent again.
                Err(error) => {
                    return Err(self.transport_failure(Call::Mint, error, started, false));
                }
            };
            let status = response.status();
            let fail = |code: String| Failure {
                error: MintError::Upstream {
                    status: status.as_u16(),
                    code,
                },
                retry: false,
            };
            if !status.is_success() {
                let code = error_code(response).await;
                self.metrics
                    .upstream(Call::Mint, CallResult::Error, started.elapsed());
                return Err(fail(code));
            }
            let token = match response.json::<ClientToken>().await {
                Ok(token) if token.token.is_some() => token,
                Ok(_) => {
                    self.metrics
                        .upstream(Call::Mint, CallResult::Error, started.elapsed());
                    return Err(fail("missing_token".into()));
                }
                Err(error) => {
                    let result = if error.is_timeout() {
                        CallResult::Timeout
                    } else {
                        CallResult::Error
                    };
                    self.metrics.upstream(Call::Mint, result, started.elapsed());
                    return Err(fail("malformed_response".into()));
                }
            };
            self.metrics
                .upstream(Call::Mint, CallResult::Ok, started.elapsed());
            Ok(token)
        })
        .await
    }

    fn transport_failure(
        &self,
        call: Call,
        error: reqwest::Error,
        started: Instant,
        idempotent: bool,
    ) -> Failure {
        let never_reached = error.is_connect();
        let result = if never_reached {
            CallResult::Connect
        } else if error.is_timeout() {
            CallResult::Timeout
        } else {
            CallResult::Error
        };
        self.metrics.upstream(call, result, started.elapsed());
        Failure {
            // Without the URL: the error text stays short and safe to log.
            error: MintError::Unavailable(format!(
                "{}: {}",
                result_text(result),
                error.without_url()
            )),
            retry: idempotent || never_reached,
        }
    }
}

fn result_text(result: CallResult) -> &'static str {
    match result {
        CallResult::Connect => "could not connect",
        CallResult::Timeout => "timed out",
        _ => "request failed",
    }
}

/// Ringside's `error.code`, kept to a short safe token for logs.
async fn error_code(response: reqwest::Response) -> String {
    response
        .json::<ErrorBody>()
        .await
        .ok()
        .map(|body| body.error.code)
        .filter(|code| {
            !code.is_empty()
                && code.len() <= 64
                && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        .unwrap_or_else(|| "unknown".into())
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
