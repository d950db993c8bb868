//! The proof-of-work a new visitor pays before it becomes a Ringside
//! customer (`--visitor-challenge`), following ALTCHA's documented,
//! self-hosted scheme (no third-party service):
//!
//! - the mint answers a new visitor without a solution with 401
//!   `challenge_required` and a challenge: a random `salt` (carrying its
//!   expiry, `?expires=<unix>`), `challenge = hex(SHA-256(salt + number))`
//!   for a secret random `number` in `0..=maxnumber`, and
//!   `signature = hex(HMAC-SHA256(key, challenge))`;
//! - the widget finds `number` by trying them in turn (a few hundred
//!   milliseconds in a browser, unseen: it happens while the token is
//!   prefetched) and asks again with `x-ringside-challenge:
//!   base64(JSON {algorithm, challenge, number, salt, signature})`;
//! - the mint checks the signature (it made the challenge), the hash, the
//!   expiry, and that the solution was never used before (once per
//!   challenge, across replicas with Redis).
//!
//! A script then pays CPU for every customer it makes, while a visitor
//! pays once (the cookie then knows it).

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The request header carrying a solution.
pub const HEADER: &str = "x-ringside-challenge";
/// The only algorithm offered.
pub const ALGORITHM: &str = "SHA-256";
/// The default `maxnumber`: about 50,000 hashes on average, a few hundred
/// milliseconds on a phone.
pub const DEFAULT_MAX_NUMBER: u64 = 100_000;
/// How long a challenge may be solved in.
pub const TTL: Duration = Duration::from_secs(300);

/// A challenge, as the widget receives it (ALTCHA's fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// Always [`ALGORITHM`].
    pub algorithm: String,
    /// `hex(SHA-256(salt + number))`.
    pub challenge: String,
    /// The largest `number` to try.
    pub maxnumber: u64,
    /// Random hex, then `?expires=<unix seconds>`.
    pub salt: String,
    /// `hex(HMAC-SHA256(key, challenge))`.
    pub signature: String,
}

/// A solution, as the widget sends it (base64 of this JSON).
#[derive(Debug, Clone, Deserialize)]
struct Solution {
    algorithm: String,
    challenge: String,
    number: u64,
    salt: String,
    signature: String,
}

/// Why a solution is refused (the visitor gets a fresh challenge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not base64 of the JSON expected, or another algorithm.
    #[error("the challenge solution is malformed")]
    Malformed,
    /// Not a challenge this mint (or a replica with the same secret) made.
    #[error("the challenge was not made by this mint")]
    Signature,
    /// `SHA-256(salt + number)` is not the challenge.
    #[error("the challenge is not solved")]
    Unsolved,
    /// Past its `expires`.
    #[error("the challenge has expired")]
    Expired,
    /// This solution was used already.
    #[error("the challenge was solved already")]
    Replayed,
}

/// Makes and checks challenges with one secret.
pub struct Challenges {
    key: SecretSlice<u8>,
    max_number: u64,
}

