//! Who is asking for a token. Never the request body: the mint asks an
//! [`Identify`] implementation, which reads the request's credentials. Two
//! are built in: [`Visitors`] (anonymous visitors, known by a signed HttpOnly
//! cookie the mint sets itself) and [`crate::session::Sessions`] (signed-in
//! users, known by the host app's session JWT). A host may plug its own.

use std::fmt::Debug;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header, request::Parts};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

use crate::clock::{Clock, SystemClock};
use crate::error::MintError;

/// The visitor cookie's name on http pages.
pub const COOKIE: &str = "ringside_visitor";
/// Its name on https pages: the `__Host-` prefix makes browsers refuse it
/// unless it is `Secure`, for `Path=/` and without a `Domain`, so a sibling
/// subdomain cannot plant one (RFC 6265bis §4.1.3.2).
pub const HOST_COOKIE: &str = "__Host-ringside_visitor";
/// How long a visitor stays known by default: 30 days.
pub const DEFAULT_MAX_AGE_SECS: u32 = 30 * 24 * 60 * 60;
/// The default budget of a new visitor customer, US dollars.
pub const DEFAULT_VISITOR_BUDGET_USD: f64 = 0.10;

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

/// Anonymous visitors: a random id and its issue time in a signed,
/// HttpOnly, SameSite=Lax first-party cookie
/// `v2.<id>.<issued>.<HMAC-SHA256("v2.<id>.<issued>")>`, set on the first
/// mint (`Secure` and named `__Host-…` when the page is https). A cookie is
/// honoured for its max age from its issue time, which the MAC covers (a
/// copied cookie cannot be made younger); past half of it, it is issued
/// again for the same visitor. Maps to `ext:visitor_<id>`.
pub struct Visitors {
    key: SecretSlice<u8>,
    budget_usd: Option<f64>,
    rate_limit_rpm: Option<u32>,
    max_age_secs: u32,
    clock: Arc<dyn Clock>,
}

impl Debug for Visitors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visitors")
            .field("key", &"[redacted]")
            .field("budget_usd", &self.budget_usd)
            .field("rate_limit_rpm", &self.rate_limit_rpm)
            .field("max_age_secs", &self.max_age_secs)
            .finish()
    }
}

impl Visitors {
    /// Signs cookies with `key` (at least 32 bytes of secret); new visitor
    /// customers get a budget of 0.10 USD and 20 requests a minute; cookies
    /// last 30 days.
    pub fn new(key: Vec<u8>) -> Self {
        Visitors {
            key: key.into(),
            budget_usd: Some(DEFAULT_VISITOR_BUDGET_USD),
            rate_limit_rpm: Some(20),
            max_age_secs: DEFAULT_MAX_AGE_SECS,
            clock: Arc::new(SystemClock::new()),
        }
    }

    /// Sets how long a visitor stays known (seconds, from the cookie's issue).
    pub fn with_max_age(mut self, secs: u32) -> Self {
        self.max_age_secs = secs.max(60);
        self
    }

    /// Reads the time (for issue times and max age) from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// What new visitor customers are created with.
    pub fn budget_usd(&self) -> Option<f64> {
        self.budget_usd
    }

