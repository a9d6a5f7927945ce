//! The sans-IO core of Freedom Pay's IMTS partner Transfer API.
//!
//! Everything a client does except moving bytes and reading the clock: wire models for all 17
//! endpoints, request building and signing, response decoding, the token session, the transfer
//! life cycle, retry decisions and the per-call driver. It speaks `http::Request<Vec<u8>>` and
//! `http::Response<Vec<u8>>`; time and randomness are arguments. The transports
//! (`imts-http-reqwest`, `imts-http-ureq`) are loops of a few lines around [`Call`] and the
//! [`Shell`] both clients share.
//!
//! The wire contract it implements, with every inferred point marked and where to change it, is
//! the repository's `docs/contract.md`.
//!
//! ```
//! use imts_core::{Call, Config, Credentials, Step};
//! use imts_core::models::FeesRequest;
//! use imts_core::enums::OriginatorType;
//! use imts_core::values::Money;
//! use imts_crypto::AgentSecret;
//!
//! let credentials = Credentials::new("agent-1".parse()?, AgentSecret::new("secret")?);
//! let config = Config::new("http://127.0.0.1:8080");
//! let fees = FeesRequest::new(
//!     OriginatorType::Person,
//!     "KAZ".parse()?,
//!     Money::new("100.00".parse()?, "KZT".parse()?),
//!     "UZS".parse()?,
//! );
//! let now = std::time::Instant::now(); // monotonic: the call's budget and backoff
//! let mut call = Call::new(&fees, &credentials, &config, now, 42);
//! // No token yet: the caller obtains one through its `TokenSession` first.
//! assert!(matches!(call.poll(now), Step::NeedToken { stale_generation: None }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod acquire;
pub mod config;
pub mod driver;
pub mod endpoint;
pub mod enums;
pub mod error;
pub mod inbox;
pub mod journal;
pub mod lifecycle;
mod methods;
pub mod models;
pub mod operation;
pub mod personal;
pub mod reconcile;
pub mod response;
pub mod retry;
#[cfg(feature = "test-util")]
pub mod samples;
pub mod schema;
pub mod session;
pub mod shell;
pub mod signature;
pub mod telemetry;
pub mod token_store;
pub mod transport;
pub mod values;
#[doc(hidden)]
pub mod wire;

pub use config::{Config, Credentials, RefreshStyle, SignatureScheme};
pub use driver::{Call, Step};
pub use endpoint::{Endpoint, EndpointSpec, Route, ENDPOINTS};
pub use error::{ApiError, Error, TransportError, TransportErrorKind};
pub use imts_crypto::{AgentSecret, Packing, PartnerKey};
pub use operation::{Operation, PreparedRequest, RawCall};
pub use retry::RetryPolicy;
pub use session::{Exchange, SessionStep, TokenSession};
pub use shell::{Shell, ShellSettings, Timeouts};
