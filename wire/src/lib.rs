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
//!   carry serde_json.
//!
//! Types have public fields and no behaviour beyond (de)serialisation, so each
//! side builds and reads them as it likes; the one piece of logic shared here
//! is the SSE parser, because every side must read streams the same way.
//!
//! # Features
//! - `serde`: `Serialize`/`Deserialize` for every shape, and the modules
//!   only servers use ([`customer`], [`embeddings`], [`moderations`],
//!   [`threads`]). The servers turn it on; the widget does not: it reads
//!   [`token::TokenResponse`], [`error::ErrorBody`] and the stream's
//!   [`chat::StreamFrame`]s, and writes [`chat::StreamRequest`], by hand with
//!   [`json`]. Each of those has a property test holding it to serde's
//!   reading (or writing) of the same shape on every input.

pub mod chat;
#[cfg(feature = "serde")]
pub mod customer;
#[cfg(feature = "serde")]
pub mod embeddings;
pub mod error;
pub mod json;
#[cfg(feature = "serde")]
pub mod moderations;
pub mod sse;
#[cfg(feature = "serde")]
pub mod threads;
pub mod token;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod shapes;

// The unit tests run natively and, built for wasm32, in headless Chromium.
#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
