//! [`ClientBuilder`]: the one way to make a client, async or blocking.

use std::sync::Arc;
use std::time::Duration;

use imts_core::config::{Config, Credentials};
use imts_core::journal::Journal;
use imts_core::retry::RetryPolicy;
use imts_core::shell::{Shell, ShellSettings, Timeouts};
use imts_core::token_store::TokenStore;
use imts_core::Error;

/// Builds an IMTS client: credentials first, then what differs from the defaults, then
/// [`build`](Self::build) (async, feature `async`) or [`build_blocking`](Self::build_blocking)
/// (feature `blocking`). Settings are checked at build (a bad base URL is an
/// [`Error::ClientBuild`] naming it) and frozen: a client's clones share them, and nothing
/// changes them afterwards.
///
#[cfg_attr(feature = "async", doc = "```no_run")]
#[cfg_attr(not(feature = "async"), doc = "```ignore")]
/// use std::time::Duration;
/// use imts::{AgentSecret, ClientBuilder, Credentials};
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let credentials = Credentials::new("my-agent".parse()?, AgentSecret::new("my-secret")?);
/// let client = ClientBuilder::new(credentials)
///     .base_url("http://127.0.0.1:8080") // default: the production host
///     .attempt_timeout(Duration::from_secs(10))
///     .call_budget(Duration::from_secs(30))
///     .build()?;
/// # drop(client);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    credentials: Credentials,
    config: Config,
    settings: ShellSettings,
}

impl ClientBuilder {
    /// A builder for these credentials, with the default [`Config`] (the production host).
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            config: Config::default(),
            settings: ShellSettings::default(),
        }
    }

    /// Every contract setting at once (host, signature scheme, envelope packing, refresh style,
    /// retry policy); the setters below change one of them.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The server: scheme, host and port (`https://api.freedompay.kz`, a sandbox's URL).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = url.into();
        self
    }

    /// How failed attempts are repeated (attempts, backoff, the whole call's budget).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Longest wait to set up a connection (TCP and TLS).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeouts.connect = timeout;
        self
    }

    /// Longest wait for one HTTP exchange.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeouts.per_attempt = timeout;
        self
    }

    /// Longest a whole call may take, retries and lookups included.
    pub fn call_budget(mut self, budget: Duration) -> Self {
        self.config.retry.total_budget = budget;
        self
    }

    /// Shares tokens with other instances on the same credential (Redis, say): one refreshes
    /// at a time and the others adopt its pair.
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.settings.token_store = Some(store);
        self
    }

    /// Writes every money-moving call ahead in `journal` (SQLite: `imts::stores::SqliteJournal`
    /// with the `sqlite` feature): the intent is durable before the first byte is sent, the
    /// outcome after; a call the journal cannot record is not sent.
    pub fn journal(mut self, journal: Arc<dyn Journal>) -> Self {
        self.settings.journal = Some(journal);
        self
    }

    /// The timeouts set so far.
    #[must_use]
    pub fn timeouts(&self) -> Timeouts {
        self.settings.timeouts
    }

    /// The checked, frozen shell both clients are made of.
    fn shell(self) -> Result<Shell, Error> {
        Shell::new(
            self.credentials,
            self.config,
            self.settings,
            rand::random::<u64>(),
        )
    }

    /// The async client over reqwest.
    ///
    /// # Errors
    /// [`Error::ClientBuild`] for a bad base URL or when TLS cannot be set up.
    #[cfg(feature = "async")]
    pub fn build(self) -> Result<crate::AsyncClient, Error> {
        let transport = imts_http_reqwest::ReqwestTransport::new(self.timeouts())?;
        self.build_with(transport)
    }

    /// The async client over a transport of your own (another HTTP stack, a test double).
    ///
    /// # Errors
    /// [`Error::ClientBuild`] for a bad base URL.
    #[cfg(feature = "async")]
    pub fn build_with<T: imts_core::transport::AsyncTransport>(
        self,
        transport: T,
    ) -> Result<crate::AsyncClient<T>, Error> {
        Ok(crate::AsyncClient::from_shell(self.shell()?, transport))
    }

    /// The blocking client over ureq.
    ///
    /// # Errors
    /// [`Error::ClientBuild`] for a bad base URL.
    #[cfg(feature = "blocking")]
    pub fn build_blocking(self) -> Result<crate::BlockingClient, Error> {
        let transport = imts_http_ureq::UreqTransport::new(self.timeouts());
        self.build_blocking_with(transport)
    }

    /// The blocking client over a transport of your own (a closure, a test double).
    ///
    /// # Errors
    /// [`Error::ClientBuild`] for a bad base URL.
    #[cfg(feature = "blocking")]
    pub fn build_blocking_with<T: imts_core::transport::BlockingTransport>(
        self,
        transport: T,
    ) -> Result<crate::BlockingClient<T>, Error> {
        Ok(crate::BlockingClient::from_shell(self.shell()?, transport))
    }
}
