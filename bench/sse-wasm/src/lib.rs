//! A benchmark, never shipped: the shared SSE parser
//! ([`ringside_wire::sse::SseParser`]) compiled to wasm, so `cargo xtask bench`
//! can measure it where the widget runs it, in Chromium. The page builds a
//! [`Bench`] once, then times [`Bench::run`] with `performance.now()`.
//!
//! The stream is `stream::chat_frames`, the same bytes the native criterion
//! bench (`bench/native/benches/sse.rs`) parses.

mod stream;

use stream::Reads;
use wasm_bindgen::prelude::wasm_bindgen;

/// A chat stream held in wasm memory, ready to be parsed again and again.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Bench {
    frames: Vec<Vec<u8>>,
    whole: Vec<u8>,
}

#[wasm_bindgen]
impl Bench {
    /// A stream of an answer of `tokens` word tokens.
    #[wasm_bindgen(constructor)]
    pub fn new(tokens: usize) -> Bench {
        let frames = stream::chat_frames(tokens);
        let whole = frames.concat();
        Bench { frames, whole }
    }

    /// The stream's length in bytes.
    pub fn bytes(&self) -> usize {
        self.whole.len()
    }

    /// Parses the whole stream `rounds` times, in reads of `read_size` bytes
    /// (0: one frame per read). Returns a checksum of what was parsed.
    pub fn run(&self, read_size: usize, rounds: u32) -> u32 {
        let reads = if read_size == 0 {
            Reads::Frames
        } else {
            Reads::Bytes(read_size)
        };
        let mut sum = 0usize;
        for _ in 0..rounds {
            sum = sum.wrapping_add(stream::parse(&self.frames, &self.whole, reads));
        }
        sum as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_splitting_the_stream_parses_the_same_events() {
        let bench = Bench::new(200);
        let by_frame = bench.run(0, 1);
        assert_eq!(bench.run(1, 1), by_frame, "1-byte reads see every event");
        assert_eq!(bench.run(4096, 1), by_frame, "4 KiB reads see every event");
        let events = ringside_wire::sse::parse_all(&bench.whole);
        assert_eq!(events.len(), 203, "role, 200 tokens, finish, [DONE]");
        assert_eq!(events.last().map(|e| e.data.as_str()), Some("[DONE]"));
        for event in &events[..202] {
            let frame = ringside_wire::chat::StreamFrame::parse(&event.data);
            assert!(
                frame.is_ok(),
                "a frame the widget can decode: {}",
                event.data
            );
        }
    }
}
