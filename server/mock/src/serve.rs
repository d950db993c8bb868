//! The accept loop: each connection served by hyper's HTTP/1.1 with the
//! limits a server facing hostile clients needs, which `axum::serve` does not
//! set (it gives hyper no timer, so no header timeout can run):
//! - a request head (or an idle keep-alive connection) that has not arrived
//!   within [`Timeouts::header`] closes the connection: a slowloris client
//!   holds a socket for a bounded time, and everyone else is served meanwhile;
//! - a request body that has not arrived within [`Timeouts::body`] of its
//!   head is a 408 in the contract's shape ([`body_deadline`]);
//! - heads over hyper's limits (100 headers, about 400 KiB) are refused by
//!   hyper itself with 431 and the connection closed.

use std::future::Future;
use std::net::SocketAddr;
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
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::Service;

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

/// Serves `app` on `listener` until `shutdown`, then asks every connection to
/// finish its request in flight and waits for them, at most `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    timeouts: Timeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    let (stop, stopped) = watch::channel(false);
    // Every connection holds a receiver; `closed()` resolves when all are gone.
    let (open, open_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Each SSE frame is a small write that must leave at once.
        let _ = stream.set_nodelay(true);
        let service = match make.call(peer).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let mut stopped = stopped.clone();
        let open_rx = open_rx.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeouts.header)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = async { let _ = stopped.wait_for(|stop| *stop).await; } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(open_rx);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(open_rx);
    let _ = tokio::time::timeout(grace, open.closed()).await;
    Ok(())
}
