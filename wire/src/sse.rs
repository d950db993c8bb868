//! A streaming Server-Sent Events parser that follows the WHATWG
//! "event stream interpretation" rules.
//!
//! Bytes go in as they arrive from the network, in reads of any size; events
//! come out as soon as the blank line that ends them has arrived. The result
//! never depends on where the reads were split: a frame, a line ending (`\r`
//! at the end of one read, `\n` at the start of the next), the leading byte
//! order mark or a multi-byte UTF-8 character may all be cut anywhere.
//!
//! The rules (<https://html.spec.whatwg.org/multipage/server-sent-events.html>):
//! - lines end with `\r\n`, `\n` or `\r`;
//! - one byte order mark at the very start of the stream is dropped;
//! - a line starting with `:` is a comment (keep-alives use them);
//! - `field: value` (one space after the colon is dropped), or a bare `field`;
//! - `data` lines accumulate, joined by `\n`; `event` sets the type, `id` the
//!   last event id (unless it holds NUL), `retry` the reconnection time;
//! - a blank line dispatches the event if any `data` arrived;
//! - an event still open when the stream ends is discarded;
//! - bytes that are not UTF-8 become U+FFFD.
//!
//! ```
//! use ringside_wire::sse::SseParser;
//!
//! let mut parser = SseParser::new();
//! let mut events = Vec::new();
//! parser.feed(b"data: hel", &mut |e| events.push(e));
//! parser.feed(b"lo\r", &mut |e| events.push(e));
//! parser.feed(b"\n\r\n", &mut |e| events.push(e));
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0].data, "hello");
//! ```

use std::mem;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    /// The `event:` field; `None` means the default type, `message`.
    pub event: Option<String>,
    /// The `data:` lines, joined by `\n`.
    pub data: String,
    /// The last event id seen on the stream when this event was dispatched.
    pub id: String,
}

impl Event {
    /// The event type, as a browser's `EventSource` would report it.
    pub fn event_type(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }
}

