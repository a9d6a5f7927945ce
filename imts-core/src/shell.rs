//! What both clients are made of, written once: credentials, configuration, settings frozen at
//! build, this instance's name in shared stores, the jitter seeds, and the per-call bookkeeping
//! (the tracing span and the fields it records). The transport crates add a transport and a
//! loop of a few dozen lines.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, Credentials};
use crate::endpoint::Route;
use crate::error::Error;
use crate::journal::Journal;
use crate::telemetry::CallOutcome;
use crate::token_store::TokenStore;

/// Timeouts of a client, all in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// Longest wait for a TCP and TLS connection to be set up.
    pub connect: Duration,
    /// Longest wait for one HTTP exchange (further capped by the call's remaining budget).
    pub per_attempt: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            per_attempt: Duration::from_secs(30),
        }
    }
}

/// The settings a client is built with; frozen once it is built (a clone shares them).
#[derive(Clone, Default)]
pub struct ShellSettings {
    /// Timeouts (the whole-call budget is `Config::retry.total_budget`).
    pub timeouts: Timeouts,
    /// Tokens shared with other instances, if any.
    pub token_store: Option<Arc<dyn TokenStore>>,
    /// Where money-moving calls are written ahead, if anywhere.
    pub journal: Option<Arc<dyn Journal>>,
}

impl std::fmt::Debug for ShellSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShellSettings")
            .field("timeouts", &self.timeouts)
            .field("token_store", &self.token_store.is_some())
            .field("journal", &self.journal.is_some())
            .finish()
    }
}

/// The state both clients share, and their per-call bookkeeping. Built by the SDK's client
/// builder; sans-IO (it reads no clock and opens nothing).
pub struct Shell {
    credentials: Credentials,
    config: Config,
    settings: ShellSettings,
    holder: String,
    /// The base URL's host (the `server.address` of spans).
    server_address: String,
    seed: AtomicU64,
}

impl Shell {
    /// A shell from validated settings; `seed` feeds jitter and salts (the builder draws it).
    ///
    /// # Errors
    /// [`Error::ClientBuild`] when the base URL is not an absolute `http` or `https` URL with a
    /// host and nothing after it (no path, query or fragment).
    pub fn new(
        credentials: Credentials,
        config: Config,
        settings: ShellSettings,
        seed: u64,
    ) -> Result<Self, Error> {
        validate_base_url(&config.base_url)?;
        let server_address = config
            .base_url
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| uri.host().map(str::to_owned))
            .unwrap_or_default();
        Ok(Self {
            server_address,
            credentials,
            config,
            settings,
            holder: format!("instance-{seed:016x}"),
            seed: AtomicU64::new(seed),
        })
    }

    /// The credentials.
    #[must_use]
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The frozen settings.
    #[must_use]
    pub fn settings(&self) -> &ShellSettings {
        &self.settings
    }

    /// The shared token store, if any.
    #[must_use]
    pub fn token_store(&self) -> Option<&dyn TokenStore> {
        self.settings.token_store.as_deref()
    }

    /// The journal, if any.
    #[must_use]
    pub fn journal(&self) -> Option<&dyn Journal> {
        self.settings.journal.as_deref()
    }

    /// The journal, for what needs one (`resume`).
    ///
    /// # Errors
    /// [`Error::Journal`] when the client was built without one.
    pub fn require_journal(&self) -> Result<&dyn Journal, Error> {
        self.journal().ok_or_else(|| {
            crate::journal::JournalError::Unavailable(
                "this client has no journal (ClientBuilder::journal)".into(),
            )
            .into()
        })
    }

    /// This instance's name in a shared store's lease.
    #[must_use]
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// A fresh seed for one call's jitter (a Weyl sequence: distinct for every call).
    pub fn next_seed(&self) -> u64 {
        self.seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
    }

    /// The tracing span of one call, with the fields [`CallRecord::finish`] fills in. Its
    /// attributes follow OpenTelemetry's HTTP client conventions (`http.request.method`,
    /// `url.template`, `server.address`, `http.response.status_code`, `error.type`); the path is
    /// the endpoint's template, never a raw path. No identifier, amount or personal value is
    /// ever a field.
    #[must_use]
    pub fn call_span(&self, route: Option<&Route>, record: &CallRecord) -> tracing::Span {
        let endpoint = record.endpoint;
        let method = route.map_or("", |route| route.method.as_str());
        let template = match (route, endpoint) {
            (Some(route), name) if name != "raw" => &*route.path,
            _ => "raw",
        };
        tracing::info_span!(
            "imts.call",
            otel.name = %format_args!("{method} {endpoint}"),
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            endpoint = endpoint,
            "http.request.method" = method,
            "url.template" = template,
            "server.address" = %self.server_address,
            "http.response.status_code" = tracing::field::Empty,
            "error.type" = tracing::field::Empty,
            attempts = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
            ok = tracing::field::Empty,
        )
    }
}

