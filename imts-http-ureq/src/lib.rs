//! The blocking IMTS client: [`BlockingClient`] drives `imts-core`'s call driver over any
//! [`BlockingTransport`](imts_core::transport::BlockingTransport), by default [`UreqTransport`] (ureq, redirects off). For programs with
//! no async runtime; usable from several threads at once (one shared token session).
//!
//! ```no_run
//! use imts_http_ureq::{BlockingClient, UreqTransport};
//! use imts_core::{Config, Credentials, Shell, ShellSettings, Timeouts};
//! use imts_core::models::StatusRequest;
//! use imts_core::values::Lookup;
//! use imts_core::AgentSecret;
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new("my-agent-id".parse()?, AgentSecret::new(std::env::var("IMTS_AGENT_SECRET")?)?);
//! // Applications write `imts::ClientBuilder::new(credentials).build_blocking()`.
//! let shell = Shell::new(credentials, Config::new("http://127.0.0.1:8080"), ShellSettings::default(), 7)?;
//! let client = BlockingClient::from_shell(shell, UreqTransport::new(Timeouts::default()));
//! let status = client.status(&StatusRequest::new(Lookup::OrderId("ORD-1".parse()?)))?;
//! println!("{}", status.status);
//! # Ok(())
//! # }
//! ```

mod client;
mod transport;

pub use client::BlockingClient;
pub use imts_core;
pub use transport::{UreqTransport, MAX_RESPONSE_BYTES};
