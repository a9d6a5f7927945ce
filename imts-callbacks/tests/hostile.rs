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