impl std::fmt::Debug for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shell")
            .field("credentials", &self.credentials)
            .field("base_url", &self.config.base_url)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// What a client handle points at: its transport, the shell, and the token session behind the
/// lock of its flavour (`M`: a `std` mutex for the blocking client, a `tokio` one for the async).
pub struct ClientParts<T, M> {
    /// The transport.
    pub transport: T,
    /// The shell.
    pub shell: Shell,
    /// The token session, behind its lock (one exchange at a time per process).
    pub session: M,
}

impl<T, M> std::fmt::Debug for ClientParts<T, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.shell.fmt(f)
    }
}

/// The handle part of a client type, written once for both: `Clone` (clones share everything),
/// `Debug` (no secrets), `from_shell` and `config`. The client is a struct with one field,
/// `inner: Arc<ClientParts<T, lock<TokenSession>>>`.
#[doc(hidden)]
#[macro_export]
macro_rules! client_handle {
    ($client:ident, $transport:ident, $($lock:ident)::+) => {
        impl<T: $transport> Clone for $client<T> {
            fn clone(&self) -> Self {
                Self {
                    inner: ::std::sync::Arc::clone(&self.inner),
                }
            }
        }

        impl<T: $transport> ::std::fmt::Debug for $client<T> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($client))
                    .field("shell", &self.inner.shell)
                    .finish_non_exhaustive()
            }
        }

        impl<T: $transport> $client<T> {
            /// A client over `transport` with the shell's settings. Applications build clients
            /// with `imts::ClientBuilder`, which makes the shell and the transport.
            pub fn from_shell(shell: $crate::Shell, transport: T) -> Self {
                let session = $crate::TokenSession::new(shell.next_seed());
                Self {
                    inner: ::std::sync::Arc::new($crate::shell::ClientParts {
                        transport,
                        shell,
                        session: $($lock)::+::new(session),
                    }),
                }
            }

            /// The configuration.
            #[must_use]
            pub fn config(&self) -> &$crate::Config {
                self.inner.shell.config()
            }
        }
    };
}

/// What one call ended with, recorded in its span and its metrics by both clients alike.
#[derive(Debug, Clone, Copy)]
pub struct CallRecord {
    /// The `endpoint` label ([`telemetry::endpoint_label`](crate::telemetry::endpoint_label)).
    pub endpoint: &'static str,
    /// Requests sent (token exchanges excluded).
    pub attempts: u32,
    /// The last HTTP status seen (0 for none).
    pub http_status: u16,
    /// How long the call took (measured by the transport's monotonic clock).
    pub elapsed: Duration,
    /// How it ended.
    pub outcome: CallOutcome,
}

impl CallRecord {
    /// The record of a call to `route` that has not ended yet.
    #[must_use]
    pub fn new(route: Option<&Route>) -> Self {
        Self {
            endpoint: route.map_or("raw", crate::telemetry::endpoint_label),
            attempts: 0,
            http_status: 0,
            elapsed: Duration::ZERO,
            outcome: CallOutcome::Invalid,
        }
    }

    /// Records the outcome in `span` and in the call metrics.
    pub fn finish(self, span: &tracing::Span) {
        let ok = self.outcome == CallOutcome::Ok;
        // Integers as i64: OpenTelemetry has no unsigned attributes (tracing-opentelemetry
        // would export a u64 as its text).
        span.record("attempts", i64::from(self.attempts));
        if self.http_status != 0 {
            span.record("http.response.status_code", i64::from(self.http_status));
        }
        span.record(
            "duration_ms",
            i64::try_from(self.elapsed.as_millis()).unwrap_or(i64::MAX),
        );
        span.record("ok", ok);
        if !ok {
            span.record("error.type", self.outcome.as_str());
            span.record("otel.status_code", "ERROR");
        }
        crate::telemetry::call_finished(self.endpoint, self.outcome, self.elapsed);
    }
}

/// Refuses a base URL that would send requests somewhere unexpected.
fn validate_base_url(url: &str) -> Result<(), Error> {
    let bad = |why: &str| Error::ClientBuild(format!("base URL `{url}` {why}"));
    let uri: http::Uri = url.parse().map_err(|_| bad("is not a valid URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(_) => return Err(bad("must use http or https")),
        None => return Err(bad("must be absolute (https://host)")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if !uri.path().trim_end_matches('/').is_empty() || uri.query().is_some() || url.contains('#') {
        return Err(bad(
            "must be scheme, host and port only (the SDK adds the paths)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_with_a_clear_error() {
        for good in [
            "https://api.freedompay.kz",
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
        ] {
            assert!(validate_base_url(good).is_ok(), "{good}");
        }
        for (bad, says) in [
            ("api.freedompay.kz", "absolute"),
            ("ftp://host", "http or https"),
            ("https://host/v5/partner", "scheme, host and port only"),
            ("https://host?x=1", "scheme, host and port only"),
            ("not a url", "not a valid URL"),
            ("", "not a valid URL"),
        ] {
            let error = validate_base_url(bad).unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
