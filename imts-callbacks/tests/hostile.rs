//! Hostile input at the receiver: oversized, invalid UTF-8, deeply nested, huge numbers. Every
//! one gets a clear 4xx in bounded time and is never handled.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::Service as _;
use imts_callbacks::*;
use imts_crypto::AgentSecret;

#[tokio::test]
async fn hostile_bodies_are_refused_without_handling() {
    let handled = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&handled);
    let handler = move |_d: Delivery| {
        let h = Arc::clone(&h);
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    };
    let processor = Arc::new(Processor::new(
        Verifier::new(AgentSecret::new("s").unwrap()),
        handler,
    ));
    let service = CallbackService::new(Arc::clone(&processor));
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let huge_number = format!(
        "{{\"type\":\"status_update\",\"n\":1{}}}",
        "0".repeat(200_000)
    );
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (vec![b'{'; MAX_BODY + 1], 413),
        (vec![0xff, 0xfe, 0xfd], 400),
        (deep.into_bytes(), 401), // no pg_sig: refused before any deep parsing
        (huge_number.into_bytes(), 401),
        (b"null".to_vec(), 400),
        (Vec::new(), 400),
    ];
    for (body, expected) in cases {
        let len = body.len();
        let request = http::Request::post("/imts")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = service.call(request).await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "body of {len} bytes");
        let text = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(json["status"], "error");
    }
    assert_eq!(handled.load(Ordering::SeqCst), 0);
}

/// A sender that sends its headers and then trickles (here: stops) its body is cut off at
/// [`BODY_DEADLINE`] with 408, and the handler never runs. The clock is tokio's paused one: the
/// deadline passes without the test waiting for it.
#[tokio::test(start_paused = true)]
async fn a_trickled_body_is_cut_off_at_the_deadline() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let handled = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&handled);
    let processor = Arc::new(Processor::new(
        Verifier::new(AgentSecret::new("s").unwrap()),
        move |_: Delivery| {
            count.fetch_add(1, Ordering::SeqCst);
            async { Ok::<(), HandlerError>(()) }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = CallbackService::new(processor);
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let _ = hyper::server::conn::http1::Builder::new()
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_DEADLINE)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await;
    });
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"POST /imts HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"type\":")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() >= BODY_DEADLINE);
    assert_eq!(handled.load(Ordering::SeqCst), 0);
}
