//! The SSE parser on arbitrary bytes: it never panics, and however the
//! stream is cut into reads (here: cuts chosen by the input's first bytes,
//! and one byte at a time) it yields exactly the events of one whole read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ringside_wire::sse::{Event, SseParser, parse_all};

/// Feeds `bytes` cut at `cuts` (sorted offsets), collecting the events.
fn chunked(bytes: &[u8], cuts: &[usize]) -> (Vec<Event>, bool) {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        parser.feed(&bytes[start..cut], &mut |e| events.push(e));
        start = cut;
    }
    parser.feed(&bytes[start..], &mut |e| events.push(e));
    (events, parser.has_partial_event())
}

fuzz_target!(|input: &[u8]| {
    // The first byte says how many of the next bytes pick cut points.
    let Some((&count, rest)) = input.split_first() else {
        return;
    };
    let count = usize::from(count % 16).min(rest.len());
    let (picks, stream) = rest.split_at(count);

    let whole = parse_all(stream);
    let mut one_read = SseParser::new();
    one_read.feed(stream, &mut |_| {});

    let mut cuts: Vec<usize> = picks
        .iter()
        .map(|&p| usize::from(p) * (stream.len() + 1) / 256)
        .collect();
    cuts.sort_unstable();
    let (events, partial) = chunked(stream, &cuts);
    assert_eq!(
        events, whole,
        "cutting the stream at {cuts:?} changed its events"
    );
    assert_eq!(
        partial,
        one_read.has_partial_event(),
        "cutting the stream at {cuts:?} changed whether an event is left unfinished"
    );

    let every_byte: Vec<usize> = (1..stream.len()).collect();
    let (events, _) = chunked(stream, &every_byte);
    assert_eq!(events, whole, "one-byte reads changed the events");

    for event in &whole {
        assert!(
            !event.data.contains('\r'),
            "a line ending leaked into an event's data: {:?}",
            event.data
        );
    }
});
