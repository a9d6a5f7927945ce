//! How a sandbox is set up: partners, callbacks, token lifetimes, faults.

use std::net::SocketAddr;
use std::time::Duration;

use imts_crypto::{AgentSecret, PartnerKey};

/// A registered partner.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// Its `agent_id` (any reference; generated partners get a UUID).
    pub agent_id: String,
    /// Its `agent_secret`.
    pub agent_secret: AgentSecret,
    /// Its `partner_key`.
    pub partner_key: PartnerKey,
}

impl AgentConfig {
    /// Parses `ID:SECRET:PARTNER_KEY_HEX` (the `--agent` flag).
    ///
    /// # Errors
    /// A message naming the part that is wrong (never echoing the secret).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.splitn(3, ':');
        let (Some(id), Some(secret), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("--agent must be ID:SECRET:PARTNER_KEY_HEX".into());
        };
        if id.is_empty() {
            return Err("--agent: the agent id is empty".into());
        }
        let agent_secret = AgentSecret::new(secret).map_err(|e| format!("--agent {id}: {e}"))?;
        let partner_key = PartnerKey::parse(key).map_err(|e| format!("--agent {id}: {e}"))?;
        Ok(Self {
            agent_id: id.to_owned(),
            agent_secret,
            partner_key,
        })
    }

    /// A partner with a random id, secret and key.
    #[must_use]
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut rng = rand::rng();
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        let mut secret = [0u8; 24];
        rng.fill_bytes(&mut secret);
        let secret_hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let generated = Self {
            agent_id: uuid::Uuid::new_v4().to_string(),
            agent_secret: AgentSecret::new(secret_hex).unwrap_or_else(|_| unreachable_secret()),
            partner_key: PartnerKey::from_array(key),
        };
        zeroize::Zeroize::zeroize(&mut key);
        zeroize::Zeroize::zeroize(&mut secret);
        generated
    }
}

// The secret above is 48 hex digits, never empty; this keeps the code panic-free.
fn unreachable_secret() -> AgentSecret {
    AgentSecret::new("generated").unwrap_or_else(|_| unreachable_secret())
}

/// Where notifications go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackTarget {
    /// Every partner's notifications.
    All(String),
    /// One partner's notifications.
    Agent {
        /// The partner.
        agent_id: String,
        /// Its URL.
        url: String,
    },
}

impl CallbackTarget {
    /// Parses `URL` or `AGENT_ID=URL` (the `--callback-url` flag).
    ///
    /// # Errors
    /// When the URL is not `http://`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let target = match text.split_once('=') {
            Some((agent, url)) if !agent.contains("://") => Self::Agent {
                agent_id: agent.to_owned(),
                url: url.to_owned(),
            },
            _ => Self::All(text.to_owned()),
        };
        let url = match &target {
            Self::All(url) | Self::Agent { url, .. } => url,
        };
        if !url.starts_with("http://") {
            return Err(format!(
                "--callback-url {url}: only http:// URLs are supported"
            ));
        }
        Ok(target)
    }
}

/// What a fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer 503 with `Retry-After: 0`, without applying the request.
    Unavailable,
    /// Wait this long before handling.
    Delay(Duration),
    /// Close the connection without applying the request.
    DropBefore,
    /// Apply the request, then close the connection with no answer.
    DropAfter,
}

/// One `--fault ENDPOINT:KIND:RATE[:TIMES]` rule.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// The path after `/v5/partner/transfer/` (`create`, `payout/confirm`, `agent/auth`) or `*`.
    pub endpoint: String,
    /// What happens.
    pub kind: FaultKind,
    /// Probability in `[0, 1]`, drawn from the seeded generator.
    pub rate: f64,
    /// Fire at most this many times (an extension of the contract's flag, for exact tests).
    pub times: Option<u64>,
}

impl FaultRule {
    /// Parses `ENDPOINT:KIND:RATE`, optionally followed by `:TIMES`.
    ///
    /// # Errors
    /// A message naming the bad part.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (text, times) = match text.rsplit_once(':') {
            Some((head, tail))
                if head.matches(':').count() >= 2
                    && tail.parse::<u64>().is_ok()
                    && !tail.contains('.') =>
            {
                (head, tail.parse::<u64>().ok())
            }
            _ => (text, None),
        };
        let (rest, rate) = text
            .rsplit_once(':')
            .ok_or_else(|| format!("--fault {text}: expected ENDPOINT:KIND:RATE"))?;
        let (endpoint, kind) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("--fault {text}: expected ENDPOINT:KIND:RATE"))?;
        let rate: f64 = rate
            .parse()
            .ok()
            .filter(|r: &f64| (0.0..=1.0).contains(r))
            .ok_or_else(|| format!("--fault {text}: RATE must be a number from 0 to 1"))?;
        let kind = match kind {
            "503" => FaultKind::Unavailable,
            "drop-before" => FaultKind::DropBefore,
            "drop-after" => FaultKind::DropAfter,
            other => match other
                .strip_prefix("delay-")
                .and_then(|ms| ms.parse::<u64>().ok())
            {
                Some(ms) => FaultKind::Delay(Duration::from_millis(ms)),
                None => {
                    return Err(format!(
                        "--fault {text}: KIND must be 503, delay-MS, drop-before or drop-after"
                    ))
                }
            },
        };
        Ok(Self {
            endpoint: endpoint.trim_matches('/').to_owned(),
            kind,
            rate,
            times,
        })
    }
}

