//! reqwest as an [`AsyncTransport`], with TLS from this build's one crypto provider.

use std::sync::Arc;
use std::time::Duration;

use imts_core::shell::Timeouts;
use imts_core::transport::AsyncTransport;
use imts_core::{Error, TransportError, TransportErrorKind};

/// Largest response body accepted.
pub const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// reqwest as an [`AsyncTransport`]: rustls, no redirects, connection pooling.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

#[cfg(not(any(feature = "tls-aws-lc", feature = "tls-ring")))]
compile_error!(
    "imts-http-reqwest needs a TLS provider: enable the `tls-aws-lc` or `tls-ring` feature"
);

/// The rustls crypto provider this build selected: aws-lc-rs (`tls-aws-lc`), else ring.
fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    #[cfg(feature = "tls-aws-lc")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
    let provider = rustls::crypto::ring::default_provider();
    Arc::new(provider)
}

impl ReqwestTransport {
    /// A transport with these timeouts (the connect timeout; the per-attempt one is applied per
    /// request by the client): TLS by rustls with this build's crypto
    /// provider (never a process-wide default) and the operating system's trust store.
    ///
    /// # Errors
    /// [`Error::ClientBuild`] when the TLS configuration or the HTTP client cannot be built.
    pub fn new(timeouts: Timeouts) -> Result<Self, Error> {
        use rustls_platform_verifier::BuilderVerifierExt as _;
        let tls = rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_platform_verifier())
            .map_err(|e| Error::ClientBuild(format!("TLS configuration: {e}")))?
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .tls_backend_preconfigured(tls)
            .build()
            .map_err(|e| Error::ClientBuild(format!("the HTTP client: {e}")))?;
        Ok(Self { client })
    }

    /// Wraps a reqwest client configured elsewhere (keep redirects off).
    #[must_use]
    pub fn from_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

/// The text of an absolute URI (`scheme://authority/path?query`).
fn url_text(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or_default();
    let authority = uri.authority().map_or("", http::uri::Authority::as_str);
    let rest = uri
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str);
    let mut text = String::with_capacity(scheme.len() + 3 + authority.len() + rest.len());
    text.push_str(scheme);
    text.push_str("://");
    text.push_str(authority);
    text.push_str(rest);
    text
}

fn transport_error(error: &reqwest::Error) -> TransportError {
    let kind = if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Io
    };
    // reqwest's Display names the URL, never headers or bodies.
    TransportError::new(kind, error.to_string())
}

impl AsyncTransport for ReqwestTransport {
    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        let (parts, body) = request.into_parts();
        // reqwest's own conversion formats the URI piece by piece into a growing string before
        // parsing it: the text is joined here in one allocation of its size.
        let url = reqwest::Url::parse(&url_text(&parts.uri))
            .map_err(|e| TransportError::new(TransportErrorKind::Connect, e.to_string()))?;
        let mut request = reqwest::Request::new(parts.method, url);
        *request.headers_mut() = parts.headers;
        *request.version_mut() = parts.version;
        *request.body_mut() = Some(reqwest::Body::from(body));
        *request.timeout_mut() = Some(timeout);
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| transport_error(&e))?;
        let mut builder = http::Response::builder().status(response.status());
        if let Some(headers) = builder.headers_mut() {
            // Moved, not copied: the body is read from the response without them.
            *headers = std::mem::take(response.headers_mut());
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
        {
            return Err(TransportError::new(
                TransportErrorKind::Other,
                "response body too large",
            ));
        }
        let body = response.bytes().await.map_err(|e| transport_error(&e))?;
        if body.len() > MAX_RESPONSE_BYTES {
            return Err(TransportError::new(
                TransportErrorKind::Other,
                "response body too large",
            ));
        }
        builder
            .body(Vec::from(body)) // takes the buffer over when it is not shared
            .map_err(|e| TransportError::new(TransportErrorKind::Other, e.to_string()))
    }
}
