//! The async IMTS client: [`AsyncClient`] drives `imts-core`'s call driver over any
//! [`AsyncTransport`], by default [`ReqwestTransport`] (reqwest with rustls, redirects off).
//!
//! One token session per client, shared by every task: concurrent calls on an expired token
//! cause one refresh. Each call is traced as an `imts.call` span (endpoint, attempts, HTTP
//! status, duration) that never contains secrets, tokens or personal data.
//!
//! ```no_run
//! use imts_http_reqwest::AsyncClient;
//! use imts_core::{Config, Credentials};
//! use imts_core::models::StatusRequest;
//! use imts_core::values::Lookup;
//! use imts_core::{AgentSecret, PartnerKey};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new("my-agent-id".parse()?, AgentSecret::new(std::env::var("IMTS_AGENT_SECRET")?)?)
//!     .with_partner_key(PartnerKey::parse(&std::env::var("IMTS_PARTNER_KEY")?)?);
//! let client = AsyncClient::new(credentials, Config::new("http://127.0.0.1:8080"))?;
//! let status = client.status(&StatusRequest::new(Lookup::OrderId("ORD-1".parse()?))).await?;
//! println!("{}", status.status);
//! # Ok(())
//! # }
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imts_core::models::auth::Token;
use imts_core::token_store::{TokenAcquirer, TokenStep, TokenStore, LEASE_TTL};
use imts_core::transport::{AsyncTransport, SharedSettings, Timeouts};
use imts_core::{
    Call, Config, Credentials, Error, Operation, RawCall, Step, TokenSession, TransportError,
    TransportErrorKind,
};
use time::OffsetDateTime;
use tracing::Instrument;

pub use imts_core;

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
    /// A transport with the given connect timeout: TLS by rustls with this build's crypto
    /// provider (never a process-wide default) and the operating system's trust store.
    ///
    /// # Errors
    /// [`Error::ClientBuild`] when the TLS configuration or the HTTP client cannot be built.
    pub fn new(connect_timeout: Duration) -> Result<Self, Error> {
        use rustls_platform_verifier::BuilderVerifierExt as _;
        let tls = rustls::ClientConfig::builder_with_provider(crypto_provider())
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_platform_verifier())
            .map_err(|e| Error::ClientBuild(format!("TLS configuration: {e}")))?
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
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
        let mut request = reqwest::Request::try_from(request)
            .map_err(|e| TransportError::new(TransportErrorKind::Connect, e.to_string()))?;
        *request.timeout_mut() = Some(timeout);
        let response = self
            .client
            .execute(request)
            .await
            .map_err(|e| transport_error(&e))?;
        let mut builder = http::Response::builder().status(response.status());
        if let Some(headers) = builder.headers_mut() {
            *headers = response.headers().clone();
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
            .body(body.to_vec())
            .map_err(|e| TransportError::new(TransportErrorKind::Other, e.to_string()))
    }
}

struct Inner<T> {
    transport: T,
    credentials: Credentials,
    config: Config,
    settings: SharedSettings,
    session: tokio::sync::Mutex<TokenSession>,
    holder: String,
    seed: AtomicU64,
}

/// The async IMTS client. Cheap to clone; clones share the token session.
pub struct AsyncClient<T: AsyncTransport = ReqwestTransport> {
    inner: Arc<Inner<T>>,
}

impl<T: AsyncTransport> Clone for AsyncClient<T> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T: AsyncTransport> std::fmt::Debug for AsyncClient<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncClient")
            .field("credentials", &self.inner.credentials)
            .field("base_url", &self.inner.config.base_url)
            .finish_non_exhaustive()
    }
}

/// The default connect timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl AsyncClient<ReqwestTransport> {
    /// A client over reqwest.
    ///
    /// # Errors
    /// [`Error::ClientBuild`] when the HTTP client cannot be built (its TLS setup failed).
    pub fn new(credentials: Credentials, config: Config) -> Result<Self, Error> {
        let transport = ReqwestTransport::new(CONNECT_TIMEOUT)?;
        Ok(Self::with_transport(transport, credentials, config))
    }
}

impl<T: AsyncTransport> AsyncClient<T> {
    /// A client over any transport (a test double, another HTTP stack).
    pub fn with_transport(transport: T, credentials: Credentials, config: Config) -> Self {
        let seed = rand::random::<u64>();
        Self {
            inner: Arc::new(Inner {
                transport,
                credentials,
                config,
                settings: SharedSettings::default(),
                session: tokio::sync::Mutex::new(TokenSession::new(seed)),
                holder: format!("instance-{seed:016x}"),
                seed: AtomicU64::new(seed),
            }),
        }
    }

