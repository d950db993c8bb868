//! The widget's JSON reader on arbitrary text: it never panics, accepts
//! exactly what serde_json accepts (but for its documented limits: 64 levels
//! of nesting, and numbers serde_json cannot hold in an f64), and reads the
//! same values. Every accepted text is also decoded as a completion stream
//! frame, which must not panic either, and every string it reads writes back
//! to JSON that serde_json reads as the same string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_wire::chat::StreamFrame;
use ringside_wire::json::{self, Value};

fn to_serde(value: &Value<'_>) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            serde_json::from_str(n).expect("serde_json read this number in the whole text")
        }
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_serde).collect()),
        Value::Object(members) => serde_json::Value::Object(
            members
                .iter()
                .map(|(k, v)| (k.to_string(), to_serde(v)))
                .collect(),
        ),
    }
}

fn strings_round_trip(value: &Value<'_>) {
    match value {
        Value::String(s) => {
            let mut out = String::new();
            json::write_string(&mut out, s);
            let back: String = serde_json::from_str(&out).expect("write_string writes JSON");
            assert_eq!(&back, s, "write_string changed a string");
        }
        Value::Array(items) => items.iter().for_each(strings_round_trip),
        Value::Object(members) => members.iter().for_each(|(k, v)| {
            strings_round_trip(&Value::String(k.clone()));
            strings_round_trip(v);
        }),
        _ => {}
    }
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let ours = json::parse(text);
    let _ = StreamFrame::parse(text);
    let theirs = serde_json::from_str::<serde_json::Value>(text);
    match (&ours, &theirs) {
        (Ok(value), Ok(expected)) => {
            assert_eq!(
                &to_serde(value),
                expected,
                "read differently than serde_json: {text:?}"
            );
            strings_round_trip(value);
        }
        (Ok(_), Err(e)) => assert!(
            e.to_string().contains("out of range"),
            "accepted what serde_json refuses ({e}): {text:?}"
        ),
        (Err(e), Ok(_)) => assert_eq!(
            e.reason, "nested too deeply",
            "refused what serde_json accepts: {text:?}"
        ),
        (Err(_), Err(_)) => {}
    }
});
