//! `--metrics-addr ADDR` of the long-running commands: installs a Prometheus recorder and serves
//! its text format at `/metrics` from a thread of its own (so a scrape never waits behind the
//! command's own work, and a blocking command needs no runtime of its own for it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::exit::CliError;

/// Bucket bounds of the `_seconds` histograms: from a fast local answer to a call at its
/// timeout.
const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Scrapes served at once; more wait for a slot.
const MAX_CONNECTIONS: usize = 16;
/// A scrape's request head must arrive within this.
const HEADER_DEADLINE: Duration = Duration::from_secs(5);
/// A connection lives at most this long, whatever the client does.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(30);

/// The flag, shared by `imts listen`, `imts reconcile` and `imts sandbox`.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Serve the Prometheus text format at `http://ADDR/metrics` (port 0 picks a free port;
    /// the address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
}

impl MetricsArgs {
    /// Installs the recorder and starts serving when the flag is given.
    ///
    /// # Errors
    /// A usage error when the address cannot be bound or a recorder is already installed.
    pub fn start(&self) -> Result<Option<SocketAddr>, CliError> {
        self.metrics_addr.map(start).transpose()
    }
}

/// Installs the Prometheus recorder and serves it at `addr`; returns the bound address.
fn start(addr: SocketAddr) -> Result<SocketAddr, CliError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| CliError::usage(format!("--metrics-addr: {e}")))?;
    imts::telemetry::describe();
    let listener = std::net::TcpListener::bind(addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| CliError::usage(format!("--metrics-addr {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| CliError::usage(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start a runtime: {e}")))?;
    std::thread::Builder::new()
        .name("imts-metrics".into())
        .spawn(move || runtime.block_on(serve(listener, handle)))
        .map_err(|e| CliError::usage(format!("cannot start the metrics thread: {e}")))?;
    eprintln!("imts: metrics at http://{bound}/metrics");
    Ok(bound)
}

/// Accepts scrapes for as long as the process lives.
async fn serve(listener: std::net::TcpListener, handle: PrometheusHandle) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        eprintln!("imts: the metrics listener cannot be used");
        return;
    };
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            // Out of descriptors or similar: back off rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let answer = answer(&request, &handle);
                async move { Ok::<_, std::convert::Infallible>(answer) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_DEADLINE)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_DEADLINE, connection).await;
            drop(slot);
        });
    }
}

/// `GET /metrics` is the text format; anything else is 404 or 405. The request's body is never
/// read.
fn answer<B>(request: &http::Request<B>, handle: &PrometheusHandle) -> http::Response<Full<Bytes>> {
    let respond = |status: http::StatusCode, kind: &'static str, body: Bytes| {
        let mut response = http::Response::new(Full::new(body));
        *response.status_mut() = status;
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(kind),
        );
        response
    };
    if request.uri().path() != "/metrics" {
        return respond(
            http::StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found\n"),
        );
    }
    if request.method() != http::Method::GET {
        return respond(
            http::StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            Bytes::from_static(b"GET only\n"),
        );
    }
    // Histograms are drained into their buckets here rather than on a timer of their own.
    handle.run_upkeep();
    respond(
        http::StatusCode::OK,
        "text/plain; version=0.0.4; charset=utf-8",
        Bytes::from(handle.render()),
    )
}