impl std::fmt::Debug for Challenges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Challenges")
            .field("key", &"[redacted]")
            .field("max_number", &self.max_number)
            .finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Challenges {
    /// Challenges signed with `key` (replicas must share it: derive it from
    /// the cookie secret), of difficulty `max_number`.
    pub fn new(key: &[u8], max_number: u64) -> Self {
        Challenges {
            key: key.to_vec().into(),
            max_number: max_number.max(1),
        }
    }

    fn sign(&self, challenge: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.key.expose_secret()).expect("HMAC takes any key");
        mac.update(challenge.as_bytes());
        mac
    }

    /// A fresh challenge, valid until `now + TTL` (Unix seconds).
    pub fn make(&self, now: i64) -> Challenge {
        let salt = format!(
            "{}?expires={}",
            hex(&rand::random::<[u8; 12]>()),
            now.saturating_add(TTL.as_secs() as i64)
        );
        let number = rand::random::<u64>() % (self.max_number + 1);
        let challenge = hex(&Sha256::digest(format!("{salt}{number}")));
        let signature = hex(&self.sign(&challenge).finalize().into_bytes());
        Challenge {
            algorithm: ALGORITHM.into(),
            challenge,
            maxnumber: self.max_number,
            salt,
            signature,
        }
    }

    /// The challenge a solution (the header's value) solves, and how long
    /// it must be remembered as used; the caller checks it was not before.
    pub fn check(&self, header: &str, now: i64) -> Result<(String, Duration), Refused> {
        if header.len() > 1024 {
            return Err(Refused::Malformed);
        }
        let json = STANDARD
            .decode(header.trim())
            .map_err(|_| Refused::Malformed)?;
        let solution: Solution = serde_json::from_slice(&json).map_err(|_| Refused::Malformed)?;
        if solution.algorithm != ALGORITHM || solution.number > self.max_number {
            return Err(Refused::Malformed);
        }
        let signature = decode_hex(&solution.signature).ok_or(Refused::Malformed)?;
        // `verify_slice` compares in constant time.
        self.sign(&solution.challenge)
            .verify_slice(&signature)
            .map_err(|_| Refused::Signature)?;
        let expires = solution
            .salt
            .split_once("?expires=")
            .and_then(|(_, at)| at.split('&').next()?.parse::<i64>().ok())
            .ok_or(Refused::Malformed)?;
        if now > expires {
            return Err(Refused::Expired);
        }
        let hash = hex(&Sha256::digest(format!(
            "{}{}",
            solution.salt, solution.number
        )));
        if hash != solution.challenge {
            return Err(Refused::Unsolved);
        }
        let left = u64::try_from(expires - now).unwrap_or(0) + 1;
        Ok((solution.challenge, Duration::from_secs(left)))
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 128 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Solves `challenge` the way the widget does (for tests, benchmarks and
/// hosts testing their set-up): the `number`, and the header value.
pub fn solve(challenge: &Challenge) -> Option<(u64, String)> {
    (0..=challenge.maxnumber).find_map(|number| {
        let hash = hex(&Sha256::digest(format!("{}{number}", challenge.salt)));
        (hash == challenge.challenge).then(|| {
            let payload = serde_json::json!({
                "algorithm": challenge.algorithm,
                "challenge": challenge.challenge,
                "number": number,
                "salt": challenge.salt,
                "signature": challenge.signature,
            });
            (number, STANDARD.encode(payload.to_string()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_solved_challenge_checks_and_anything_else_is_refused() {
        let challenges = Challenges::new(&[4; 32], 2_000);
        let challenge = challenges.make(NOW);
        assert!(challenge.salt.ends_with(&format!("?expires={}", NOW + 300)));
        let (_, header) = solve(&challenge).expect("solvable");
        let (id, ttl) = challenges.check(&header, NOW).unwrap();
        assert_eq!(id, challenge.challenge);
        assert_eq!(ttl, Duration::from_secs(301));
        assert_eq!(challenges.check(&header, NOW + 301), Err(Refused::Expired));
        let other = Challenges::new(&[5; 32], 2_000);
        assert_eq!(other.check(&header, NOW), Err(Refused::Signature));

        let json: serde_json::Value =
            serde_json::from_slice(&STANDARD.decode(&header).unwrap()).unwrap();
        let mut wrong = json.clone();
        wrong["number"] = serde_json::json!(json["number"].as_u64().unwrap() ^ 1);
        assert_eq!(
            challenges.check(&STANDARD.encode(wrong.to_string()), NOW),
            Err(Refused::Unsolved)
        );
        let mut later = json.clone();
        later["salt"] = serde_json::json!(
            challenge
                .salt
                .replace(&(NOW + 300).to_string(), &(NOW + 99_999).to_string())
        );
        assert_eq!(
            challenges.check(&STANDARD.encode(later.to_string()), NOW),
            Err(Refused::Unsolved),
            "the expiry is inside the hashed salt: moving it breaks the solution"
        );
        for junk in ["", "!!!", &STANDARD.encode("{}"), &"A".repeat(2000)] {
            assert_eq!(
                challenges.check(junk, NOW),
                Err(Refused::Malformed),
                "{junk:.20}"
            );
        }
    }
}
