//! What the worker that reads an answer's stream (`js/stream-batches.js`)
//! runs of this wasm: the SSE and JSON of every token, so the page's main
//! thread gets the answer's text, one piece per paint, and decodes nothing.
//!
//! The worker instantiates the page's own compiled module again for each
//! answer (nothing more is downloaded; the compiled code is shared), with
//! every import a function that throws: so these functions touch no
//! JavaScript, and take and return only numbers. An instance decodes one
//! stream: the worker writes the bytes it read at the address
//! [`rsc_decoder_input`] gives, and after [`rsc_decoder_feed`] reads the text
//! and the ending from the instance's memory. Where there is no worker, or it
//! could not instantiate the module, the page decodes the bytes itself with
//! the same [`AnswerDecoder`] (`src/api.rs`).
//!
//! Why not a wasm of its own for the worker: the decoder alone is 11.8 KB
//! brotli more to download before an answer (measured, issue #15); this
//! costs a few hundred bytes. Why an instance per answer (about 1 ms and
//! 1 MB of the worker's, let go when the answer ends), not a table of
//! decoders in one instance: simpler, 86 bytes (brotli) less of the widget,
//! and a decoder that traps takes no later answer down with it.

use std::cell::RefCell;

use ringside_wire::chat::AnswerDecoder;
use wasm_bindgen::prelude::wasm_bindgen;

/// This instance's stream: its decoder and the memory the worker reads and
/// writes.
#[derive(Default)]
struct Slot {
    decoder: AnswerDecoder,
    /// Where the worker writes a read's bytes.
    input: Vec<u8>,
    /// The text decoded by the last feed.
    text: String,
    /// What the last feed returned: the text's address and length, the
    /// ending frame's address and length (`u32::MAX` before it comes).
    out: [u32; 4],
}

thread_local! {
    static SLOT: RefCell<Slot> = RefCell::default();
}

/// An address in this instance's memory, as the worker reads it.
fn address(pointer: *const u8) -> u32 {
    pointer as usize as u32
}

/// The address of a buffer of `len` bytes for the stream's next read.
#[wasm_bindgen]
pub fn rsc_decoder_input(len: u32) -> u32 {
    SLOT.with_borrow_mut(|slot| {
        slot.input.clear();
        slot.input.resize(len as usize, 0);
        address(slot.input.as_ptr())
    })
}

/// Decodes the bytes written at [`rsc_decoder_input`]'s address. Returns
/// the address of four `u32`s: the address and the length (in UTF-8 bytes)
/// of the text they completed, and the address and length of the data of
/// the frame that ended the answer (length `u32::MAX` until it comes).
#[wasm_bindgen]
pub fn rsc_decoder_feed() -> u32 {
    SLOT.with_borrow_mut(|slot| {
        slot.decoder.feed(&slot.input);
        slot.text = slot.decoder.take_text();
        let (end, end_len) = match slot.decoder.end() {
            Some(end) => (address(end.as_ptr()), end.len() as u32),
            None => (0, u32::MAX),
        };
        slot.out = [
            address(slot.text.as_ptr()),
            slot.text.len() as u32,
            end,
            end_len,
        ];
        address(slot.out.as_ptr().cast())
    })
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn feed(bytes: &[u8]) -> [u32; 4] {
        assert_ne!(rsc_decoder_input(bytes.len() as u32), 0);
        SLOT.with_borrow_mut(|slot| slot.input.copy_from_slice(bytes));
        assert_ne!(rsc_decoder_feed(), 0);
        SLOT.with_borrow(|slot| slot.out)
    }

    #[test]
    fn text_comes_out_read_by_read_and_the_end_once_it_comes() {
        let chunk = |text: &str| {
            format!(
                "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}}}}]}}\n\n"
            )
        };
        let stream = format!("{}{}data: [DONE]\n\n", chunk("Hello"), chunk(" world"));
        let (first, rest) = stream.as_bytes().split_at(stream.find(" world").unwrap());
        let out = feed(first);
        assert_eq!(out[1], 5, "Hello");
        assert_eq!(out[3], u32::MAX, "not ended yet");
        let out = feed(rest);
        assert_eq!(out[1], 6, " world");
        assert_eq!(out[3], 6, "ended at [DONE]");
        SLOT.with_borrow(|slot| assert_eq!(slot.decoder.end(), Some("[DONE]")));
    }

    #[test]
    fn a_stream_that_starts_with_a_byte_order_mark_is_read_from_its_first_frame() {
        let out = feed("\u{feff}data: [DONE]\n\n".as_bytes());
        assert_eq!(out[3], 6, "ended at [DONE]");
    }
}
