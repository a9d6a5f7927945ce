//! The anchor of `scripts/load.sh`: a bare hyper server that reads each request's body and
//! answers `{"status":"ok"}`, on the same runtime kind as `imts sandbox` and `imts listen` (tokio,
//! multi-threaded, one worker per core). What either server does beyond this is its own cost.
//!
//! `bare_hyper --bounded` bounds each request as both servers do (a header read timeout and a
//! body deadline, each a timer per request): the part of their cost that is only the bounds.
//!
//! `bare_hyper [--bounded]` prints `listening on http://127.0.0.1:PORT` and serves until killed.

use std::convert::Infallible;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// The header and body deadlines of `--bounded` (the values of `imts listen`).
const DEADLINE: Duration = Duration::from_secs(5);

async fn answer(
    request: Request<Incoming>,
    bounded: bool,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole body, as both servers do before they answer.
    let body = request.into_body().collect();
    if bounded {
        let _ = tokio::time::timeout(DEADLINE, body).await;
    } else {
        let _ = body.await;
    }
    let mut response = Response::new(Full::new(Bytes::from_static(br#"{"status":"ok"}"#)));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bounded = std::env::args().any(|arg| arg == "--bounded");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            if bounded {
                builder
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(DEADLINE);
            }
            let service = hyper::service::service_fn(move |request| answer(request, bounded));
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
