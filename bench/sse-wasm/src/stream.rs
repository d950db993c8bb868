//! A realistic chat completion stream for the SSE parser benchmarks: the
//! frames the mock Ringside sends, byte for byte in its layout (a role chunk,
//! one content chunk per word token, a finish chunk, `[DONE]`), with words and
//! paragraph breaks like its deterministic answers.
//!
//! Shared by the native criterion bench (`bench/native/benches/sse.rs`) and the wasm
//! bench (`bench/sse-wasm`), so both parse the very same bytes.

const WORDS: &[&str] = &[
    "the",
    "widget",
    "streams",
    "each",
    "token",
    "as",
    "it",
    "arrives",
    "from",
    "gateway",
    "short-lived",
    "client",
    "minted",
    "host",
    "server",
    "bound",
    "origin",
    "browser",
    "never",
    "holds",
    "answers",
    "rendered",
    "safely",
    "markdown",
    "output",
    "message",
    "budget",
    "wallet",
];

const PREFIX: &str = "data: {\"id\":\"chatcmpl-3f9a1c2b7d4e5f60\",\"object\":\"chat.completion.chunk\",\"created\":1767225600,\"model\":\"fc:openai/gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":";

/// The frames of an answer of `tokens` word tokens; their concatenation is the stream.
pub(crate) fn chat_frames(tokens: usize) -> Vec<Vec<u8>> {
    let mut frames = Vec::with_capacity(tokens + 3);
    let frame = |delta: &str, finish: &str| {
        format!("{PREFIX}{delta},\"finish_reason\":{finish}}}]}}\n\n").into_bytes()
    };
    frames.push(frame("{\"role\":\"assistant\"}", "null"));
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) % n as u64) as usize
    };
    let mut separator = "";
    let mut words_left = 0;
    for _ in 0..tokens {
        if words_left == 0 {
            words_left = 6 + next(9);
        }
        words_left -= 1;
        let mut token = format!("{separator}{}", WORDS[next(WORDS.len())]);
        separator = " ";
        if words_left == 0 {
            token.push('.');
            if next(3) == 0 {
                separator = "\\n\\n";
            }
        }
        frames.push(frame(&format!("{{\"content\":\"{token}\"}}"), "null"));
    }
    frames.push(frame("{}", "\"stop\""));
    frames.push(b"data: [DONE]\n\n".to_vec());
    frames
}

/// How a benchmark splits the stream into reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// One whole frame per read: a paced stream, as real models send.
    Frames,
    /// Fixed-size reads of this many bytes: a flooded stream, or the worst
    /// case at 1.
    Bytes(usize),
}

/// Parses the stream split into `reads`; returns the number of events and
/// their data bytes, so the work cannot be optimised away.
pub(crate) fn parse(frames: &[Vec<u8>], whole: &[u8], reads: Reads) -> usize {
    let mut parser = ringside_wire::sse::SseParser::new();
    let mut seen = 0;
    let mut on_event = |event: ringside_wire::sse::Event| seen += 1 + event.data.len();
    match reads {
        Reads::Frames => {
            for frame in frames {
                parser.feed(frame, &mut on_event);
            }
        }
        Reads::Bytes(size) => {
            for read in whole.chunks(size.max(1)) {
                parser.feed(read, &mut on_event);
            }
        }
    }
    seen
}
