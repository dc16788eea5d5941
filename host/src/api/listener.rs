//! The public listener: the router served by hyper-util's connection
//! builder, so a connection is bounded before any handler runs (Slowloris
//! and friends):
//!
//! - a request's head must arrive within `server.header_read_timeout_ms`;
//!   hyper's timer also runs while a keep-alive connection waits for its next
//!   request, so it is the idle keep-alive timeout too;
//! - at most `server.max_connections` connections are open: the accept loop
//!   waits for a free slot, and the kernel's backlog holds the rest;
//! - at most `server.max_connections_per_address` from one client address:
//!   one more is closed at once and counted;
//! - a WebSocket keeps its slots for as long as it lives (the slots travel
//!   with the socket through the upgrade).
//!
//! Every request carries its peer address as [`ConnectInfo`] (for the
//! per-address rate limits). Shutdown stops accepting and lets in-flight
//! requests finish.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinHandle;
use tower::Service as _;

/// Gauge of open connections on the public listener.
pub const OPEN: &str = "streamplug_http_connections";
/// Counter of connections closed at accept, by reason.
pub const REFUSED: &str = "streamplug_http_connections_refused_total";

/// How long shutdown waits for in-flight requests.
const DRAIN: Duration = Duration::from_secs(10);

/// The listener's bounds.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Time for a request head (and for an idle keep-alive connection).
    pub header_read_timeout: Duration,
    /// Open connections at once.
    pub max_connections: usize,
    /// Open connections from one address.
    pub max_per_address: usize,
}

impl ConnectionLimits {
    /// The bounds `[server]` sets.
    pub fn of(server: &crate::config::ServerSettings) -> Self {
        Self {
            header_read_timeout: Duration::from_millis(server.header_read_timeout_ms),
            max_connections: server.max_connections,
            max_per_address: server.max_connections_per_address,
        }
    }
}

/// Connections open per client address.
struct PerAddress {
    open: Mutex<HashMap<IpAddr, usize>>,
    max: usize,
}

/// One connection's share of its address; given back on drop.
struct AddressSlot {
    table: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    fn take(self: &Arc<Self>, ip: IpAddr) -> Option<AddressSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(ip).or_default();
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self
            .table
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// A socket holding its connection slots: they are freed when the socket
/// is, whether hyper or an upgraded WebSocket owns it last.
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    _slot: AddressSlot,
}

impl Drop for Counted {
    fn drop(&mut self) {
        metrics::gauge!(OPEN).decrement(1);
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Resolves once shutdown is signalled (without holding the watch's lock).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Serve `app` on `listener` within `limits` until `shutdown`.
pub fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
        let per_address = Arc::new(PerAddress {
            open: Mutex::default(),
            max: limits.max_per_address.max(1),
        });
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout);
        let graceful = GracefulShutdown::new();
        loop {
            let permit = tokio::select! {
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => break,
                },
                () = stopped(&mut shutdown) => break,
            };
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(error) => {
                        // Out of file descriptors and the like: back off
                        // rather than spin.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = stopped(&mut shutdown) => break,
            };
            let Some(slot) = per_address.take(peer.ip()) else {
                metrics::counter!(REFUSED, "reason" => "per_address").increment(1);
                tracing::debug!(%peer, "connection refused: too many from this address");
                continue;
            };
            let _ = stream.set_nodelay(true);
            metrics::gauge!(OPEN).increment(1);
            let io = TokioIo::new(Counted {
                stream,
                _permit: permit,
                _slot: slot,
            });
            let app = app.clone();
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request
                        .extensions_mut()
                        .insert(ConnectInfo::<SocketAddr>(peer));
                    let mut app = app.clone();
                    async move {
                        Ok::<_, Infallible>(
                            app.call(request)
                                .await
                                .unwrap_or_else(|never| match never {}),
                        )
                    }
                });
            let connection = builder
                .serve_connection_with_upgrades(io, service)
                .into_owned();
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::trace!(%error, "connection ended with an error");
                }
            });
        }
        drop(listener);
        if tokio::time::timeout(DRAIN, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("some HTTP connections were still busy after {DRAIN:?}");
        }
        Ok(())
    })
}
