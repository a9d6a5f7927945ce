//! The sandbox's command-line flags, shared by `imts-sandbox` and `imts sandbox`.

use std::net::SocketAddr;
use std::time::Duration;

use std::io::Write as _;

use clap::Args;

use crate::config::{AgentConfig, CallbackTarget, FaultRule, SandboxConfig};

/// Flags of `imts-sandbox` / `imts sandbox`.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Register a partner (repeatable). Without it one partner is generated and printed.
    #[arg(long = "agent", value_name = "ID:SECRET:PARTNER_KEY_HEX", value_parser = AgentConfig::parse)]
    pub agents: Vec<AgentConfig>,
    /// Notification URL for every partner, or AGENT_ID=URL for one (repeatable).
    #[arg(long = "callback-url", value_name = "URL|AGENT_ID=URL", value_parser = CallbackTarget::parse)]
    pub callback_urls: Vec<CallbackTarget>,
    /// Divide the 15-minute callback retry interval by N.
    #[arg(long, default_value_t = 1.0, value_name = "N")]
    pub time_scale: f64,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub access_ttl: u64,
    /// Refresh token lifetime in seconds.
    #[arg(long, default_value_t = 30 * 24 * 3600, value_name = "SECONDS")]
    pub refresh_ttl: u64,
    /// Inject a fault (repeatable): ENDPOINT is the path after /v5/partner/transfer/, agent/auth
    /// or *; KIND is 503, delay-MS, drop-before or drop-after; RATE is 0 to 1; an optional
    /// :TIMES caps how often the rule fires.
    #[arg(long = "fault", value_name = "ENDPOINT:KIND:RATE[:TIMES]", value_parser = FaultRule::parse)]
    pub faults: Vec<FaultRule>,
    /// Seed of the fault generator (and of the callback losses).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Drop this share of notifications entirely: no delivery, no retries (0 to 1).
    #[arg(long, default_value_t = 0.0, value_name = "RATE")]
    pub callback_loss: f64,
    /// Refuse every notification delivery for this long from start (retries follow as usual).
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    pub callback_outage: u64,
    /// Require `Authorization: Bearer TOKEN` on the control API (`/sandbox/v1/`).
    #[arg(long, value_name = "TOKEN", env = "IMTS_SANDBOX_CONTROL_TOKEN")]
    pub control_token: Option<crate::config::ControlToken>,
    /// Transfers stored before the oldest finished ones are forgotten (answer 404 after).
    #[arg(long, default_value_t = crate::config::DEFAULT_RETAINED_TRANSFERS, value_name = "N")]
    pub retained_transfers: usize,
}

impl SandboxArgs {
    /// The configuration these flags describe.
    ///
    /// # Errors
    /// When `--time-scale` is not positive or `--callback-loss` is not between 0 and 1.
    pub fn to_config(&self) -> Result<SandboxConfig, String> {
        if !(self.time_scale.is_finite() && self.time_scale > 0.0) {
            return Err("--time-scale must be a positive number".into());
        }
        if !(0.0..=1.0).contains(&self.callback_loss) {
            return Err("--callback-loss must be between 0 and 1".into());
        }
        Ok(SandboxConfig {
            listen: self.listen,
            agents: self.agents.clone(),
            callbacks: self.callback_urls.clone(),
            time_scale: self.time_scale,
            access_ttl: Duration::from_secs(self.access_ttl),
            refresh_ttl: Duration::from_secs(self.refresh_ttl),
            faults: self.faults.clone(),
            seed: self.seed,
            callback_loss: self.callback_loss,
            callback_outage: Duration::from_secs(self.callback_outage),
            control_token: self.control_token.clone(),
            retained_transfers: self.retained_transfers,
            ..SandboxConfig::default()
        })
    }
}

/// Runs a sandbox until Ctrl-C, printing the address and the credentials first.
///
/// # Errors
/// A one-line message when the configuration is invalid or the address cannot be bound.
pub async fn run(args: &SandboxArgs) -> Result<(), String> {
    let config = args.to_config()?;
    let sandbox = crate::Sandbox::start(config)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    // Written without `println!`: a closed stdout must not stop the server.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "imts-sandbox listening on {}", sandbox.base_url());
    for agent in sandbox.agents() {
        // The sandbox's own test credentials: printing them is its purpose.
        let _ = writeln!(
            out,
            "agent {}  IMTS_AGENT_ID={} IMTS_AGENT_SECRET={} IMTS_PARTNER_KEY={}",
            agent.agent_id,
            agent.agent_id,
            String::from_utf8_lossy(agent.agent_secret.expose_secret()),
            agent.partner_key.to_hex().as_str()
        );
    }
    let _ = out.flush();
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    Ok(())
}
