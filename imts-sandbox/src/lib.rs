//! A local IMTS server that speaks the whole partner Transfer API contract, in memory: tokens
//! with rotation and expiry, `pg_sig` verification, personal-data decryption and validation,
//! idempotent `order_id`s, the transfer state machine, AML simulation, fees, a printable PDF,
//! the receiving side, signed callbacks with retries, injected faults and `GET /sandbox/stats`.
//!
//! Start it in-process on a free port and point a client at [`Sandbox::base_url`]:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let sandbox = imts_sandbox::Sandbox::start(imts_sandbox::SandboxConfig::default()).await?;
//! let agent = &sandbox.agents()[0];
//! println!("{} as {}", sandbox.base_url(), agent.agent_id);
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The conventions users and tests rely on are those of `docs/contract.md`, "The sandbox".

pub mod callback_log;
mod callbacks;
pub mod cli;
mod clock;
pub mod config;
mod control;
mod control_client;
pub mod delivery;
mod failure;
mod faults;
pub mod magic;
pub mod openapi;
mod pdf;
pub mod rates;
mod routes;
pub mod samples;
mod server;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use config::{
    AgentConfig, CallbackTarget, ControlToken, FaultKind, FaultRule, SandboxConfig,
    DEFAULT_RETAINED_TRANSFERS,
};
pub use control_client::{Control, ControlError};
pub use state::Stats;
use tokio::sync::watch;

use crate::server::Shared;
use crate::state::{Partner, Receiver, State};

/// The AML rule: a person whose `last_name`, or a business whose `company_name`, starts with
/// this fails AML.
pub const AML_REJECT_PREFIX: &str = routes::AML_REJECT_PREFIX;

/// Fictional receiving agents listed by Get agents beside the registered partners.
const RECEIVERS: [(&str, &str, &str, &str); 3] = [
    (
        "5b0f6f1e-8a8e-4c55-9a5e-1f2b3c4d5e01",
        "Tashkent Cash Desk",
        "UZB",
        "UZS",
    ),
    (
        "5b0f6f1e-8a8e-4c55-9a5e-1f2b3c4d5e02",
        "Bishkek Remit Bank",
        "KGZ",
        "KGS",
    ),
    (
        "5b0f6f1e-8a8e-4c55-9a5e-1f2b3c4d5e03",
        "Dushanbe Transfer Point",
        "TJK",
        "TJS",
    ),
];

/// A running sandbox. It stops accepting connections when dropped (or on [`Sandbox::shutdown`]).
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    base_url: String,
    agents: Vec<AgentConfig>,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Binds and starts serving on the current tokio runtime.
    ///
    /// # Errors
    /// When the listen address cannot be bound.
    pub async fn start(mut config: SandboxConfig) -> std::io::Result<Self> {
        if config.agents.is_empty() {
            config.agents.push(AgentConfig::generate());
        }
        let listener = server::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let partners = config
            .agents
            .iter()
            .map(|agent| Partner {
                id: agent.agent_id.clone(),
                signer: imts_crypto::Signer::new(agent.agent_secret.clone()),
                key: agent.partner_key.clone(),
                callback_url: callback_url(&config.callbacks, &agent.agent_id),
            })
            .collect();
        let receivers = RECEIVERS
            .iter()
            .map(|&(id, name, country, currency)| Receiver {
                id: id.into(),
                name,
                country,
                currency,
            })
            .collect();
        let state = State {
            partners,
            receivers,
            access: Default::default(),
            refresh: Default::default(),
            clients: Default::default(),
            transfers: Default::default(),
            orders: Default::default(),
            creation_order: Default::default(),
            retained_transfers: config.retained_transfers,
            stats: Stats::default(),
            callback_log: callback_log::CallbackLog::default(),
            deliveries: std::collections::HashMap::new(),
            ids: config
                .deterministic
                .map(|_| rand::SeedableRng::seed_from_u64(config.seed ^ 0x0069_6473_u64)),
            access_ttl: config.access_ttl,
            refresh_ttl: config.refresh_ttl,
        };
        let clock = config
            .deterministic
            .map_or_else(clock::SandboxClock::default, clock::SandboxClock::frozen_at);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            faults: faults::Faults::new(config.faults.clone(), config.seed),
            losses: Mutex::new(rand::SeedableRng::seed_from_u64(
                config.seed ^ 0x6c6f_7373_u64,
            )),
            started: clock.now(),
            clock,
            config: config.clone(),
        });
        let (shutdown, watcher) = watch::channel(false);
        let task = tokio::spawn(server::accept_loop(listener, Arc::clone(&shared), watcher));
        Ok(Self {
            addr,
            base_url: format!("http://{addr}"),
            agents: config.agents,
            shared,
            shutdown,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The registered partners (with their secrets: hand them to clients, never print them).
    #[must_use]
    pub fn agents(&self) -> &[AgentConfig] {
        &self.agents
    }

    /// A snapshot of the counters (`GET /sandbox/stats` serves the same).
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.shared.with_state(|s| s.stats.clone())
    }

    /// Moves the sandbox's clock forward (token expiry without waiting).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Stops accepting, lets open connections finish their request, and waits for the loop.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

fn callback_url(targets: &[CallbackTarget], agent_id: &str) -> Option<String> {
    let specific = targets.iter().find_map(|t| match t {
        CallbackTarget::Agent { agent_id: id, url } if id == agent_id => Some(url.clone()),
        _ => None,
    });
    specific.or_else(|| {
        targets.iter().find_map(|t| match t {
            CallbackTarget::All(url) => Some(url.clone()),
            CallbackTarget::Agent { .. } => None,
        })
    })
}

/// A sandbox on its own thread and runtime, for blocking programs and tests. Stops when dropped.
#[derive(Debug)]
pub struct BackgroundSandbox {
    base_url: String,
    agents: Vec<AgentConfig>,
    stats_and_clock: Arc<Shared>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundSandbox {
    /// Starts a sandbox on a new thread.
    ///
    /// # Errors
    /// When the runtime cannot start or the address cannot be bound.
    pub fn start(config: SandboxConfig) -> std::io::Result<Self> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("imts-sandbox".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Sandbox::start(config).await {
                        Ok(sandbox) => {
                            let _ = ready_tx.send(Ok((
                                sandbox.base_url.clone(),
                                sandbox.agents.clone(),
                                Arc::clone(&sandbox.shared),
                            )));
                            let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                            sandbox.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })?;
        let (base_url, agents, shared) = ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("the sandbox thread ended before starting"))??;
        Ok(Self {
            base_url,
            agents,
            stats_and_clock: shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The registered partners.
    #[must_use]
    pub fn agents(&self) -> &[AgentConfig] {
        &self.agents
    }

    /// A snapshot of the counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.stats_and_clock.with_state(|s| s.stats.clone())
    }

    /// Moves the sandbox's clock forward.
    pub fn advance_clock(&self, by: Duration) {
        self.stats_and_clock.clock.advance(by);
    }
}

impl Drop for BackgroundSandbox {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
