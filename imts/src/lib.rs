//! Rust SDK for Freedom Pay's IMTS (International Money Transfer System) partner Transfer API.
//!
//! Pick the client by feature: `async` (default, reqwest on tokio) gives [`AsyncClient`];
//! `blocking` (ureq, no runtime) gives [`BlockingClient`]. [`Client`] names the async one when
//! `async` is on, else the blocking one. Everything else (models, values, errors, the sans-IO
//! core) is re-exported from `imts-core` and `imts-crypto`.
//!
//! ```toml
//! imts = { version = "0.1", features = ["blocking"] }
//! ```
//!
#![cfg_attr(feature = "async", doc = "```no_run")]
#![cfg_attr(not(feature = "async"), doc = "```ignore")]
//! use imts::models::{ConfirmRequest, CreateTransferRequest};
//! use imts::{AgentSecret, Config, Credentials, PartnerKey};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new(
//!     std::env::var("IMTS_AGENT_ID")?.parse()?,
//!     AgentSecret::new(std::env::var("IMTS_AGENT_SECRET")?)?,
//! )
//! .with_partner_key(PartnerKey::parse(&std::env::var("IMTS_PARTNER_KEY")?)?);
//! let client = imts::AsyncClient::new(credentials, Config::default())?;
//! let transfer = client
//!     .create_transfer(&CreateTransferRequest::new(
//!         "7c9e6679-7425-40de-944b-e07fc1f90ae7".parse()?, // client_uuid from create_person
//!         imts::enums::DestinationType::Phone,
//!         "998901234567".parse()?,
//!         None,                                             // on demand: any receiving agent
//!         "UZB".parse()?,
//!         "ORD-2026-000001".parse()?,                       // your idempotency key
//!         "1000.00".parse()?,
//!         "KZT".parse()?,
//!         "UZS".parse()?,
//!         "Family support".into(),
//!         None,
//!     ))
//!     .await?;
//! client.confirm(&ConfirmRequest::new(transfer.transfer_id)).await?;
//! # Ok(())
//! # }
//! ```

pub use imts_core::{
    config, driver, endpoint, enums, error, lifecycle, models, operation, personal, response,
    retry, session, signature, transport, values,
};
pub use imts_core::{
    ApiError, Call, Config, Credentials, Endpoint, Error, Operation, PreparedRequest, RawCall,
    RetryPolicy, SignatureScheme, Step, TokenSession, TransportError, TransportErrorKind,
};
pub use imts_crypto::{AgentSecret, DecryptError, Packing, PartnerKey, PgSig, Plaintext, Signer};

#[cfg(feature = "async")]
pub use imts_http_reqwest::{AsyncClient, ReqwestTransport};
#[cfg(feature = "blocking")]
pub use imts_http_ureq::{BlockingClient, UreqTransport};

/// Receiving notifications (feature `callbacks`).
#[cfg(feature = "callbacks")]
pub use imts_callbacks as callbacks;
pub use imts_core::token_store::{MemoryTokenStore, TokenStore};
/// Shared state in Redis (feature `redis`).
#[cfg(feature = "redis")]
pub use imts_redis::{RedisSeenStore, RedisTokenStore};

/// The client of the enabled transport: async when `async` is on, else blocking.
#[cfg(feature = "async")]
pub type Client = AsyncClient;
/// The client of the enabled transport: async when `async` is on, else blocking.
#[cfg(all(feature = "blocking", not(feature = "async")))]
pub type Client = BlockingClient;
