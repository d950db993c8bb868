//! The mint's visitor cookies and `X-Forwarded-For` on arbitrary headers.
//!
//! - A `Cookie` header of fuzz bytes never identifies a visitor (only the
//!   mint's key signs cookies) and never panics.
//! - A real visitor cookie placed among fuzz cookies (`junk; cookie; junk`)
//!   always identifies its visitor.
//! - `X-Forwarded-For` from a trusted proxy gives an address or the
//!   contract's 400, never a panic; from an untrusted peer it is ignored.
//! - An `x-ringside-challenge` solution of fuzz bytes never passes (only the
//!   mint's key signs challenges) and never panics; a real solution with
//!   one character changed is refused.
#![no_main]

use std::net::IpAddr;
use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use ringside_mint::challenge::{Challenges, solve};
use ringside_mint::client_ip::{IpNet, client_ip};
use ringside_mint::identity::Visitors;

static VISITORS: LazyLock<Visitors> = LazyLock::new(|| Visitors::new(vec![3; 32]));
static CHALLENGES: LazyLock<Challenges> = LazyLock::new(|| Challenges::new(&[9; 32], 1_000));
/// A real solution, made once.
static SOLVED: LazyLock<String> = LazyLock::new(|| {
    solve(&CHALLENGES.make(NOW)).expect("solvable").1
});
const NOW: i64 = 1_800_000_000;
static KNOWN: LazyLock<(String, String)> = LazyLock::new(|| {
    let first = VISITORS.visitor(&HeaderMap::new(), false);
    let cookie = first.set_cookie.expect("a new visitor gets a cookie");
    let pair = cookie
        .to_str()
        .expect("ASCII")
        .split(';')
        .next()
        .expect("a pair")
        .to_string();
    (pair, first.external_id)
});

fuzz_target!(|input: &[u8]| {
    let (left, right) = match input.iter().position(|&b| b == 0) {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (input, &b""[..]),
    };

    if let Ok(value) = HeaderValue::from_bytes(input) {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, value.clone());
        let visitor = VISITORS.visitor(&headers, false);
        assert!(visitor.is_new, "fuzz bytes identified a visitor: {value:?}");

        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("a block")];
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", value.clone());
        headers.append("x-forwarded-for", value);
        let untrusted: IpAddr = "203.0.113.1".parse().expect("an address");
        assert_eq!(
            client_ip(untrusted, &headers, &trusted).ok(),
            Some(untrusted)
        );
        let _ = client_ip("10.1.2.3".parse().expect("an address"), &headers, &trusted);
    }
    if let Ok(text) = std::str::from_utf8(input) {
        let _ = text.parse::<IpNet>();
        assert!(
            CHALLENGES.check(text, NOW).is_err() || text == SOLVED.as_str(),
            "fuzz bytes passed as a challenge solution: {text:?}"
        );
    }
    if let Some(&first) = input.first() {
        // One changed character of a real solution is refused.
        let mut changed = SOLVED.clone().into_bytes();
        let at = usize::from(first) % changed.len();
        changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
        if let Ok(changed) = String::from_utf8(changed)
            && changed != *SOLVED
        {
            let passed = CHALLENGES.check(&changed, NOW);
            // base64 padding bits may decode to the same JSON: then it is
            // the same solution, and the mint's once-only rule refuses it.
            if let Ok((challenge, _)) = passed {
                let original = CHALLENGES.check(&SOLVED, NOW).expect("the real one passes");
                assert_eq!(challenge, original.0, "a changed solution solved another challenge");
            }
        }
    }

    let (pair, external_id) = &*KNOWN;
    let mut cookie = left.to_vec();
    cookie.extend_from_slice(b"; ");
    cookie.extend_from_slice(pair.as_bytes());
    cookie.extend_from_slice(b"; ");
    cookie.extend_from_slice(right);
    if let Ok(value) = HeaderValue::from_bytes(&cookie) {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, value);
        let visitor = VISITORS.visitor(&headers, true);
        assert!(
            !visitor.is_new,
            "a real cookie among others was not recognised: {cookie:?}"
        );
        assert_eq!(
            &visitor.external_id, external_id,
            "a real cookie identified another visitor"
        );
    }
});
