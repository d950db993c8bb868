//! Test support: JSON texts near a shape, for the property tests that hold
//! each reader written by hand (the widget's) to serde's reading of the same
//! shape (the servers').
//!
//! A text is an object whose members are the shape's fields, each absent or
//! holding a value of the right type, of a wrong type, `null`, or an edge
//! number (`-0`, `1e2`, `5.0`, one past `u32` or `i64`), with an unknown
//! member now and then. Two inputs that serde_json reads are left out,
//! because no server writes them and the readers refuse or read them as
//! `JSON.parse` does: a struct written as an array of its fields (serde_json
//! accepts it), and an object naming a member twice (serde refuses it; the
//! readers take the last).

use proptest::prelude::*;
use proptest::strategy::Union;

/// Numbers at the edges of the integer types and the JSON grammar.
const EDGE_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "5.0",
    "1e2",
    "0.5",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
];

/// Any JSON string, as text.
pub(crate) fn string() -> BoxedStrategy<String> {
    any::<String>()
        .prop_map(|s| serde_json::to_string(&s).unwrap())
        .boxed()
}

/// A JSON integer of any size, or an edge number, as text.
pub(crate) fn integer() -> BoxedStrategy<String> {
    prop_oneof![
        6 => (0u32..100_000).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => prop::sample::select(EDGE_NUMBERS).prop_map(str::to_string),
    ]
    .boxed()
}

/// One of `texts`, or any other string.
pub(crate) fn one_of(texts: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(texts).prop_map(|t| serde_json::to_string(t).unwrap()),
        1 => string(),
    ]
    .boxed()
}

/// A JSON value that is not an array: what a struct's place may hold
/// besides the struct (see the module's doc).
pub(crate) fn not_array() -> BoxedStrategy<String> {
    prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("{}".to_string()),
        integer(),
        string(),
    ]
    .boxed()
}

/// Any JSON value, as text.
pub(crate) fn any_value() -> BoxedStrategy<String> {
    prop_oneof![
        4 => not_array(),
        1 => Just("[]".to_string()),
        1 => prop::collection::vec(integer(), 1..3).prop_map(|items| format!("[{}]", items.join(","))),
    ]
    .boxed()
}

/// A member's value: mostly `right` (so that whole shapes are often
/// valid), else `null`, a wrong type or absent (`None`).
pub(crate) fn member(right: BoxedStrategy<String>) -> BoxedStrategy<Option<String>> {
    prop_oneof![
        12 => right.prop_map(Some),
        1 => Just(Some("null".to_string())),
        1 => any_value().prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}

/// A member that holds a struct: mostly `right`, else `null`, any value but
/// an array, or absent.
pub(crate) fn struct_member(right: BoxedStrategy<String>) -> BoxedStrategy<Option<String>> {
    prop_oneof![
        12 => right.prop_map(Some),
        1 => not_array().prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}

/// An object with these members (each present or not), and sometimes an
/// unknown one, in a random order.
pub(crate) fn object(
    members: Vec<(&'static str, BoxedStrategy<Option<String>>)>,
) -> BoxedStrategy<String> {
    let names: Vec<&'static str> = members.iter().map(|(name, _)| *name).collect();
    let values: Vec<BoxedStrategy<Option<String>>> =
        members.into_iter().map(|(_, value)| value).collect();
    (
        values,
        prop::option::of(any_value()),
        any::<prop::sample::Index>(),
    )
        .prop_map(move |(values, extra, rotate)| {
            let mut parts: Vec<String> = names
                .iter()
                .zip(values)
                .filter_map(|(name, value)| Some(format!("\"{name}\":{}", value?)))
                .collect();
            if let Some(extra) = extra {
                parts.push(format!("\"unknown\":{extra}"));
            }
            if !parts.is_empty() {
                let by = rotate.index(parts.len());
                parts.rotate_left(by);
            }
            format!("{{{}}}", parts.join(","))
        })
        .boxed()
}

/// An array of `item`s.
pub(crate) fn array(item: BoxedStrategy<String>) -> BoxedStrategy<String> {
    prop::collection::vec(item, 0..3)
        .prop_map(|items| format!("[{}]", items.join(",")))
        .boxed()
}

/// Any of `strategies`, each with its weight.
pub(crate) fn either(strategies: Vec<(u32, BoxedStrategy<String>)>) -> BoxedStrategy<String> {
    Union::new_weighted(strategies).boxed()
}