    /// The secret, for what must be signed with the same key on every
    /// replica (proof-of-work challenges), under its own label.
    pub fn derived_key(&self, label: &str) -> Vec<u8> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.key.expose_secret()).expect("HMAC takes any key");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().to_vec()
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

    fn mac(&self, signed: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.key.expose_secret()).expect("HMAC takes any key");
        mac.update(signed.as_bytes());
        mac
    }

    /// The visitor of these headers, or a new one (with its cookie) when they
    /// hold no valid cookie. `secure` (an https page) marks the cookie
    /// `Secure` and gives it the `__Host-` name.
    pub fn visitor(&self, headers: &HeaderMap, secure: bool) -> Identity {
        let now = self.clock.unix();
        let mut identity = Identity {
            external_id: String::new(),
            budget_usd: self.budget_usd,
            rate_limit_rpm: self.rate_limit_rpm,
            is_new: false,
            set_cookie: None,
        };
        if let Some((id, issued)) = self.read(headers, now) {
            identity.external_id = external_id(&id);
            // Past half its life, the same visitor gets a fresh cookie.
            if now.saturating_sub(issued) > i64::from(self.max_age_secs / 2) {
                identity.set_cookie = Some(self.cookie(&id, now, secure));
            }
            return identity;
        }
        let id = B64.encode(rand::random::<[u8; 16]>());
        identity.external_id = external_id(&id);
        identity.is_new = true;
        identity.set_cookie = Some(self.cookie(&id, now, secure));
        identity
    }

    fn cookie(&self, id: &str, now: i64, secure: bool) -> HeaderValue {
        let signed = format!("v2.{id}.{now}");
        let signature = B64.encode(self.mac(&signed).finalize().into_bytes());
        let (name, secure) = if secure {
            (HOST_COOKIE, "; Secure")
        } else {
            (COOKIE, "")
        };
        let cookie = format!(
            "{name}={signed}.{signature}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
            self.max_age_secs
        );
        HeaderValue::from_str(&cookie).expect("the cookie is ASCII")
    }

    /// The visitor id and issue time of a valid, unexpired cookie of `headers`.
    fn read(&self, headers: &HeaderMap, now: i64) -> Option<(String, i64)> {
        cookies(headers, HOST_COOKIE)
            .chain(cookies(headers, COOKIE))
            .find_map(|value| {
                let rest = value.strip_prefix("v2.")?;
                let (signed, signature) = rest.rsplit_once('.')?;
                let (id, issued) = signed.split_once('.')?;
                if id.len() != 22 || signature.len() != 43 || issued.len() > 12 {
                    return None;
                }
                let signature = B64.decode(signature).ok()?;
                // `verify_slice` compares in constant time.
                self.mac(&format!("v2.{signed}"))
                    .verify_slice(&signature)
                    .ok()?;
                let issued: i64 = issued.parse().ok()?;
                let age = now.checked_sub(issued)?;
                // Issued in the future (beyond a clock's skew), or too old.
                (age >= -300 && age <= i64::from(self.max_age_secs))
                    .then(|| (id.to_string(), issued))
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
            cookie.starts_with("ringside_visitor=v2.")
                && cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && cookie.contains(&format!("Max-Age={DEFAULT_MAX_AGE_SECS}"))
                && !cookie.contains("Secure"),
            "{cookie}"
        );
        let again = visitors.visitor(&with_cookie(&format!("other=1; {}", pair(&first))), true);
        assert_eq!(again.external_id, first.external_id);
        assert!(again.set_cookie.is_none() && !again.is_new);
        assert!(first.external_id.starts_with("ext:visitor_"));
        assert_eq!(first.budget_usd, Some(0.10), "issue #13: a lower default");
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
        let forged = format!("{COOKIE}=v2.AAAAAAAAAAAAAAAAAAAAAA.1.forged");
        assert!(visitors.visitor(&with_cookie(&forged), false).is_new);
        let secure = visitors.visitor(&HeaderMap::new(), true);
        let cookie = secure.set_cookie.unwrap();
        let cookie = cookie.to_str().unwrap();
        assert!(
            cookie.starts_with("__Host-ringside_visitor=v2.")
                && cookie.contains("; Path=/;")
                && !cookie.contains("Domain")
                && cookie.ends_with("; Secure"),
            "an https page gets a __Host- cookie: {cookie}"
        );
    }

    #[test]
    fn the_issue_time_is_signed_and_a_cookie_expires_after_its_max_age() {
        let clock = Arc::new(crate::clock::ManualClock::new());
        let visitors = Visitors::new(vec![7; 32])
            .with_max_age(1000)
            .with_clock(clock.clone());
        let first = visitors.visitor(&HeaderMap::new(), false);
        let cookie = pair(&first);
        clock.advance(std::time::Duration::from_secs(400));
        let again = visitors.visitor(&with_cookie(&cookie), false);
        assert!(
            !again.is_new && again.set_cookie.is_none(),
            "young: kept as is"
        );
        clock.advance(std::time::Duration::from_secs(200));
        let renewed = visitors.visitor(&with_cookie(&cookie), false);
        assert_eq!(renewed.external_id, first.external_id);
        assert!(
            renewed.set_cookie.is_some(),
            "past half its age: the same visitor, a fresh cookie"
        );
        clock.advance(std::time::Duration::from_secs(401));
        assert!(
            visitors.visitor(&with_cookie(&cookie), false).is_new,
            "past its max age: a new visitor"
        );
        // Making the cookie younger breaks its MAC.
        let (head, signature) = cookie.rsplit_once('.').unwrap();
        let (head, issued) = head.rsplit_once('.').unwrap();
        let younger = format!(
            "{head}.{}.{signature}",
            issued.parse::<i64>().unwrap() + 900
        );
        assert!(visitors.visitor(&with_cookie(&younger), false).is_new);
    }
}
