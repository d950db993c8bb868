//! The proof-of-work a mint may ask of a new visitor (`--visitor-challenge`,
//! ALTCHA's scheme): the mint's 401 `challenge_required` carries
//! `{algorithm: "SHA-256", challenge, maxnumber, salt, signature}`; the
//! widget finds the `number` with `hex(SHA-256(salt + number)) == challenge`
//! and asks again with `x-ringside-challenge: base64(JSON {algorithm,
//! challenge, number, salt, signature})`. It happens while the token is
//! prefetched (on hover), so the visitor does not notice.
//!
//! SHA-256 is written here (about 60 lines) rather than taken from
//! WebCrypto, measured both ways (issue #13: `cargo xtask build`, brotli -q 11
//! of the wasm and its glue; headless Chromium on a shared, loaded 2-core
//! machine): WebCrypto's `crypto.subtle.digest` weighs about 450 bytes less
//! (+2,247 bytes against +2,699 over the widget without a challenge) but is
//! a promise per try, 14 to 41 µs each against 2 to 5 µs here: ten times
//! slower, seconds on a phone instead of a few hundred milliseconds.
//!
//! It comes with the answers' wasm chunk ([`crate::chunk`]), which the
//! prefetch on hover starts loading beside the token: the visitors of the
//! many hosts that ask no challenge do not load it before their first
//! message (1,690 bytes of brotli off the main module and glue, weighed
//! with `node bench/weight.mjs`; the bindings it calls stay there).

use ringside_wire::json::{self, Value};

/// The request header that carries a solution.
pub const HEADER: &str = "x-ringside-challenge";
/// Numbers tried between two yields to the page's event loop.
const CHUNK: u64 = 8_192;

/// A challenge, read from a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    challenge: String,
    digest: [u8; 32],
    maxnumber: u64,
    salt: String,
    signature: String,
}

impl Challenge {
    /// The challenge in a mint's refusal body, if it holds one the widget
    /// can solve (SHA-256, at most ten million tries).
    pub fn from_refusal(body: &str) -> Option<Challenge> {
        let value = json::parse(body).ok()?;
        let c = value.get("challenge")?;
        let text = |name: &str| c.get(name).and_then(Value::as_str).map(str::to_string);
        if text("algorithm")? != "SHA-256" {
            return None;
        }
        let challenge = text("challenge")?;
        let maxnumber = c.get("maxnumber").and_then(Value::as_u64)?;
        if maxnumber > 10_000_000 {
            return None;
        }
        Some(Challenge {
            digest: unhex(&challenge)?,
            challenge,
            maxnumber,
            salt: text("salt")?,
            signature: text("signature")?,
        })
    }

    /// Whether `number` solves it.
    fn solves(&self, number: u64) -> bool {
        sha256(format!("{}{number}", self.salt).as_bytes()) == self.digest
    }

    /// The solution's JSON, which the header carries in base64.
    pub fn solution(&self, number: u64) -> String {
        let mut out = String::from("{\"algorithm\":\"SHA-256\",\"challenge\":");
        json::write_string(&mut out, &self.challenge);
        out.push_str(",\"number\":");
        json::write_u64(&mut out, number);
        out.push_str(",\"salt\":");
        json::write_string(&mut out, &self.salt);
        out.push_str(",\"signature\":");
        json::write_string(&mut out, &self.signature);
        out.push('}');
        out
    }

    /// The number in `from..=to` that solves it, if any.
    fn search(&self, from: u64, to: u64) -> Option<u64> {
        (from..=to.min(self.maxnumber)).find(|&n| self.solves(n))
    }
}

/// Solves the challenge of a mint's 401 `response` (read from a clone, so
/// the response stays readable), yielding to the page between chunks so it
/// stays responsive: the header value to send, or `None` when it holds no
/// challenge (or none is found).
pub async fn answer(response: &web_sys::Response) -> Option<String> {
    if response.status() != 401 {
        return None;
    }
    let text = response.clone().ok()?.text().ok()?;
    let body = wasm_bindgen_futures::JsFuture::from(text)
        .await
        .ok()?
        .as_string()?;
    let challenge = Challenge::from_refusal(&body)?;
    let mut from = 0;
    while from <= challenge.maxnumber {
        if let Some(number) = challenge.search(from, from + CHUNK - 1) {
            return web_sys::window()?.btoa(&challenge.solution(number)).ok();
        }
        from += CHUNK;
        crate::browser::sleep(0).await;
    }
    None
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256 (FIPS 180-4) of `data`.
fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let [a, b, c, d, e, f, g, hh] = v;
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let t2 = s0.wrapping_add((a & b) ^ (a & c) ^ (b & c));
            v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
        }
        for (x, y) in h.iter_mut().zip(v) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (chunk, x) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&x.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha256_matches_the_standards_vectors() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            "two blocks"
        );
    }

    #[test]
    fn a_refusals_challenge_is_solved_into_the_json_the_mint_reads() {
        let salt = "46a7bc2f9e01d3c5b8a4f6e2?expires=1800000300";
        let challenge = hex(&sha256(format!("{salt}1234").as_bytes()));
        let body = format!(
            r#"{{"error":{{"type":"authentication_error","code":"challenge_required","message":"m","param":null}},"challenge":{{"algorithm":"SHA-256","challenge":"{challenge}","maxnumber":5000,"salt":"{salt}","signature":"ab12"}}}}"#
        );
        let parsed = Challenge::from_refusal(&body).expect("a challenge");
        assert_eq!(parsed.search(0, 999), None);
        assert_eq!(parsed.search(1000, 9_999_999), Some(1234));
        assert_eq!(
            parsed.solution(1234),
            format!(
                r#"{{"algorithm":"SHA-256","challenge":"{challenge}","number":1234,"salt":"{salt}","signature":"ab12"}}"#
            )
        );
        for other in [
            r#"{"error":{"code":"unauthenticated"}}"#,
            &body.replace("SHA-256", "SHA-512"),
            &body.replace("5000", "99999999"),
            &body.replace(&challenge, "abc"),
        ] {
            assert!(Challenge::from_refusal(other).is_none(), "{other:.80}");
        }
    }
}
