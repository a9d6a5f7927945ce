//! The blocking IMTS client: [`BlockingClient`] drives `imts-core`'s call driver over any
//! [`BlockingTransport`], by default [`UreqTransport`] (ureq, redirects off). For programs with
//! no async runtime; usable from several threads at once (one shared token session).
//!
//! ```no_run
//! use imts_http_ureq::BlockingClient;
//! use imts_core::{Config, Credentials};
//! use imts_core::models::StatusRequest;
//! use imts_core::values::Lookup;
//! use imts_core::AgentSecret;
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new("my-agent-id".parse()?, AgentSecret::new(std::env::var("IMTS_AGENT_SECRET")?)?);
//! let client = BlockingClient::new(credentials, Config::new("http://127.0.0.1:8080"));
//! let status = client.status(&StatusRequest::new(Lookup::OrderId("ORD-1".parse()?)))?;
//! println!("{}", status.status);
//! # Ok(())
//! # }
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use imts_core::token_store::TokenStore;
use imts_core::transport::{
    BlockingContext, BlockingTransport, ClientSettings, SharedSettings, SystemClock, Timeouts,
};
use imts_core::{
    Config, Credentials, Error, Operation, RawCall, TokenSession, TransportError,
    TransportErrorKind,
};

pub use imts_core;

/// Largest response body accepted.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
/// The default connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// A transport with the given connect timeout.
    #[must_use]
    pub fn new(connect_timeout: Duration) -> Self {
        Self::with_timeouts(connect_timeout, Timeouts::default().per_attempt)
    }

    /// A transport whose requests time out after `per_attempt` unless a call's remaining budget
    /// is shorter.
    #[must_use]
    pub fn with_timeouts(connect_timeout: Duration, per_attempt: Duration) -> Self {
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

struct Inner<T> {
    transport: T,
    credentials: Credentials,
    config: Config,
    settings: SharedSettings,
    session: Mutex<TokenSession>,
    holder: String,
    seed: AtomicU64,
}

impl<T: BlockingTransport> Inner<T> {
    fn context<'a>(&'a self, settings: &'a ClientSettings) -> BlockingContext<'a, T, SystemClock> {
        BlockingContext {
            session: &self.session,
            store: settings.token_store.as_deref(),
            holder: &self.holder,
            credentials: &self.credentials,
            config: &self.config,
            transport: &self.transport,
            clock: &SystemClock,
            timeouts: settings.timeouts,
        }
    }
}

/// The blocking IMTS client. Cheap to clone; clones (and threads) share the token session.
pub struct BlockingClient<T: BlockingTransport = UreqTransport> {
    inner: Arc<Inner<T>>,
}

impl<T: BlockingTransport> Clone for BlockingClient<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: BlockingTransport> std::fmt::Debug for BlockingClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingClient")
            .field("credentials", &self.inner.credentials)
            .field("base_url", &self.inner.config.base_url)
            .finish_non_exhaustive()
    }
}

impl BlockingClient<UreqTransport> {
    /// A client over ureq.
    #[must_use]
    pub fn new(credentials: Credentials, config: Config) -> Self {
        Self::with_transport(UreqTransport::new(CONNECT_TIMEOUT), credentials, config)
    }
}

impl<T: BlockingTransport> BlockingClient<T> {
    /// A client over any transport (a closure, a test double, another HTTP stack).
    pub fn with_transport(transport: T, credentials: Credentials, config: Config) -> Self {
        let seed = rand::random::<u64>();
        Self {
            inner: Arc::new(Inner {
                transport,
                credentials,
                config,
                settings: SharedSettings::default(),
                session: Mutex::new(TokenSession::new(seed)),
                holder: format!("instance-{seed:016x}"),
                seed: AtomicU64::new(seed),
            }),
        }
    }

    /// Shares tokens with other instances through `store` (Redis, say): only one instance
    /// refreshes at a time and the others adopt its result. It applies to this client and every clone of it.
    #[must_use]
    pub fn with_token_store(self, store: Arc<dyn TokenStore>) -> Self {
        self.inner
            .settings
            .update(|settings| settings.token_store = Some(store));
        self
    }

    /// Sets the per-attempt timeout. It applies to this client and every clone of it.
    #[must_use]
    pub fn with_timeouts(self, timeouts: Timeouts) -> Self {
        self.inner
            .settings
            .update(|settings| settings.timeouts = timeouts);
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Counts of token exchanges so far.
    #[must_use]
    pub fn session_stats(&self) -> imts_core::session::SessionStats {
        self.inner
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .stats()
    }

    /// Obtains a token now (the first call does this by itself).
    ///
    /// # Errors
    /// The exchange's failure.
    pub fn authenticate(&self) -> Result<(), Error> {
        self.inner
            .context(&self.inner.settings.snapshot())
            .ensure_token(None)
            .map(|_| ())
    }

    /// Renews the token pair now with Refresh token (authenticating first if there is none).
    ///
    /// # Errors
    /// The exchange's failure.
    pub fn refresh_token(&self) -> Result<(), Error> {
        self.authenticate()?;
        self.inner
            .session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .expire_now();
        self.authenticate()
    }

    /// Runs any operation to the end.
    ///
    /// # Errors
    /// Whatever the call ends in.
    pub fn call<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        let inner = &self.inner;
        let seed = inner
            .seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let name = op.route().name.to_string();
        let span = tracing::info_span!("imts.call", endpoint = %name, attempts = tracing::field::Empty, http_status = tracing::field::Empty, duration_ms = tracing::field::Empty, ok = tracing::field::Empty);
        let _entered = span.enter();
        let started = Instant::now();
        let result = inner.context(&inner.settings.snapshot()).run(op, seed);
        span.record(
            "duration_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        span.record("ok", result.is_ok());
        result
    }

    /// A call to any path with a JSON object, signed and authenticated like the typed calls.
    ///
    /// # Errors
    /// Whatever the call ends in.
    pub fn raw(&self, call: &RawCall) -> Result<Box<serde_json::value::RawValue>, Error> {
        self.call(call)
    }

    imts_core::endpoint_methods!(blocking);
}
