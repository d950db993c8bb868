//! Who is asking for a token. Never the request body: the mint asks an
//! [`Identify`] implementation, which reads the request's credentials. Two
//! are built in: [`Visitors`] (anonymous visitors, known by a signed HttpOnly
//! cookie the mint sets itself) and [`crate::session::Sessions`] (signed-in
//! users, known by the host app's session JWT). A host may plug its own.

use std::fmt::Debug;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use axum::http::{HeaderMap, HeaderValue, header, request::Parts};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

use crate::error::MintError;

/// The visitor cookie's name.
pub const COOKIE: &str = "ringside_visitor";
/// A year: the visitor keeps its conversation's customer across visits.
const MAX_AGE_SECS: u32 = 365 * 24 * 60 * 60;

/// What an [`Identify`] implementation may look at: the request (headers,
/// URI, extensions set by the host's own middleware), its Origin (already
/// checked against the allowlist) and the browser's address.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The request, without its body (the body never identifies anyone).
    pub parts: &'a Parts,
    /// The request's Origin, one of the allowed ones.
    pub origin: &'a str,
    /// The browser's address (behind trusted proxies, from `X-Forwarded-For`).
    pub ip: IpAddr,
}

impl Caller<'_> {
    /// Whether the page is served over https (cookies then get `Secure`).
    pub fn is_https(&self) -> bool {
        self.origin.starts_with("https://")
    }
}

/// The customer a caller maps to, and what to create it with.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The Ringside customer handle, e.g. `ext:visitor_…` or `ext:user_…`:
    /// 1 to 255 printable ASCII characters, not starting with `cus_`.
    pub external_id: String,
    /// The spending cap the customer is created with.
    pub budget_usd: Option<f64>,
    /// The rate limit the customer is created with.
    pub rate_limit_rpm: Option<u32>,
    /// Whether this identity was made by this request (a visitor without a
    /// cookie): its customer surely does not exist yet, and it counts against
    /// the per-address limit on new identities.
    pub is_new: bool,
    /// `Set-Cookie` to send back with the token, if any.
    pub set_cookie: Option<HeaderValue>,
}

impl Identity {
    /// An existing identity with this customer handle and no customer settings.
    pub fn new(external_id: impl Into<String>) -> Self {
        Identity {
            external_id: external_id.into(),
            budget_usd: None,
            rate_limit_rpm: None,
            is_new: false,
            set_cookie: None,
        }
    }
}

/// The future [`Identify::identify`] returns.
pub type IdentifyFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Identity, MintError>> + Send + 'a>>;

/// Tells who a token request comes from. Return
/// [`MintError::Unauthenticated`] when the request carries no valid identity:
/// the mint answers 401. Never read the identity from the request body.
///
/// ```
/// use ringside_mint::identity::{Caller, Identify, IdentifyFuture, Identity};
/// use ringside_mint::error::MintError;
///
/// /// The host's own sessions: its auth middleware put a `UserId` in the
/// /// request's extensions.
/// #[derive(Debug)]
/// struct HostSessions;
///
/// #[derive(Debug, Clone)]
/// struct UserId(u64);
///
/// impl Identify for HostSessions {
///     fn identify<'a>(&'a self, caller: Caller<'a>) -> IdentifyFuture<'a> {
///         Box::pin(async move {
///             let user = caller
///                 .parts
///                 .extensions
///                 .get::<UserId>()
///                 .ok_or(MintError::Unauthenticated("not signed in"))?;
///             let mut identity = Identity::new(format!("ext:user_{}", user.0));
///             identity.budget_usd = Some(5.0);
///             identity.rate_limit_rpm = Some(30);
///             Ok(identity)
///         })
///     }
/// }
///
/// let mut options = ringside_mint::MintOptions::new(
///     "https://api.fightclub.pro",
///     "sk_live_example".to_string().into(),
///     vec!["https://app.example.com".into()],
/// );
/// options.identity = std::sync::Arc::new(HostSessions);
/// ```
pub trait Identify: Send + Sync + Debug + 'static {
    /// The identity of `caller`, or why it has none.
    fn identify<'a>(&'a self, caller: Caller<'a>) -> IdentifyFuture<'a>;

    /// Gets ready before the server takes requests (e.g. fetches a JWK
    /// set); what fails is logged and tried again later. Nothing by default.
    fn start(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::ready(()))
    }
}

/// Anonymous visitors: a random id in a signed, HttpOnly, SameSite=Lax
/// first-party cookie `v1.<id>.<HMAC-SHA256(id)>`, set on the first mint
/// (`Secure` when the page is https). Maps to `ext:visitor_<id>`.
pub struct Visitors {
    key: SecretSlice<u8>,
    budget_usd: Option<f64>,
    rate_limit_rpm: Option<u32>,
}

impl Debug for Visitors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visitors")
            .field("key", &"[redacted]")
            .field("budget_usd", &self.budget_usd)
            .field("rate_limit_rpm", &self.rate_limit_rpm)
            .finish()
    }
}

impl Visitors {
    /// Signs cookies with `key` (at least 32 bytes of secret); new visitor
    /// customers get a budget of 1 USD and 20 requests a minute.
    pub fn new(key: Vec<u8>) -> Self {
        Visitors {
            key: key.into(),
            budget_usd: Some(1.0),
            rate_limit_rpm: Some(20),
        }
    }

    /// Signs cookies with a random key: visitors become new ones after a restart.
    pub fn random() -> Self {
        Visitors::new(rand::random::<[u8; 32]>().to_vec())
    }

