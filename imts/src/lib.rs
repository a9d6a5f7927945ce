//! Rust SDK for Freedom Pay's IMTS (International Money Transfer System) partner Transfer API.
//!
//! Pick the client by feature: `async` (default, reqwest on tokio) gives [`AsyncClient`];
//! `blocking` (ureq, no runtime) gives [`BlockingClient`]. [`Client`] names the async one when
//! `async` is on, else the blocking one.
//!
//! The crate's root holds what an integration types every day: the clients and their
//! [`ClientBuilder`], [`Config`],
//! [`Credentials`], the secret types and [`Error`]. The rest lives in named modules:
//!
//! | module | what is there |
//! |---|---|
//! | [`models`] | the requests you build and the responses you decode, one per endpoint, and [`models::Extra`] (unknown fields, kept exactly) |
//! | [`types`] | validated values (`Amount`, `Currency`, `OrderId`, `Money`, `Destination`, `Lookup`, ...) and the server's enumerations |
//! | [`personal`] | personal data, only ever sent sealed with the partner key |
//! | [`config`] | retry policy, timeouts, envelope packing, signature scheme |
//! | [`error`] | the parts of an [`Error`]: API errors, transport errors |
//! | [`stores`] | token stores shared by several instances |
//! | [`callbacks`] | receiving notifications (feature `callbacks`) |
//! | [`telemetry`] | the metrics the SDK records (names, kinds, labels); `otel` (feature `otel`) exports them and the spans to OpenTelemetry |
//! | [`protocol`] | the sans-IO layer, for those who embed it in their own transport |
//!
//! The wire contract this SDK implements is in the repository's
//! [`docs/contract.md`](https://example.invalid/imts-sdk/blob/main/docs/contract.md).
//!
//! ```toml
//! imts = { version = "0.1", features = ["blocking"] }
//! ```
//!
#![cfg_attr(feature = "async", doc = "```no_run")]
#![cfg_attr(not(feature = "async"), doc = "```ignore")]
//! use imts::models::{ConfirmRequest, CreateTransferRequest, NewTransfer};
//! use imts::types::{Destination, Money};
//! use imts::{AgentSecret, ClientBuilder, Credentials, PartnerKey};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new(
//!     std::env::var("IMTS_AGENT_ID")?.parse()?,
//!     AgentSecret::new(std::env::var("IMTS_AGENT_SECRET")?)?,
//! )
//! .with_partner_key(PartnerKey::parse(&std::env::var("IMTS_PARTNER_KEY")?)?);
//! let client = ClientBuilder::new(credentials).build()?; // the production host
//! let transfer = client
//!     .create_transfer(&CreateTransferRequest::new(NewTransfer {
//!         client_uuid: "7c9e6679-7425-40de-944b-e07fc1f90ae7".parse()?, // from create_person
//!         destination: Destination::Phone("998901234567".parse()?),
//!         target_country: "UZB".parse()?,
//!         order_id: "ORD-2026-000001".parse()?, // your idempotency key: reuse it on retry
//!         amount: Money::new("1000.00".parse()?, "KZT".parse()?),
//!         currency_target: "UZS".parse()?,
//!         purpose: "Family support".into(),
//!     }))
//!     .await?;
//! client.confirm(&ConfirmRequest::new(transfer.transfer_id)).await?;
//! # Ok(())
//! # }
//! ```

#[cfg(all(feature = "async", feature = "blocking"))]
mod any_client;
mod builder;

#[cfg(all(feature = "async", feature = "blocking"))]
pub use any_client::{AnyClient, Flavour};
pub use builder::ClientBuilder;
pub use imts_core::{Config, Credentials, Error};
pub use imts_crypto::{AgentSecret, PartnerKey};

#[cfg(feature = "async")]
pub use imts_http_reqwest::AsyncClient;
#[cfg(feature = "blocking")]
pub use imts_http_ureq::BlockingClient;

/// The client of the enabled transport: async when `async` is on, else blocking.
#[cfg(feature = "async")]
pub type Client = AsyncClient;
/// The client of the enabled transport: async when `async` is on, else blocking.
#[cfg(all(feature = "blocking", not(feature = "async")))]
pub type Client = BlockingClient;

pub mod models {
    //! The requests you build and the responses you decode, one module per resource.
    //!
    //! A request is built by `new` with its required fields and a `with_<field>` setter for
    //! each optional one; Create transfer takes its required fields by name in a
    //! [`NewTransfer`]. A response is only ever decoded. Every object keeps fields this
    //! version does not know in its `extra` field, an [`Extra`].
    pub use imts_core::models::*;
}

