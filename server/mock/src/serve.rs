//! Serving the mock to hostile clients: the accept loop both servers share
//! (`ringside-serve`), and what only the mock needs on top:
//! - a request head (or an idle keep-alive connection) that has not arrived
//!   within [`Timeouts::header`] closes the connection: a slowloris client
//!   holds a socket for a bounded time, and everyone else is served meanwhile;
//! - a request body that has not arrived within [`Timeouts::body`] of its
//!   head is a 408 in the contract's shape ([`body_deadline`]);
//! - heads over hyper's limits (100 headers, about 400 KiB) are refused by
//!   hyper itself with 431 and the connection closed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use tokio::net::TcpListener;

/// How long a client may take to send what it must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the connection's start (or the end of its last answer) to the
    /// end of the next request head.
    pub header: Duration,
    /// From a request's head to the end of its body.
    pub body: Duration,
}

impl Default for Timeouts {
    /// 15 s for a head, 30 s for a body (at most 1 MiB): far more than any
    /// real client needs, short enough that slow clients cannot pile up.
    fn default() -> Self {
        Timeouts {
            header: Duration::from_secs(15),
            body: Duration::from_secs(30),
        }
    }
}

/// The error a request body gives when its time ran out.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimeout;

/// Whether `error` (or anything in its source chain) is a [`BodyTimeout`].
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error.is::<BodyTimeout>() {
            return true;
        }
        next = error.source();
    }
    false
}

/// A request body that fails with [`BodyTimeout`] once its deadline passes.
struct Deadline {
    inner: Body,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        match this.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(axum::Error::new(BodyTimeout)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Middleware: the request's body must arrive within `limit` of now.
pub async fn body_deadline(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let request = request.map(|inner| {
        Body::new(Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep(limit)),
        })
    });
    next.run(request).await
}

/// Serves `app` on `listener` until `shutdown` with the accept loop both
/// servers share (`ringside-serve`: this header timeout, a connection cap),
/// then waits at most `grace` for the connections to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let settings = ringside_serve::Settings {
        header_timeout: timeouts.header,
        shutdown_grace: Some(grace),
        ..ringside_serve::Settings::default()
    };
    ringside_serve::serve(listener, app, settings, shutdown).await
}
