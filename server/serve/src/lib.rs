//! The accept loop the mint and the mock share: each connection served by
//! hyper's HTTP/1.1 with the limits a server facing hostile clients needs,
//! which `axum::serve` cannot set (it gives hyper no timer):
//! - a request head (or an idle keep-alive connection) that has not arrived
//!   within [`Settings::header_timeout`] closes the connection, so a
//!   slowloris client holds a socket for a bounded time while everyone else
//!   is served;
//! - at most [`Settings::max_connections`] are open at once: past that, new
//!   ones wait in the kernel's backlog until one closes, so a flood of
//!   connections costs bounded memory and file descriptors;
//! - at most [`Settings::max_connections_per_ip`] from one client address
//!   (IPv6: one /64): past that, its new connections are closed at once, so
//!   one client cannot hold every slot ([`serve_with`] exempts addresses,
//!   such as trusted proxies, that carry many clients);
//! - heads over hyper's limits (100 headers, about 400 KiB) are refused by
//!   hyper itself with 431 and the connection closed.
//!
//! At shutdown, every connection is asked to finish its request in flight.
//! [`shutdown_signal`] is the shutdown both binaries wait for.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::Service;

/// Completes on Ctrl-C, or on SIGTERM (what a service manager or a container
/// runtime sends) where there is one: the shutdown a server binary passes to
/// [`serve`].
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.ok();
}

/// What the accept loop allows a client, and how long shutdown waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// From the connection's start (or the end of its last answer) to the
    /// end of the next request head.
    pub header_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one client address (IPv6: one /64).
    pub max_connections_per_ip: usize,
    /// How long shutdown waits for requests in flight; `None`: until done.
    pub shutdown_grace: Option<Duration>,
}

impl Default for Settings {
    /// 15 s for a head: far more than a browser needs, short enough that
    /// slow clients cannot pile up. 10,000 connections: a few MiB of memory,
    /// well under a usual file-descriptor limit once raised for a server.
    /// No cap per address (a server that knows its clients sets one).
    fn default() -> Self {
        Settings {
            header_timeout: Duration::from_secs(15),
            max_connections: 10_000,
            max_connections_per_ip: usize::MAX,
            shutdown_grace: None,
        }
    }
}

/// Serves `app` (with the peer address each handler needs) on `listener`
/// until `shutdown`, then asks every connection to finish its request in
/// flight and waits for them (at most [`Settings::shutdown_grace`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, settings, |_| false, shutdown).await
}

/// The key of an address for the per-address cap: IPv6 clients usually own
/// a whole /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
}

/// One connection's share of its address's count, given back when it closes.
struct PerIp {
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
    key: IpAddr,
}

impl Drop for PerIp {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// [`serve`], with the per-address cap not applied to the peers `exempt`
/// says carry many clients (a load balancer, a trusted proxy).
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    settings: Settings,
    exempt: impl Fn(IpAddr) -> bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut make = app.into_make_service_with_connect_info::<SocketAddr>();
    let per_ip = Arc::new(Mutex::new(HashMap::<IpAddr, usize>::new()));
    // Every open connection holds a slot: at shutdown, all slots free again
    // means every connection is gone.
    let max = settings.max_connections.clamp(1, u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(max));
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        // A free slot first: at the limit, new connections wait unaccepted.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
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
        let share = if exempt(peer.ip()) || settings.max_connections_per_ip == usize::MAX {
            None
        } else {
            let key = address_key(peer.ip());
            let mut counts = per_ip.lock().unwrap_or_else(|e| e.into_inner());
            let count = counts.entry(key).or_default();
            if *count >= settings.max_connections_per_ip {
                drop(counts);
                tracing::debug!(%peer, "connection closed: too many open from this address");
                continue;
            }
            *count += 1;
            Some(PerIp {
                counts: per_ip.clone(),
                key,
            })
        };
        // Answers (and each SSE frame) are small writes that must leave at once.
        let _ = stream.set_nodelay(true);
        let service = match make.call(peer).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(settings.header_timeout)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = async { let _ = stopped.wait_for(|stop| *stop).await; } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(share);
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let all_closed = slots.acquire_many(max as u32);
    match settings.shutdown_grace {
        Some(grace) => {
            let _ = tokio::time::timeout(grace, all_closed).await;
        }
        None => {
            let _ = all_closed.await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::oneshot;

    use super::*;

    /// A server whose one route answers after `delay`; returns its address,
    /// the shutdown trigger and the running loop.
    async fn slow_server(
        delay: Duration,
        settings: Settings,
    ) -> (
        SocketAddr,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route(
            "/",
            get(move || async move {
                tokio::time::sleep(delay).await;
                "done"
            }),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, app, settings, async {
            let _ = stopped.await;
        }));
        (addr, stop, server)
    }

    async fn start_request(addr: SocketAddr) -> TcpStream {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        stream
    }

    #[tokio::test]
    async fn shutdown_lets_the_request_in_flight_finish_then_returns() {
        let (addr, stop, server) =
            slow_server(Duration::from_millis(300), Settings::default()).await;
        let mut stream = start_request(addr).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!server.is_finished(), "the loop waits for the request");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("done"), "{answer}");
        tokio::time::timeout(Duration::from_secs(2), server)
            .await
            .expect("the loop returns once the connection is gone")
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn one_address_holds_at_most_its_share_of_connections_unless_exempt() {
        let settings = Settings {
            max_connections_per_ip: 2,
            ..Settings::default()
        };
        let (addr, _stop, _server) = slow_server(Duration::from_secs(30), settings).await;
        let _held = [start_request(addr).await, start_request(addr).await];
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut third = start_request(addr).await;
        let mut answer = Vec::new();
        // Closed (or reset: its request was never read) without an answer.
        let _ = tokio::time::timeout(Duration::from_secs(2), third.read_to_end(&mut answer))
            .await
            .expect("the third connection is closed at once, not held");
        assert!(answer.is_empty(), "{answer:?}");

        // A peer named exempt (a trusted proxy) is not capped.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let exempt_addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", get(|| async { "done" }));
        tokio::spawn(serve_with(
            listener,
            app,
            settings,
            |ip| ip.is_loopback(),
            std::future::pending(),
        ));
        let _held = [
            start_request(exempt_addr).await,
            start_request(exempt_addr).await,
        ];
        let mut third = TcpStream::connect(exempt_addr).await.unwrap();
        third
            .write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(2), third.read_to_string(&mut answer))
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    #[tokio::test]
    async fn shutdown_waits_no_longer_than_the_grace() {
        let settings = Settings {
            shutdown_grace: Some(Duration::from_millis(100)),
            ..Settings::default()
        };
        let (addr, stop, server) = slow_server(Duration::from_secs(30), settings).await;
        let _stream = start_request(addr).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
