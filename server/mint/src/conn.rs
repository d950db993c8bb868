//! The accept loop: the one both servers share (`ringside-serve`), with a
//! header timeout for slow clients and a cap on open connections. Hosts
//! nesting the mint's router in their own app use their own.

pub use ringside_serve::{Settings, serve, serve_with, shutdown_signal};
