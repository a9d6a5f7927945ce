//! A hyper 1 `Service` around a [`Processor`] (feature `hyper`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use imts_core::transport::Clock;

use crate::processor::{Handler, Processor};

/// Largest notification body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// How long a sender may take to send the body once its headers are in. With the server's
/// header timeout at [`HEADER_DEADLINE`], a whole request has 10 seconds, what IMTS itself
/// waits for an answer: a sender that trickles its body is cut off.
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// The header read timeout to give hyper's server (`http1::Builder::header_read_timeout`).
pub const HEADER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves notifications at any path.
#[derive(Debug)]
pub struct CallbackService<H, C> {
    processor: Arc<Processor<H, C>>,
}

impl<H, C> Clone for CallbackService<H, C> {
    fn clone(&self) -> Self {
        Self {
            processor: Arc::clone(&self.processor),
        }
    }
}

impl<H, C> CallbackService<H, C> {
    /// A service sharing `processor`.
    pub fn new(processor: Arc<Processor<H, C>>) -> Self {
        Self { processor }
    }
}

impl<H, C, B> hyper::service::Service<http::Request<B>> for CallbackService<H, C>
where
    H: Handler + 'static,
    C: Clock + Send + Sync + 'static,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, request: http::Request<B>) -> Self::Future {
        let processor = Arc::clone(&self.processor);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = tokio::time::timeout(BODY_DEADLINE, Limited::new(body, MAX_BODY).collect());
            let answer = match body.await {
                Ok(Ok(collected)) => {
                    processor
                        .process(&parts.method, &collected.to_bytes())
                        .await
                }
                Ok(Err(_)) => crate::processor::CallbackResponse {
                    status: 413,
                    body: br#"{"status":"error","error":"body too large"}"#.to_vec(),
                },
                Err(_) => crate::processor::CallbackResponse {
                    status: 408,
                    body: br#"{"status":"error","error":"the body took too long"}"#.to_vec(),
                },
            };
            let mut response = http::Response::new(Full::new(Bytes::from(answer.body)));
            *response.status_mut() = http::StatusCode::from_u16(answer.status)
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            Ok(response)
        })
    }
}
