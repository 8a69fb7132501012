//! The accept loop. It serves the axum router through hyper directly so that
//! an injected fault can drop a connection without answering, which a router
//! cannot do, and so that shutdown is graceful and prompt.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::api::AppState;
use crate::error::{ApiError, render};
use crate::faults::Fault;

/// Returned by the service to make hyper close the connection unanswered.
#[derive(Debug)]
struct DroppedByFault;

impl fmt::Display for DroppedByFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for DroppedByFault {}

pub(crate) struct Server {
    pub state: Arc<AppState>,
    pub router: Router,
    pub log_requests: bool,
    /// Serve HTTPS with this acceptor (plain HTTP when `None`).
    pub tls: Option<TlsAcceptor>,
}

/// How long open requests may finish after a stop; then every connection is cut.
const GRACE: Duration = Duration::from_secs(1);
/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

impl Server {
    /// Serves until `shutdown` changes, then lets open requests finish for
    /// [`GRACE`] and closes every connection still open, so a stopped
    /// emulator answers nothing.
    pub async fn run(self, listener: TcpListener, mut shutdown: watch::Receiver<bool>) {
        let this = Arc::new(self);
        let graceful = GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT);
        let mut connections = JoinSet::new();
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = shutdown.changed() => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: back off, keep serving.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let server = Arc::clone(&this);
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let server = Arc::clone(&server);
                async move { server.handle(request).await }
            });
            match &this.tls {
                None => {
                    let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                    let connection = graceful.watch(connection);
                    connections.spawn(async move {
                        let _ = connection.await;
                    });
                }
                // The handshake runs in the connection's own task, so a slow
                // client never holds up the accept loop.
                Some(tls) => {
                    let (tls, builder, watcher, state) = (
                        tls.clone(),
                        builder.clone(),
                        graceful.watcher(),
                        Arc::clone(&this.state),
                    );
                    connections.spawn(async move {
                        let Ok(Ok(stream)) = tokio::time::timeout(HEADER_TIMEOUT, tls.accept(stream)).await else {
                            return;
                        };
                        state.stats.record_handshake();
                        let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                        let _ = watcher.watch(connection).await;
                    });
                }
            }
            // Forget the connections that have ended.
            while connections.try_join_next().is_some() {}
        }
        drop(listener);
        let _ = tokio::time::timeout(GRACE, graceful.shutdown()).await;
        connections.shutdown().await;
    }

    async fn handle(&self, request: Request<Incoming>) -> Result<Response<Body>, DroppedByFault> {
        let started = Instant::now();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        let response = if path.starts_with("/emulator/") {
            self.route(request).await
        } else {
            let _in_flight = self.state.stats.enter();
            self.state.stats.record(method.as_str(), &path);
            match self.state.faults.take(&path) {
                Some(fault) => match self.apply(fault, request, &path).await {
                    Ok(response) => response,
                    Err(dropped) => {
                        self.log(method.as_str(), &path, "dropped", started);
                        return Err(dropped);
                    }
                },
                None => self.route(request).await,
            }
        };
        self.log(method.as_str(), &path, response.status().as_str(), started);
        Ok(response)
    }

    async fn route(&self, request: Request<Incoming>) -> Response<Body> {
        let result: Result<Response<Body>, Infallible> = self.router.clone().oneshot(request.map(Body::new)).await;
        match result {
            Ok(response) => response,
        }
    }

    async fn apply(
        &self,
        fault: Fault,
        request: Request<Incoming>,
        path: &str,
    ) -> Result<Response<Body>, DroppedByFault> {
        if let Some(ms) = fault.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if fault.drop_connection {
            return Err(DroppedByFault);
        }
        if fault.drop_answer {
            let _handled = self.route(request).await;
            return Err(DroppedByFault);
        }
        let replaces_answer =
            fault.status.is_some() || fault.malformed_body || fault.body_bytes.is_some() || fault.body.is_some();
        if !replaces_answer {
            return Ok(self.route(request).await);
        }
        let status = fault
            .status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        let mut response = if let Some(body) = fault.body {
            let mut r = Response::new(Body::from(body));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        } else if let Some(size) = fault.body_bytes {
            let mut r = Response::new(Body::from(vec![b' '; size]));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        } else if fault.malformed_body {
            let mut r = Response::new(Body::from("{\"code\": 5"));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        } else {
            let message = format!("injected fault: {}", status.canonical_reason().unwrap_or("error"));
            render(status, &ApiError::new(status, message), path, request.method().as_str())
        };
        *response.status_mut() = status;
        if let Some(seconds) = fault.retry_after_s {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        Ok(response)
    }

    fn log(&self, method: &str, path: &str, outcome: &str, started: Instant) {
        if self.log_requests {
            // Paths and statuses only: a token never appears in either.
            eprintln!(
                "{method} {path} {outcome} {:.1}ms",
                started.elapsed().as_secs_f64() * 1000.0
            );
        }
    }
}
