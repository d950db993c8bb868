//! The Ringside wire: the JSON shapes that the widget, the mint server and the
//! mock exchange (`../shared/ringside-api.md` is the contract), and the SSE
//! parser that reads completion streams.
//!
//! # Layout
//! - [`chat`]: chat completion requests, stream chunks, the frame decoder.
//! - [`error`]: the one error body every non-2xx answer carries, and its codes.
//! - [`customer`]: the server-side (Bearer) shapes: customers and client tokens.
//! - [`embeddings`], [`moderations`], [`threads`]: the other endpoints a
//!   Client Token may call, in OpenAI's shapes.
//! - [`token`]: what a mint endpoint returns to the widget.
//! - [`sse`]: the incremental Server-Sent Events parser.
//! - [`json`]: a small JSON reader and writer, so the widget's wasm need not
//!   carry serde_json (servers use serde; tests hold the two to agree).
//!
//! Types have public fields and no behaviour beyond (de)serialisation, so each
//! side builds and reads them as it likes; the one piece of logic shared here
//! is the SSE parser, because every side must read streams the same way.

pub mod chat;
pub mod customer;
pub mod embeddings;
pub mod error;
pub mod json;
pub mod moderations;
pub mod sse;
pub mod threads;
pub mod token;

// The unit tests run natively and, built for wasm32, in headless Chromium.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