    /// Sets what visitor customers are created with.
    pub fn with_customer(mut self, budget_usd: Option<f64>, rate_limit_rpm: Option<u32>) -> Self {
        self.budget_usd = budget_usd;
        self.rate_limit_rpm = rate_limit_rpm;
        self
    }

    fn mac(&self, id: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.key.expose_secret()).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        mac
    }

    /// The visitor of these headers, or a new one (with its cookie) when they
    /// hold no valid cookie. `secure` marks the cookie `Secure`.
    pub fn visitor(&self, headers: &HeaderMap, secure: bool) -> Identity {
        let mut identity = Identity {
            external_id: String::new(),
            budget_usd: self.budget_usd,
            rate_limit_rpm: self.rate_limit_rpm,
            is_new: false,
            set_cookie: None,
        };
        if let Some(id) = self.read(headers) {
            identity.external_id = external_id(&id);
            return identity;
        }
        let id = B64.encode(rand::random::<[u8; 16]>());
        let signature = B64.encode(self.mac(&id).finalize().into_bytes());
        let mut cookie = format!(
            "{COOKIE}=v1.{id}.{signature}; Path=/; Max-Age={MAX_AGE_SECS}; HttpOnly; SameSite=Lax"
        );
        if secure {
            cookie.push_str("; Secure");
        }
        identity.external_id = external_id(&id);
        identity.is_new = true;
        identity.set_cookie = Some(HeaderValue::from_str(&cookie).expect("the cookie is ASCII"));
        identity
    }

    /// The visitor id in a valid cookie of `headers`.
    fn read(&self, headers: &HeaderMap) -> Option<String> {
        cookies(headers, COOKIE).find_map(|value| {
            let (id, signature) = value.strip_prefix("v1.")?.split_once('.')?;
            if id.len() != 22 || signature.len() != 43 {
                return None;
            }
            let signature = B64.decode(signature).ok()?;
            // `verify_slice` compares in constant time.
            self.mac(id)
                .verify_slice(&signature)
                .ok()
                .map(|()| id.to_string())
        })
    }
}

impl Identify for Visitors {
    fn identify<'a>(&'a self, caller: Caller<'a>) -> IdentifyFuture<'a> {
        let identity = self.visitor(&caller.parts.headers, caller.is_https());
        Box::pin(std::future::ready(Ok(identity)))
    }
}

/// The values of the cookies named `name` in `headers`, in order.
///
/// Pairs are split before they are decoded: another cookie of the site with
/// bytes that are not ASCII (a host app storing UTF-8, say) is skipped, and
/// never hides ours. (Found by the `mint_identity` fuzz target.)
pub fn cookies<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&b| b == b';'))
        .filter_map(move |pair| {
            let (key, value) = std::str::from_utf8(pair).ok()?.trim().split_once('=')?;
            (key.trim() == name).then(|| value.trim())
        })
}

fn external_id(visitor: &str) -> String {
    format!("ext:visitor_{visitor}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(value).unwrap());
        headers
    }

    fn pair(identity: &Identity) -> String {
        let cookie = identity.set_cookie.as_ref().unwrap().to_str().unwrap();
        cookie.split(';').next().unwrap().to_string()
    }

    #[test]
    fn a_new_visitor_gets_a_signed_cookie_that_identifies_it_next_time() {
        let visitors = Visitors::new(vec![7; 32]);
        let first = visitors.visitor(&HeaderMap::new(), false);
        assert!(first.is_new);
        let cookie = first
            .set_cookie
            .clone()
            .expect("a new visitor gets a cookie");
        let cookie = cookie.to_str().unwrap();
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && !cookie.contains("Secure"),
            "{cookie}"
        );
        let again = visitors.visitor(&with_cookie(&format!("other=1; {}", pair(&first))), true);
        assert_eq!(again.external_id, first.external_id);
        assert!(again.set_cookie.is_none() && !again.is_new);
        assert!(first.external_id.starts_with("ext:visitor_"));
        assert_eq!(first.budget_usd, Some(1.0));
    }

    #[test]
    fn a_visitor_cookie_is_found_beside_cookies_that_are_not_ascii() {
        // The `mint_identity` fuzz target's crash: one byte 0x94 in another
        // cookie made the whole header unreadable, so every request was a
        // new visitor (and a new Ringside customer).
        let visitors = Visitors::new(vec![7; 32]);
        let first = visitors.visitor(&HeaderMap::new(), false);
        let mut value = b"ringside_visitor=v1.AAAA\x94A.AAAA; a=b; ".to_vec();
        value.extend_from_slice(pair(&first).as_bytes());
        value.extend_from_slice("; c=d\u{e9}".as_bytes());
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_bytes(&value).unwrap());
        let again = visitors.visitor(&headers, false);
        assert!(
            !again.is_new,
            "the real cookie beside non-ASCII ones identifies its visitor"
        );
        assert_eq!(again.external_id, first.external_id);
    }

    #[test]
    fn a_forged_or_foreign_cookie_is_a_new_visitor() {
        let visitors = Visitors::new(vec![7; 32]);
        let elsewhere = Visitors::new(vec![8; 32]);
        let foreign = pair(&elsewhere.visitor(&HeaderMap::new(), false));
        assert!(
            visitors.visitor(&with_cookie(&foreign), false).is_new,
            "a cookie signed with another key is not trusted"
        );
        let forged = format!("{COOKIE}=v1.AAAAAAAAAAAAAAAAAAAAAA.forged");
        assert!(visitors.visitor(&with_cookie(&forged), false).is_new);
        let secure = visitors.visitor(&HeaderMap::new(), true);
        assert!(
            secure
                .set_cookie
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
