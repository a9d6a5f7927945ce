//! ureq as a [`BlockingTransport`], with TLS from this build's one crypto provider.

use std::sync::Arc;
use std::time::Duration;

use imts_core::shell::Timeouts;
use imts_core::transport::BlockingTransport;
use imts_core::{TransportError, TransportErrorKind};

/// Largest response body accepted.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

#[cfg(not(any(feature = "tls-aws-lc", feature = "tls-ring")))]
compile_error!(
    "imts-http-ureq needs a TLS provider: enable the `tls-aws-lc` or `tls-ring` feature"
);

/// The rustls crypto provider this build selected, handed to ureq explicitly: no process-wide
/// default is installed or needed.
fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(selected_provider())
}

/// With `tls-aws-lc` (the default): aws-lc-rs.
#[cfg(feature = "tls-aws-lc")]
fn selected_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// With `tls-ring` alone: ring.
#[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
fn selected_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// ureq as a [`BlockingTransport`]: no redirects, HTTP error statuses returned as responses,
/// TLS by rustls with this build's crypto provider and the operating system's trust store.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
    default_timeout: Duration,
}

impl UreqTransport {
    /// A transport with these timeouts: requests time out after `per_attempt` unless a call's
    /// remaining budget is shorter.
    #[must_use]
    pub fn new(timeouts: Timeouts) -> Self {
        let Timeouts {
            connect: connect_timeout,
            per_attempt,
            ..
        } = timeouts;
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(crypto_provider())
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(connect_timeout))
            // Per phase, not `timeout_global`: ureq 3's global timer costs ~0.3-2 ms per call
            // on loopback (measured in `benches`). An attempt is bounded by 3 x per_attempt.
            .timeout_send_request(Some(per_attempt))
            .timeout_recv_response(Some(per_attempt))
            .timeout_recv_body(Some(per_attempt))
            .build()
            .new_agent();
        Self {
            agent,
            default_timeout: per_attempt,
        }
    }
}

impl UreqTransport {
    /// Sends with no body at all when there is none: an empty `Vec` body makes ureq frame it
    /// (a separate write that Nagle's algorithm and delayed ACKs turn into stalls).
    fn run(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<ureq::Body>, ureq::Error> {
        let (parts, body) = request.into_parts();
        if body.is_empty() && parts.method == http::Method::GET {
            self.agent.run(http::Request::from_parts(parts, ()))
        } else {
            self.agent.run(http::Request::from_parts(parts, body))
        }
    }
}

fn transport_error(error: ureq::Error) -> TransportError {
    let kind = match &error {
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => TransportErrorKind::Connect,
        ureq::Error::Timeout(timeout) => {
            if format!("{timeout:?}").contains("Connect")
                || format!("{timeout:?}").contains("Resolve")
            {
                TransportErrorKind::Connect
            } else {
                TransportErrorKind::Timeout
            }
        }
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            TransportErrorKind::Connect
        }
        ureq::Error::Io(_) | ureq::Error::Protocol(_) => TransportErrorKind::Io,
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, error.to_string())
}

impl BlockingTransport for UreqTransport {
    fn send(
        &self,
        request: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        // The agent's own timeouts serve unless the call's remaining budget is shorter.
        let response = if timeout + Duration::from_secs(1) >= self.default_timeout {
            self.run(request)
        } else {
            let phase = Some(timeout);
            self.run(
                self.agent
                    .configure_request(request)
                    .timeout_send_request(phase)
                    .timeout_recv_response(phase)
                    .timeout_recv_body(phase)
                    .build(),
            )
        }
        .map_err(transport_error)?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(transport_error)?;
        Ok(http::Response::from_parts(parts, bytes))
    }
}
