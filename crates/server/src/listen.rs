//! Accepting connections, with the bounds a public server needs:
//!
//! - a deadline for a request's headers ([`ConnectionLimits::header_timeout`]): a client that
//!   opens a connection and sends half a request line is dropped, so idle half-open
//!   connections cannot pile up;
//! - a cap on open connections ([`ConnectionLimits::max_connections`], WebSockets included):
//!   one more is answered `503 Service Unavailable` with `Retry-After` and a coded GraphQL
//!   error, then closed;
//! - an accept loop that outlives running out of file descriptors: it waits a moment and tries
//!   again, and says so in the log once a second at most, instead of once per attempt.
//!
//! Connections speak HTTP/1.1 (with upgrades, for WebSockets). On shutdown the listener
//! closes, each connection finishes the request it is serving, and [`serve`] returns once
//! they all have.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many connections a server holds and how long it waits for a request's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            max_connections: 4_096,
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// Refused connections being told so at once; beyond this, one more is simply closed.
const MAX_REFUSING: usize = 256;
/// How long a refused connection is given to take its 503.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(1);
/// How long the accept loop waits after an error (out of descriptors, most likely).
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then lets the
/// connections finish what they are serving.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let max = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let open = Arc::new(Semaphore::new(max as usize));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let busy = Arc::new(busy_response(limits.max_connections));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut accept_errors = AcceptErrors::default();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    accept_errors.note(&error);
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(place) = open.clone().try_acquire_owned() else {
            refuse(stream, &refusing, &busy);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = http
            .serve_connection(
                TokioIo::new(Counted {
                    stream,
                    _place: place,
                }),
                service,
            )
            .with_upgrades();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            // A connection that fails (a reset, a header timeout) is simply over.
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stopping.wait_for(|stop| *stop) => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
    }
    drop(listener);
    stop.send_replace(true);
    // Every connection, upgraded ones included, holds its place until it closes.
    let _ = open.acquire_many(max).await;
}

/// A connection's stream with its place under the cap: the place is given back when the
/// stream is dropped, which for a WebSocket is when the socket closes, not when the HTTP
/// exchange that upgraded it ends.
struct Counted {
    stream: TcpStream,
    _place: OwnedSemaphorePermit,
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

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// What a connection beyond the cap is told before it is closed.
fn busy_response(max_connections: usize) -> Vec<u8> {
    let body = serde_json::to_string(&quorum_api::error::request_error(
        format!("the server holds its maximum of {max_connections} connections; retry in a moment"),
        quorum_api::error::SERVER_BUSY,
    ))
    .unwrap_or_default();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Tells a connection beyond the cap that the server is busy, then closes it; when too many
/// are being told already, closes it at once.
fn refuse(mut stream: TcpStream, refusing: &Arc<Semaphore>, busy: &Arc<Vec<u8>>) {
    let Ok(place) = refusing.clone().try_acquire_owned() else {
        return;
    };
    let busy = busy.clone();
    tokio::spawn(async move {
        let _ = tokio::time::timeout(REFUSAL_TIMEOUT, async {
            stream.write_all(&busy).await?;
            stream.shutdown().await?;
            // Read what the client sent until it closes, so that closing does not reset the
            // connection before the client has read the answer.
            let mut sink = tokio::io::sink();
            tokio::io::copy(&mut stream, &mut sink).await
        })
        .await;
        drop(place);
    });
}

/// Accept errors, logged once a second at most with how many there were.
#[derive(Default)]
struct AcceptErrors {
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl AcceptErrors {
    fn note(&mut self, error: &std::io::Error) {
        self.unlogged += 1;
        let due = self
            .last_logged
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1));
        if due {
            tracing::warn!(
                error = %error,
                errors = self.unlogged,
                "server.accept_failed"
            );
            self.last_logged = Some(Instant::now());
            self.unlogged = 0;
        }
    }
}
