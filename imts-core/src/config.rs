//! Configuration: credentials, the base URL, and every contract point this project had to infer
//! (inferred in `docs/contract.md`), each changeable here without a fork.

use std::fmt;
use std::time::Duration;

use imts_crypto::{AgentSecret, Packing, PartnerKey, Signer};

use crate::retry::RetryPolicy;
use crate::values::AgentId;

/// Production base URL (documented).
pub const PRODUCTION_URL: &str = "https://api.freedompay.kz";
/// The provider's test host used by Freedom Pay's other APIs (inferred; see `docs/contract.md`).
pub const PROVIDER_TEST_URL: &str = "https://test-api.freedompay.kz";

/// What a partner holds: `agent_id`, `agent_secret` (in the signer) and, for personal data,
/// `partner_key`. `Debug` shows only the agent id.
#[derive(Clone)]
pub struct Credentials {
    agent_id: AgentId,
    signer: Signer,
    partner_key: Option<PartnerKey>,
}

impl Credentials {
    /// Credentials without a partner key (enough for calls that carry no personal data).
    #[must_use]
    pub fn new(agent_id: AgentId, agent_secret: AgentSecret) -> Self {
        Self {
            agent_id,
            signer: Signer::new(agent_secret),
            partner_key: None,
        }
    }

    /// Adds the partner key that encrypts personal data.
    #[must_use]
    pub fn with_partner_key(mut self, key: PartnerKey) -> Self {
        self.partner_key = Some(key);
        self
    }

    /// The agent id.
    #[must_use]
    pub fn agent_id(&self) -> &AgentId {
        &self.agent_id
    }

    /// The `pg_sig` signer (keyed by the agent secret).
    #[must_use]
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The partner key, if configured.
    #[must_use]
    pub fn partner_key(&self) -> Option<&PartnerKey> {
        self.partner_key.as_ref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("agent_id", &self.agent_id)
            .field("agent_secret", &"<redacted>")
            .field(
                "partner_key",
                &self.partner_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Whether a random `pg_salt` field is added and signed \[I: the provider's example names it but
/// no schema lists it; default off].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureScheme {
    /// No salt (default).
    #[default]
    Plain,
    /// A random `pg_salt` field, signed like every other field.
    Salted,
}

/// How Refresh token presents the refresh token (inferred; see `docs/contract.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RefreshStyle {
    /// `Authorization: Bearer <refresh_token>`, empty body (default, modelled on Freedom ID).
    #[default]
    BearerHeader,
    /// `{"refresh_token": "..."}` in the body.
    JsonBody,
}

/// Everything about talking to IMTS except the credentials.
#[derive(Debug, Clone)]
pub struct Config {
    /// Scheme, host and port, without a trailing slash: [`PRODUCTION_URL`], or a sandbox's URL.
    pub base_url: String,
    /// `pg_salt` or not (inferred; see `docs/contract.md`).
    pub signature_scheme: SignatureScheme,
    /// How `encrypted_data` is packed (inferred; see `docs/contract.md`).
    pub envelope_packing: Packing,
    /// How Refresh token is sent (inferred; see `docs/contract.md`).
    pub refresh_style: RefreshStyle,
    /// Refresh this long before the access token expires (default 60 s).
    pub refresh_margin: Duration,
    /// Retries, backoff and budgets.
    pub retry: RetryPolicy,
}

impl Config {
    /// Defaults for `base_url`.
    #[must_use]
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            signature_scheme: SignatureScheme::default(),
            envelope_packing: Packing::default(),
            refresh_style: RefreshStyle::default(),
            refresh_margin: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new(PRODUCTION_URL)
    }
}