    /// Shares tokens with other instances through `store` (Redis, say): only one instance
    /// refreshes at a time and the others adopt its result. The store is consulted only when a
    /// token must be renewed, never on an ordinary call. It applies to this client and every clone of it.
    #[must_use]
    pub fn with_token_store(self, store: Arc<dyn TokenStore>) -> Self {
        self.inner
            .settings
            .update(|settings| settings.token_store = Some(store));
        self
    }

    /// Sets the per-attempt timeout (each HTTP exchange; the whole-call budget is
    /// `Config::retry.total_budget`). It applies to this client and every clone of it.
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
    pub async fn session_stats(&self) -> imts_core::session::SessionStats {
        self.inner.session.lock().await.stats()
    }

    /// Obtains a token now (the first call does this by itself).
    ///
    /// # Errors
    /// The exchange's failure.
    pub async fn authenticate(&self) -> Result<(), Error> {
        self.ensure_token(None).await.map(|_| ())
    }

    /// Renews the token pair now with Refresh token (authenticating first if there is none).
    ///
    /// # Errors
    /// The exchange's failure.
    pub async fn refresh_token(&self) -> Result<(), Error> {
        self.authenticate().await?;
        self.inner.session.lock().await.expire_now();
        self.authenticate().await
    }

    async fn ensure_token(&self, stale: Option<u64>) -> Result<(Token, u64), Error> {
        let inner = &self.inner;
        let mut session = inner.session.lock().await;
        if let Some(generation) = stale {
            session.invalidate(generation);
        }
        let settings = inner.settings.snapshot();
        let mut acquirer =
            TokenAcquirer::new(&mut session, settings.token_store.as_deref(), &inner.holder);
        let deadline = Instant::now() + LEASE_TTL + settings.timeouts.per_attempt;
        loop {
            match acquirer.next(&inner.credentials, &inner.config, OffsetDateTime::now_utc())? {
                TokenStep::Ready(token, generation) => return Ok((token, generation)),
                TokenStep::Wait(duration) if Instant::now() < deadline => {
                    tokio::time::sleep(duration).await
                }
                TokenStep::Wait(_) => return Err(acquirer.waited_too_long()),
                TokenStep::Send(request, exchange) => {
                    let span = tracing::debug_span!("imts.token", exchange = ?exchange);
                    let response = inner
                        .transport
                        .send(request, settings.timeouts.per_attempt)
                        .instrument(span)
                        .await;
                    let sent = response
                        .as_ref()
                        .map(|response| (response.status().as_u16(), &response.body()[..]))
                        .map_err(Clone::clone);
                    acquirer.handle(exchange, sent, &inner.config, OffsetDateTime::now_utc())?;
                }
            }
        }
    }

    /// Runs any operation to the end.
    ///
    /// # Errors
    /// Whatever the call ends in.
    pub async fn call<O: Operation>(&self, op: &O) -> Result<O::Output, Error> {
        let inner = &self.inner;
        let per_attempt = inner.settings.snapshot().timeouts.per_attempt;
        let seed = inner
            .seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        let mut call = Call::new(
            op,
            &inner.credentials,
            &inner.config,
            OffsetDateTime::now_utc(),
            seed,
        );
        let name = call.route().map(|r| r.name.to_string()).unwrap_or_default();
        let span = tracing::info_span!("imts.call", endpoint = %name, attempts = tracing::field::Empty, http_status = tracing::field::Empty, duration_ms = tracing::field::Empty);
        let started = Instant::now();
        let mut last_status = 0u16;
        let result = async {
            loop {
                match call.poll(OffsetDateTime::now_utc()) {
                    Step::NeedToken { stale_generation } => {
                        match self.ensure_token(stale_generation).await {
                            Ok((token, generation)) => call.set_token(token, generation),
                            Err(error) => call.token_failed(error, OffsetDateTime::now_utc()),
                        }
                    }
                    Step::Send(request) => {
                        let timeout = per_attempt.min(call.remaining(OffsetDateTime::now_utc()));
                        match inner.transport.send(request, timeout).await {
                            Ok(response) => {
                                last_status = response.status().as_u16();
                                tracing::debug!(http_status = last_status, "answer");
                                call.on_response(response, OffsetDateTime::now_utc());
                            }
                            Err(error) => {
                                tracing::debug!(kind = ?error.kind, "transport error");
                                call.on_transport_error(error, OffsetDateTime::now_utc());
                            }
                        }
                    }
                    Step::Wait(duration) => tokio::time::sleep(duration).await,
                    Step::Done(result) => return result,
                }
            }
        }
        .instrument(span.clone())
        .await;
        span.record("attempts", call.attempts());
        span.record("http_status", last_status);
        span.record(
            "duration_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        result
    }

    /// A call to any path with a JSON object, signed and authenticated like the typed calls.
    ///
    /// # Errors
    /// Whatever the call ends in.
    pub async fn raw(&self, call: &RawCall) -> Result<Box<serde_json::value::RawValue>, Error> {
        self.call(call).await
    }

    imts_core::endpoint_methods!(async);
}