/// Incremental SSE parser: feed it reads, it calls back with whole events.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of a line whose end has not arrived yet.
    line: Vec<u8>,
    /// The previous read ended in `\r`: a `\n` starting the next one is part
    /// of the same line ending.
    after_cr: bool,
    /// No line has been completed yet, so a leading BOM may still be dropped.
    first_line: bool,
    data: String,
    event_type: String,
    last_event_id: String,
    retry: Option<u64>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        SseParser {
            first_line: true,
            ..SseParser::default()
        }
    }

    /// The reconnection time in milliseconds from the last valid `retry:` line.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Whether bytes of an unfinished event are buffered: if the stream ends
    /// now, they are discarded (the WHATWG rule), and a caller may want to say so.
    pub fn has_partial_event(&self) -> bool {
        !self.line.is_empty() || !self.data.is_empty()
    }

    /// Feeds one read of the stream, calling `on_event` for every event it completes.
    pub fn feed(&mut self, mut chunk: &[u8], on_event: &mut impl FnMut(Event)) {
        if chunk.is_empty() {
            return;
        }
        if mem::take(&mut self.after_cr) && chunk[0] == b'\n' {
            chunk = &chunk[1..];
        }
        while let Some(end) = chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
            let ending = chunk[end];
            if self.line.is_empty() {
                self.process_line(&chunk[..end], on_event);
            } else {
                let mut line = mem::take(&mut self.line);
                line.extend_from_slice(&chunk[..end]);
                self.process_line(&line, on_event);
                line.clear();
                self.line = line;
            }
            chunk = &chunk[end + 1..];
            if ending == b'\r' {
                match chunk.first() {
                    Some(b'\n') => chunk = &chunk[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
        }
        self.line.extend_from_slice(chunk);
    }

    fn process_line(&mut self, mut line: &[u8], on_event: &mut impl FnMut(Event)) {
        if mem::take(&mut self.first_line) {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(on_event);
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                push_lossy(&mut self.data, value);
                self.data.push('\n');
            }
            b"event" => {
                self.event_type.clear();
                push_lossy(&mut self.event_type, value);
            }
            b"id" if !value.contains(&0) => {
                self.last_event_id.clear();
                push_lossy(&mut self.last_event_id, value);
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // All ASCII digits, so this is valid UTF-8; a number too large
                // for u64 is ignored like any other invalid value.
                if let Ok(ms) = std::str::from_utf8(value).unwrap_or("").parse() {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, on_event: &mut impl FnMut(Event)) {
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        let mut data = mem::take(&mut self.data);
        data.pop(); // the `\n` appended after the last data line
        let event = mem::take(&mut self.event_type);
        on_event(Event {
            event: (!event.is_empty()).then_some(event),
            data,
            id: self.last_event_id.clone(),
        });
    }
}

/// Parses a whole stream at once, for tests and non-streaming callers.
pub fn parse_all(bytes: &[u8]) -> Vec<Event> {
    let mut events = Vec::new();
    SseParser::new().feed(bytes, &mut |e| events.push(e));
    events
}

fn push_lossy(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => out.push_str(text),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// Writes one `data:` event the way a server should: each line of `data` on
/// its own `data:` line, ended by a blank line.
pub fn write_data_event(out: &mut String, data: &str) {
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn data(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn lf_crlf_and_cr_all_end_lines() {
        assert_eq!(data(&parse_all(b"data: a\n\n")), ["a"]);
        assert_eq!(data(&parse_all(b"data: a\r\n\r\n")), ["a"]);
        assert_eq!(data(&parse_all(b"data: a\r\r")), ["a"]);
        assert_eq!(
            data(&parse_all(b"data: a\r\n\ndata: b\r\rdata: c\n\r\n")),
            ["a", "b", "c"]
        );
    }

    #[test]
    fn a_cr_ending_one_read_and_a_lf_starting_the_next_are_one_line_ending() {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        parser.feed(b"data: a\r", &mut |e| events.push(e));
        parser.feed(b"\ndata: b\r", &mut |e| events.push(e));
        parser.feed(b"\n\r", &mut |e| events.push(e));
        parser.feed(b"\n", &mut |e| events.push(e));
        // If the LF had been taken as a second line ending, "a" alone would
        // have been dispatched before "b" arrived.
        assert_eq!(data(&events), ["a\nb"]);
    }

    #[test]
    fn an_empty_read_between_cr_and_lf_changes_nothing() {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        parser.feed(b"data: a\r", &mut |e| events.push(e));
        parser.feed(b"", &mut |e| events.push(e));
        parser.feed(b"\ndata: b\n\n", &mut |e| events.push(e));
        assert_eq!(data(&events), ["a\nb"]);
    }

    #[test]
    fn comments_are_ignored() {
        let events = parse_all(b": keep-alive\n\n:\ndata: x\n: more\n\n");
        assert_eq!(data(&events), ["x"]);
    }

    #[test]
    fn multi_line_data_is_joined_with_lf() {
        let events = parse_all(b"data: one\ndata:two\ndata\ndata:  four\n\n");
        assert_eq!(data(&events), ["one\ntwo\n\n four"]);
    }

    #[test]
    fn an_event_with_only_empty_data_is_still_dispatched() {
        assert_eq!(data(&parse_all(b"data\n\n")), [""]);
        assert_eq!(data(&parse_all(b"data:\n\n")), [""]);
    }

    #[test]
    fn blank_lines_without_data_dispatch_nothing_and_reset_the_type() {
        let events = parse_all(b"event: ping\n\ndata: x\n\n");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event, None);
        assert_eq!(events[0].event_type(), "message");
    }

    #[test]
    fn event_and_id_fields_are_reported() {
        let events =
            parse_all(b"event: update\nid: 7\ndata: x\n\ndata: y\n\nid: a\0b\ndata: z\n\n");
        assert_eq!(events[0].event_type(), "update");
        assert_eq!(events[0].id, "7");
        assert_eq!(events[1].event_type(), "message");
        assert_eq!(
            events[1].id, "7",
            "the last event id persists across events"
        );
        assert_eq!(events[2].id, "7", "an id holding NUL is ignored");
    }

    #[test]
    fn retry_takes_only_digits() {
        let mut parser = SseParser::new();
        parser.feed(b"retry: 1500\n", &mut |_| {});
        assert_eq!(parser.retry(), Some(1500));
        parser.feed(
            b"retry: 15x\nretry:\nretry: 99999999999999999999999\n",
            &mut |_| {},
        );
        assert_eq!(parser.retry(), Some(1500));
    }

    #[test]
    fn unknown_fields_and_fields_without_colon_are_ignored() {
        assert_eq!(data(&parse_all(b"foo: bar\nbaz\ndata: x\n\n")), ["x"]);
    }

    #[test]
    fn one_leading_bom_is_dropped_and_only_one() {
        assert_eq!(data(&parse_all(b"\xEF\xBB\xBFdata: x\n\n")), ["x"]);
        // A second BOM makes the first line's field name "\u{feff}data", which is unknown.
        assert_eq!(
            data(&parse_all(
                b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\ndata: y\n\n"
            )),
            ["y"]
        );
        // A BOM later in the stream is content.
        assert_eq!(data(&parse_all(b"data: \xEF\xBB\xBFx\n\n")), ["\u{feff}x"]);
    }

    #[test]
    fn a_bom_split_across_reads_is_still_dropped() {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        for read in [&b"\xEF"[..], b"\xBB", b"\xBFdata: x\n", b"\n"] {
            parser.feed(read, &mut |e| events.push(e));
        }
        assert_eq!(data(&events), ["x"]);
    }

    #[test]
    fn utf8_split_across_reads_is_reassembled() {
        let bytes = "data: héllo → 世界 🎉\n\n".as_bytes();
        for split in 1..bytes.len() {
            let mut parser = SseParser::new();
            let mut events = Vec::new();
            parser.feed(&bytes[..split], &mut |e| events.push(e));
            parser.feed(&bytes[split..], &mut |e| events.push(e));
            assert_eq!(data(&events), ["héllo → 世界 🎉"], "split at byte {split}");
        }
    }

    #[test]
    fn invalid_utf8_becomes_replacement_characters() {
        assert_eq!(data(&parse_all(b"data: a\xFFb\n\n")), ["a\u{fffd}b"]);
    }

    #[test]
    fn an_unfinished_event_at_the_end_is_discarded_and_reported() {
        let mut parser = SseParser::new();
        let mut events = Vec::new();
        parser.feed(b"data: done\n\ndata: cut", &mut |e| events.push(e));
        assert_eq!(data(&events), ["done"]);
        assert!(parser.has_partial_event());
    }

    #[test]
    fn write_data_event_round_trips_multi_line_data() {
        let mut out = String::new();
        write_data_event(&mut out, "a\nb");
        write_data_event(&mut out, "");
        assert_eq!(out, "data: a\ndata: b\n\ndata: \n\n");
        assert_eq!(data(&parse_all(out.as_bytes())), ["a\nb", ""]);
    }

    /// Every way of cutting a short stream into reads, exhaustively.
    #[test]
    fn every_split_of_a_tricky_stream_yields_the_same_events() {
        let stream: &[u8] = b"\xEF\xBB\xBFdata:\xC3\xA9\r:c\r\n\r\n";
        let whole = parse_all(stream);
        assert_eq!(data(&whole), ["é"]);
        let cuts = stream.len() - 1;
        for mask in 0u32..(1 << cuts) {
            let mut parser = SseParser::new();
            let mut events = Vec::new();
            let mut start = 0;
            for cut in 0..cuts {
                if mask & (1 << cut) != 0 {
                    parser.feed(&stream[start..=cut], &mut |e| events.push(e));
                    start = cut + 1;
                }
            }
            parser.feed(&stream[start..], &mut |e| events.push(e));
            assert_eq!(events, whole, "cuts {mask:#b}");
        }
    }

    // proptest needs a native target (its RNG and its failure files).
    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// Lines a real or hostile server may send, with every kind of ending.
        fn stream() -> impl Strategy<Value = Vec<u8>> {
            let line = prop_oneof![
                "[a-z \u{e9}\u{4e16}\u{1f389}:]{0,12}".prop_map(|s| format!("data: {s}")),
                "[a-z]{0,5}".prop_map(|s| format!("data:{s}")),
                Just("data".to_string()),
                "[a-z]{0,6}".prop_map(|s| format!("event: {s}")),
                "[0-9a-z]{0,4}".prop_map(|s| format!("id: {s}")),
                "[0-9x]{0,4}".prop_map(|s| format!("retry: {s}")),
                "[ -~]{0,8}".prop_map(|s| format!(":{s}")),
                Just(String::new()),
            ];
            let ending = prop_oneof![Just("\n"), Just("\r"), Just("\r\n")];
            (any::<bool>(), prop::collection::vec((line, ending), 0..40)).prop_map(
                |(bom, lines)| {
                    let mut out = Vec::new();
                    if bom {
                        out.extend_from_slice(BOM);
                    }
                    for (line, ending) in lines {
                        out.extend_from_slice(line.as_bytes());
                        out.extend_from_slice(ending.as_bytes());
                    }
                    out
                },
            )
        }

        proptest! {
            #[test]
            fn any_split_into_reads_yields_the_same_events(
                bytes in stream(),
                cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..24),
            ) {
                let whole = parse_all(&bytes);
                let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
                at.sort_unstable();
                let mut parser = SseParser::new();
                let mut events = Vec::new();
                let mut start = 0;
                for cut in at {
                    parser.feed(&bytes[start..cut], &mut |e| events.push(e));
                    start = cut;
                }
                parser.feed(&bytes[start..], &mut |e| events.push(e));
                prop_assert_eq!(events, whole);
            }

            #[test]
            fn one_byte_reads_yield_the_same_events(bytes in stream()) {
                let whole = parse_all(&bytes);
                let mut parser = SseParser::new();
                let mut events = Vec::new();
                for byte in &bytes {
                    parser.feed(std::slice::from_ref(byte), &mut |e| events.push(e));
                }
                prop_assert_eq!(events, whole);
            }

            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), split in any::<prop::sample::Index>()) {
                let at = split.index(bytes.len() + 1);
                let mut parser = SseParser::new();
                parser.feed(&bytes[..at], &mut |_| {});
                parser.feed(&bytes[at..], &mut |_| {});
            }
        }
    }
}
