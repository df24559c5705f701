//! The accept loop. The mock runs its own loop over hyper's HTTP/1 connection driver rather than a framework's
//! `serve`, for two reasons: `/mock/stats` must count TCP connections and know when each closes (tests use it to
//! prove the gateway pools upstream connections and cancels abandoned streams), and the `close` fault must be able
//! to drop a connection from inside a request handler, which each connection's `Notify` allows.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::mock::handler::{self, Shared};
use crate::mock::stats::OpenConnection;
use crate::mock::MockOptions;

/// Serves the mock on `listener` until the process ends; fails only if the options cannot be set up (the
/// record file cannot be opened).
pub(crate) async fn serve(listener: TcpListener, options: MockOptions) -> io::Result<()> {
    let shared = Arc::new(Shared::new(options)?);
    accept_loop(listener, shared).await;
    Ok(())
}

/// Binds `addr`, then runs the mock on a thread of its own with a small runtime of its own.
pub(crate) fn spawn_background(addr: SocketAddr, options: MockOptions) -> io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    let shared = Arc::new(Shared::new(options)?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("switchyard-mock-worker")
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("switchyard-mock".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => accept_loop(listener, shared).await,
                    Err(e) => log::error!("mock: cannot use the listener on {bound}: {e}"),
                }
            });
        })?;
    Ok(bound)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let open = shared.stats.connection_opened();
                tokio::spawn(serve_connection(stream, Arc::clone(&shared), open));
            }
            Err(e) => {
                // Per-connection failures (reset before accept) are harmless; running out of file descriptors
                // is not, and retrying at once would spin.
                log::warn!("mock: accept failed: {e}");
                if !matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                ) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

/// Serves one connection until it closes (or a `close` fault drops it); `_open` keeps it on the open count.
async fn serve_connection(stream: TcpStream, shared: Arc<Shared>, _open: OpenConnection) {
    if let Err(e) = stream.set_nodelay(true) {
        log::debug!("mock: cannot set TCP_NODELAY: {e}");
    }
    let kill = Arc::new(Notify::new());
    let service = {
        let kill = Arc::clone(&kill);
        service_fn(move |request| {
            let (shared, kill) = (Arc::clone(&shared), Arc::clone(&kill));
            async move { Ok::<_, Infallible>(handler::handle(&shared, &kill, request).await) }
        })
    };
    let http = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = http => {
            if let Err(e) = result {
                log::debug!("mock: connection ended: {e}");
            }
        }
        () = kill.notified() => {}
    }
}