pub mod types {
    //! Validated values of the wire (money, codes, identifiers, timestamps, and the compound
    //! [`Money`], [`Destination`] and [`Lookup`]) and the server's enumerations, each with an
    //! `Unknown(String)` variant for values this version does not know.
    pub use imts_core::enums::*;
    pub use imts_core::values::*;
}

pub mod personal {
    //! Personal data of senders, recipients and companies: zeroized, redacted in `Debug`, and
    //! only ever sent sealed with the partner key (`encrypted_data`).
    pub use imts_core::personal::*;
    pub use imts_crypto::Plaintext;
}

pub mod config {
    //! How a client talks to IMTS: host, retry policy, timeouts, envelope packing, signature
    //! scheme.
    pub use imts_core::config::*;
    pub use imts_core::retry::RetryPolicy;
    pub use imts_core::shell::Timeouts;
    pub use imts_crypto::Packing;
}

pub mod error {
    //! The parts of an [`Error`]: the API's error answers and transport failures.
    pub use imts_core::error::*;
    pub use imts_crypto::{DecryptError, KeyError};
}

pub mod stores {
    //! Shared stores, all asynchronous (a store over the network never blocks a runtime's
    //! worker; the blocking client drives the same futures on its own thread): the token store
    //! (access and refresh tokens shared by several instances on one credential), and, for
    //! callback receivers, the seen store (first deliveries) and the status store (which status
    //! update is late). In memory by default; Redis with the `redis` feature.
    #[cfg(feature = "callbacks")]
    pub use imts_callbacks::{
        MemorySeenStore, MemoryStatusStore, SeenStore, StatusStore, StoreError,
    };
    /// The journal of money-moving calls (see [`crate::journal`]).
    pub use imts_core::journal::{Journal, JournalError, MemoryJournal};
    pub use imts_core::token_store::{
        BoxFuture, MemoryTokenStore, SharedTokens, TokenStore, TokenStoreError,
    };
    #[cfg(feature = "postgres")]
    pub use imts_postgres::{PostgresInbox, PostgresJournal};
    #[cfg(feature = "redis")]
    pub use imts_redis::{RedisSeenStore, RedisStatusStore, RedisTokenStore};
    #[cfg(feature = "sqlite")]
    pub use imts_sqlite::{SqliteInbox, SqliteJournal};
}

/// Receiving notifications (feature `callbacks`): verify, de-duplicate, order, acknowledge.
#[cfg(feature = "callbacks")]
pub use imts_callbacks as callbacks;

/// The durable journal's model: records, states, transitions and resume plans. Set a journal
/// with [`ClientBuilder::journal`]; SQLite with the `sqlite` feature.
pub use imts_core::journal;

/// The reconciler: polls the journal's created transfers that are not final on a per-status
/// schedule, the safety net for IMTS's 45-minute callback window. `reconcile_once` on both
/// clients; `AsyncClient::reconciler` runs it as a task.
pub mod reconcile {
    pub use imts_core::reconcile::*;
    #[cfg(feature = "async")]
    pub use imts_http_reqwest::ReconcilerHandle;
}

/// Metrics (through the `metrics` facade: install any recorder) and their table. Every
/// name, kind and label is in [`telemetry::METRICS`]; label values come from closed sets, so no
/// identifier, amount or personal value is ever a label.
pub mod telemetry {
    pub use imts_core::telemetry::*;
}

#[cfg(feature = "otel")]
pub mod otel;

pub mod protocol {
    //! The sans-IO layer, for those who embed the protocol in a transport of their own: the
    //! endpoint table, request building and signing, the per-call driver, the token session,
    //! the life cycle and retry decisions. The clients are thin loops around [`Call`].
    pub use imts_core::{
        driver, endpoint, lifecycle, operation, response, retry, session, signature, transport,
    };
    pub use imts_core::{
        Call, Endpoint, Exchange, Operation, PreparedRequest, RawCall, SessionStep, Step,
        TokenSession,
    };
    pub use imts_crypto::{PgSig, Signer};
    #[cfg(feature = "async")]
    pub use imts_http_reqwest::ReqwestTransport;
    #[cfg(feature = "blocking")]
    pub use imts_http_ureq::UreqTransport;
}

/// The repository README's Rust examples, compiled as doctests so they cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
