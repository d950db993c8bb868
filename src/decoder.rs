//! What the worker that reads an answer's stream (`js/stream-batches.js`)
//! runs of this wasm: the SSE and JSON of every token, so the page's main
//! thread gets the answer's text, one piece per paint, and decodes nothing.
//!
//! The worker instantiates the page's own compiled module a second time
//! (nothing more is downloaded; the compiled code is shared), with every
//! import a function that throws: so these functions touch no JavaScript,
//! and take and return only numbers. Each stream has a decoder, by id; the
//! worker writes the bytes it read at the address [`rsc_decoder_input`]
//! gives, and after [`rsc_decoder_feed`] reads the text and the ending from
//! this instance's memory. Where there is no worker, or it could not
//! instantiate the module, the page decodes the bytes itself with the same
//! [`AnswerDecoder`] (`src/api.rs`).
//!
//! Why not a wasm of its own for the worker: the decoder alone is 11.8 KB
//! brotli more to download before an answer (measured, issue #15); this
//! costs a few hundred bytes.

use std::cell::RefCell;

use ringside_wire::chat::AnswerDecoder;
use wasm_bindgen::prelude::wasm_bindgen;

/// One stream's decoder and the memory the worker reads and writes.
struct Slot {
    id: u32,
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
    static SLOTS: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

fn with_slot<R>(id: u32, f: impl FnOnce(&mut Slot) -> R) -> Option<R> {
    SLOTS.with_borrow_mut(|slots| slots.iter_mut().find(|s| s.id == id).map(f))
}

/// An address in this instance's memory, as the worker reads it.
fn address(pointer: *const u8) -> u32 {
    pointer as usize as u32
}

/// A decoder for a new stream: its id.
#[wasm_bindgen]
pub fn rsc_decoder_open() -> u32 {
    let id = NEXT_ID.get();
    NEXT_ID.set(id.wrapping_add(1).max(1));
    SLOTS.with_borrow_mut(|slots| {
        slots.push(Slot {
            id,
            decoder: AnswerDecoder::new(),
            input: Vec::new(),
            text: String::new(),
            out: [0; 4],
        })
    });
    id
}

/// The address of a buffer of `len` bytes for the next read of stream `id`
/// (0 if it has no decoder).
#[wasm_bindgen]
pub fn rsc_decoder_input(id: u32, len: u32) -> u32 {
    with_slot(id, |slot| {
        slot.input.clear();
        slot.input.resize(len as usize, 0);
        address(slot.input.as_ptr())
    })
    .unwrap_or(0)
}

/// Decodes the bytes written at [`rsc_decoder_input`]'s address. Returns
/// the address of four `u32`s: the address and the length (in UTF-8 bytes)
/// of the text they completed, and the address and length of the data of
/// the frame that ended the answer (length `u32::MAX` until it comes).
/// 0 if stream `id` has no decoder.
#[wasm_bindgen]
pub fn rsc_decoder_feed(id: u32) -> u32 {
    with_slot(id, |slot| {
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
    .unwrap_or(0)
}

/// Stream `id` has ended: its decoder goes.
#[wasm_bindgen]
pub fn rsc_decoder_close(id: u32) {
    SLOTS.with_borrow_mut(|slots| slots.retain(|s| s.id != id));
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn decoders_are_kept_apart_and_go_when_closed() {
        let (a, b) = (rsc_decoder_open(), rsc_decoder_open());
        assert_ne!(a, b);
        for (id, bytes) in [
            (a, &b"data: [DONE]\n\n"[..]),
            (b, b"data: {\"choices\":[]}\n"),
        ] {
            assert_ne!(rsc_decoder_input(id, bytes.len() as u32), 0);
            with_slot(id, |slot| slot.input.copy_from_slice(bytes));
            assert_ne!(rsc_decoder_feed(id), 0);
        }
        assert_eq!(with_slot(a, |s| s.out[3]), Some(6), "a ended at [DONE]");
        assert_eq!(
            with_slot(b, |s| s.out[3]),
            Some(u32::MAX),
            "b has not ended"
        );
        rsc_decoder_close(a);
        assert_eq!(rsc_decoder_input(a, 1), 0, "a closed decoder is gone");
        assert_eq!(rsc_decoder_feed(a), 0);
        assert_ne!(rsc_decoder_input(b, 1), 0);
        rsc_decoder_close(b);
    }
}
