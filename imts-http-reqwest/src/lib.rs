//! The async IMTS client: [`AsyncClient`] drives `imts-core`'s call driver over any
//! [`AsyncTransport`](imts_core::transport::AsyncTransport), by default [`ReqwestTransport`] (reqwest with rustls, redirects off).
//!
//! One token session per client, shared by every task: concurrent calls on an expired token
//! cause one refresh. Each call is traced as an `imts.call` span (endpoint, attempts, HTTP
//! status, duration) that never contains secrets, tokens or personal data.
//!
//! ```no_run
//! use imts_http_reqwest::{AsyncClient, ReqwestTransport};
//! use imts_core::{Config, Credentials, Shell, ShellSettings, Timeouts};
//! use imts_core::models::StatusRequest;
//! use imts_core::values::Lookup;
//! use imts_core::{AgentSecret, PartnerKey};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new("my-agent-id".parse()?, AgentSecret::new(std::env::var("IMTS_AGENT_SECRET")?)?)
//!     .with_partner_key(PartnerKey::parse(&std::env::var("IMTS_PARTNER_KEY")?)?);
//! // Applications write `imts::ClientBuilder::new(credentials).build()`; this is what it does.
//! let shell = Shell::new(credentials, Config::new("http://127.0.0.1:8080"), ShellSettings::default(), 7)?;
//! let client = AsyncClient::from_shell(shell, ReqwestTransport::new(Timeouts::default())?);
//! let status = client.status(&StatusRequest::new(Lookup::OrderId("ORD-1".parse()?))).await?;
//! println!("{}", status.status);
//! # Ok(())
//! # }
//! ```

mod client;
mod reconciler;
mod transport;

pub use client::AsyncClient;
pub use imts_core;
pub use reconciler::{ReconcilerHandle, AFTER_FAILURE, EVENT_BUFFER, MAX_IDLE};
pub use transport::{ReqwestTransport, MAX_RESPONSE_BYTES};