/// The control API's bearer token (`--control-token`): compared in constant time, never shown
/// by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ControlToken(String);

impl ControlToken {
    /// The token's bytes, to compare or to send.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ControlToken {
    fn from(token: &str) -> Self {
        Self(token.to_owned())
    }
}

impl std::str::FromStr for ControlToken {
    type Err = std::convert::Infallible;

    fn from_str(token: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(token))
    }
}

impl std::fmt::Debug for ControlToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ControlToken(***)")
    }
}

/// Everything a sandbox starts with.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Registered partners; one is generated when empty.
    pub agents: Vec<AgentConfig>,
    /// Where notifications go.
    pub callbacks: Vec<CallbackTarget>,
    /// Divides the 15-minute callback retry interval.
    pub time_scale: f64,
    /// Access token lifetime.
    pub access_ttl: Duration,
    /// Refresh token lifetime.
    pub refresh_ttl: Duration,
    /// Injected faults.
    pub faults: Vec<FaultRule>,
    /// Seed of the fault generator.
    pub seed: u64,
    /// Largest accepted request body.
    pub max_body: usize,
    /// How long a client may take to send its request headers.
    pub header_timeout: Duration,
    /// How long a callback receiver may take to answer.
    pub callback_timeout: Duration,
    /// The share of notifications dropped entirely, never delivered nor retried (0 to 1).
    pub callback_loss: f64,
    /// Every delivery attempt is refused for this long from the start (retries still follow).
    pub callback_outage: Duration,
    /// Deterministic mode (`imts sandbox --scenario`): the clock stands still at this time
    /// (moving only by clock advances) and identifiers are drawn from `seed`.
    pub deterministic: Option<time::OffsetDateTime>,
    /// When set, the control API (`/sandbox/v1/`) requires `Authorization: Bearer TOKEN`.
    pub control_token: Option<ControlToken>,
    /// How many transfers are stored before finished ones (`success`, `canceled`, `error`) are
    /// forgotten, oldest first, so that a long run's memory stays bounded. A forgotten transfer
    /// answers 404, and its `order_id` may be used again. Transfers in flight are never
    /// forgotten. Default [`DEFAULT_RETAINED_TRANSFERS`].
    pub retained_transfers: usize,
}

/// The default of [`SandboxConfig::retained_transfers`]: far more than a test run creates, and
/// at about 1.5 KB per stored transfer well under a gigabyte.
pub const DEFAULT_RETAINED_TRANSFERS: usize = 100_000;

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            agents: Vec::new(),
            callbacks: Vec::new(),
            time_scale: 1.0,
            access_ttl: Duration::from_secs(3600),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            faults: Vec::new(),
            seed: 0,
            max_body: 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            callback_timeout: Duration::from_secs(10),
            callback_loss: 0.0,
            callback_outage: Duration::ZERO,
            control_token: None,
            deterministic: None,
            retained_transfers: DEFAULT_RETAINED_TRANSFERS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse() {
        let a = AgentConfig::parse(&format!("a1:sec:{}", "ab".repeat(32))).unwrap();
        assert_eq!(a.agent_id, "a1");
        assert!(AgentConfig::parse("a1:sec").is_err());
        let err = AgentConfig::parse("a1:topsecret:short").unwrap_err();
        assert!(!err.contains("topsecret"));
        assert_eq!(
            FaultRule::parse("payout/confirm:drop-after:0.5").unwrap(),
            FaultRule {
                endpoint: "payout/confirm".into(),
                kind: FaultKind::DropAfter,
                rate: 0.5,
                times: None
            }
        );
        assert_eq!(
            FaultRule::parse("*:delay-250:1").unwrap().kind,
            FaultKind::Delay(Duration::from_millis(250))
        );
        assert_eq!(
            FaultRule::parse("create:drop-before:1:1").unwrap().times,
            Some(1)
        );
        assert_eq!(
            FaultRule::parse("create:drop-before:1").unwrap().times,
            None
        );
        assert!(FaultRule::parse("create:explode:1").is_err());
        assert!(FaultRule::parse("create:503:2").is_err());
        assert_eq!(
            CallbackTarget::parse("a1=http://127.0.0.1:9/cb").unwrap(),
            CallbackTarget::Agent {
                agent_id: "a1".into(),
                url: "http://127.0.0.1:9/cb".into()
            }
        );
        assert_eq!(
            CallbackTarget::parse("http://x/?a=b").unwrap(),
            CallbackTarget::All("http://x/?a=b".into())
        );
    }
}
