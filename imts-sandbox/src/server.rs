//! The HTTP server: hyper 1 on tokio, one connection task per client, bounded bodies and header
//! times, faults, and `GET /sandbox/stats`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as Body;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::callbacks::Outgoing;
use crate::clock::SandboxClock;
use crate::config::{FaultKind, SandboxConfig};
use crate::failure::Failure;
use crate::faults::{kind_name, Faults};
use crate::routes::{self, Incoming};
use crate::state::State;

/// What every connection shares.
#[derive(Debug)]
pub struct Shared {
    /// The one state.
    pub state: Mutex<State>,
    /// The configuration.
    pub config: SandboxConfig,
    /// The clock.
    pub clock: SandboxClock,
    /// The fault generator.
    pub faults: Faults,
    /// Draws which notifications `--callback-loss` drops (seeded by `--seed`).
    pub losses: Mutex<rand::rngs::StdRng>,
    /// When the sandbox started, on its clock (`--callback-outage` counts from here).
    pub started: time::OffsetDateTime,
}

impl Shared {
    /// Whether the next notification is dropped entirely.
    pub fn lose_callback(&self) -> bool {
        use rand::Rng;
        let rate = self.config.callback_loss;
        rate > 0.0
            && self
                .losses
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .random::<f64>()
                < rate
    }

    /// Whether deliveries are refused now.
    pub fn in_callback_outage(&self) -> bool {
        self.clock.now() < self.started + self.config.callback_outage
    }
}

impl Shared {
    /// Runs `f` with the state locked.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut state)
    }
}

/// The connection is closed without an answer (an injected drop).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

fn json(status: u16, body: Vec<u8>) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn failure(f: &Failure) -> http::Response<Full<Bytes>> {
    let mut response = json(f.status, f.body());
    if f.status == 503 {
        response.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("0"),
        );
    }
    response
}

async fn read_body(
    shared: &Shared,
    request: http::Request<Body>,
) -> Result<(http::request::Parts, Bytes), Failure> {
    let limit = shared.config.max_body;
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(Failure::too_large(limit));
    }
    let (parts, body) = request.into_parts();
    let collect = Limited::new(body, limit).collect();
    match tokio::time::timeout(shared.config.header_timeout * 3, collect).await {
        Ok(Ok(collected)) => Ok((parts, collected.to_bytes())),
        Ok(Err(_)) => Err(Failure::too_large(limit)),
        Err(_) => Err(Failure::malformed(
            "the request body did not arrive in time",
        )),
    }
}

/// Answers one request and counts it (`imts_sandbox_requests_total`).
async fn serve(
    shared: Arc<Shared>,
    request: http::Request<Body>,
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let label = match routes::route(request.method(), request.uri().path()) {
        Ok(endpoint) => endpoint.spec().name,
        Err(_) if request.uri().path().starts_with("/sandbox/") => "control",
        Err(_) => "unknown",
    };
    let answer = answer(shared, request).await;
    if let Ok(response) = &answer {
        imts_core::telemetry::sandbox_request(label, response.status().as_u16());
    }
    answer
}

async fn answer(
    shared: Arc<Shared>,
    request: http::Request<Body>,
) -> Result<http::Response<Full<Bytes>>, Dropped> {
    let path = request.uri().path().to_owned();
    if path == "/sandbox/stats" && request.method() == http::Method::GET {
        let stats = shared.with_state(|s| serde_json::to_vec(&s.stats).unwrap_or_default());
        return Ok(json(200, stats));
    }
    if let Some(rest) = path.strip_prefix(crate::control::PREFIX) {
        let authorization = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if !crate::control::authorized(&shared, authorization) {
            return Ok(failure(&Failure::unauthorized(
                "the control API needs `Authorization: Bearer` and the --control-token",
            )));
        }
        let method = request.method().clone();
        let rest = rest.to_owned();
        let (_, body) = match read_body(&shared, request).await {
            Ok(read) => read,
            Err(f) => return Ok(failure(&f)),
        };
        return Ok(
            match crate::control::answer(&shared, &method, &rest, &body) {
                Ok((status, bytes)) => json(status, bytes),
                Err(f) => failure(&f),
            },
        );
    }
    let endpoint = match routes::route(request.method(), &path) {
        Ok(endpoint) => endpoint,
        Err(f) => return Ok(failure(&f)),
    };
    let name = endpoint.spec().path;
    // Every call is counted, faulted ones too (the key allocated once per endpoint).
    shared.with_state(|s| match s.stats.calls.get_mut(name) {
        Some(calls) => *calls += 1,
        None => {
            s.stats.calls.insert(name.to_owned(), 1);
        }
    });
    let (parts, body) = match read_body(&shared, request).await {
        Ok(read) => read,
        Err(f) => return Ok(failure(&f)),
    };
    if endpoint == imts_core::Endpoint::CreateTransfer {
        if let Some(delay) = crate::magic::delay(&body) {
            tokio::time::sleep(delay).await;
        }
    }
    let fault = shared.faults.draw(name);
    if let Some(kind) = fault {
        shared.with_state(|s| *s.stats.faults.entry(kind_name(kind)).or_default() += 1);
    }
    match fault {
        Some(FaultKind::Unavailable) => return Ok(failure(&Failure::unavailable())),
        Some(FaultKind::DropBefore) => return Err(Dropped),
        Some(FaultKind::Delay(delay)) => tokio::time::sleep(delay).await,
        _ => {}
    }
    let incoming = Incoming {
        query: parts.uri.query(),
        authorization: parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        body: &body,
    };
    let mut outgoing: Vec<Outgoing> = Vec::new();
    let now = shared.clock.now();
    let reply =
        shared.with_state(|state| routes::handle(state, endpoint, &incoming, now, &mut outgoing));
    for notification in outgoing {
        crate::delivery::spawn_delivery(Arc::clone(&shared), notification);
    }
    if fault == Some(FaultKind::DropAfter) {
        return Err(Dropped);
    }
    Ok(match reply {
        Ok(body) => json(200, body),
        Err(f) => failure(&f),
    })
}

/// Accepts connections until `shutdown` turns true.
pub async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => return,
        };
        let Ok((stream, _peer)) = accepted else {
            // Out of file descriptors or similar: back off briefly rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let header_timeout = shared.config.header_timeout;
            let service = service_fn(move |request| serve(Arc::clone(&shared), request));
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = shutdown.changed() => connection.as_mut().graceful_shutdown(),
            }
        });
    }
}

/// Binds `addr`.
///
/// # Errors
/// When the address cannot be bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
