//! The sandbox's one state: partners, tokens, clients, transfers and counters, behind one lock so
//! every request sees and leaves it consistent.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use imts_core::enums::{AmlStatus, DestinationType, ErrorCode, TransferStatus};
use imts_core::models::Extra;
use imts_core::models::Transfer;
use imts_core::personal::{BusinessData, PersonData};
use imts_core::values::{mask_identifier, Timestamp};
use imts_crypto::{PartnerKey, Signer};
use rust_decimal::Decimal;
use serde::Serialize;
use time::OffsetDateTime;

/// A registered partner.
#[derive(Debug)]
pub struct Partner {
    /// Its id.
    pub id: String,
    /// Verifies its signatures and signs its notifications.
    pub signer: Signer,
    /// Opens its personal data.
    pub key: PartnerKey,
    /// Where its notifications go.
    pub callback_url: Option<String>,
}

/// A fictional receiving agent listed by Get agents.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Its id (a UUID).
    pub id: String,
    /// Name.
    pub name: &'static str,
    /// Country.
    pub country: &'static str,
    /// Currency.
    pub currency: &'static str,
}

/// A token and whose it is.
#[derive(Debug, Clone)]
pub struct TokenRecord {
    /// Index of the partner.
    pub partner: usize,
    /// When it stops working.
    pub expires: OffsetDateTime,
}

/// A registered person or company.
#[derive(Debug)]
pub enum Profile {
    /// A person.
    Person(PersonData),
    /// A company.
    Business(BusinessData),
}

/// A client.
#[derive(Debug)]
pub struct ClientRecord {
    /// The partner that registered it.
    pub owner: usize,
    /// AML result.
    pub aml: AmlStatus,
    /// Who it is.
    pub profile: Profile,
    /// When it was registered.
    pub created_at: OffsetDateTime,
}

/// A transfer, with what the wire shows and what only the sandbox knows.
#[derive(Debug, Clone)]
pub struct TransferRecord {
    /// Its id.
    pub id: String,
    /// The partner that created it.
    pub owner: usize,
    /// The partner that registered the payout.
    pub paid_by: Option<usize>,
    /// The partner's reference.
    pub order_id: String,
    /// The create request's canonical parameters, for idempotency.
    pub fingerprint: Vec<(String, String)>,
    /// The sender.
    pub client_uuid: String,
    /// Destination kind.
    pub destination_type: DestinationType,
    /// The full destination (masked in every answer).
    pub destination_identifier: String,
    /// Receiving agent, if directed.
    pub target_agent_id: Option<String>,
    /// Destination country.
    pub target_country: String,
    /// Amount sent.
    pub amount_source: Decimal,
    /// Source currency.
    pub currency_source: String,
    /// Fee.
    pub fee: Decimal,
    /// Amount plus fee.
    pub total_amount: Decimal,
    /// What the recipient gets.
    pub amount_target: Decimal,
    /// Target currency.
    pub currency_target: String,
    /// Rate applied.
    pub rate: Decimal,
    /// Code for on-demand collection.
    pub transfer_code: String,
    /// Status.
    pub status: TransferStatus,
    /// Why it failed.
    pub error: Option<(ErrorCode, String)>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last status change.
    pub updated_at: OffsetDateTime,
}

impl TransferRecord {
    /// As the wire shows it: the destination masked.
    #[must_use]
    pub fn to_wire(&self) -> Transfer {
        let mut t = Transfer {
            transfer_id: self.id.parse().unwrap_or_else(|_| placeholder_id()),
            order_id: parse_opt(&self.order_id),
            status: self.status.clone(),
            client_uuid: parse_opt(&self.client_uuid),
            destination_type: Some(self.destination_type.clone()),
            destination_identifier: Some(mask_identifier(&self.destination_identifier)),
            target_agent_id: self.target_agent_id.as_deref().and_then(parse_opt),
            target_country: parse_opt(&self.target_country),
            amount_source: imts_core::values::Amount::new(self.amount_source).ok(),
            currency_source: parse_opt(&self.currency_source),
            fee: imts_core::values::Amount::new(self.fee).ok(),
            total_amount: imts_core::values::Amount::new(self.total_amount).ok(),
            amount_target: imts_core::values::Amount::new(self.amount_target).ok(),
            currency_target: parse_opt(&self.currency_target),
            rate: imts_core::values::Rate::new(self.rate).ok(),
            transfer_code: Some(self.transfer_code.clone()),
            created_at: Some(Timestamp::new(self.created_at)),
            updated_at: Some(Timestamp::new(self.updated_at)),
            error_code: None,
            error_description: None,
            extra: Extra::default(),
        };
        if let Some((code, description)) = &self.error {
            t.error_code = Some(code.clone());
            t.error_description = Some(description.clone());
        }
        t
    }

    /// Whether `partner` may see it as a receiving agent.
    #[must_use]
    pub fn collectable_by(&self, partner_id: &str) -> bool {
        self.target_agent_id
            .as_deref()
            .is_none_or(|target| target == partner_id)
    }
}

fn parse_opt<T: std::str::FromStr>(text: &str) -> Option<T> {
    text.parse().ok()
}

fn placeholder_id() -> imts_core::values::TransferId {
    // Record ids are generated UUIDs; this is never reached.
    imts_core::values::TransferId::new("00000000-0000-0000-0000-000000000000")
        .unwrap_or_else(|_| placeholder_id())
}

/// Counters served by `GET /sandbox/stats`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    /// Requests per endpoint path (including faulted ones).
    pub calls: BTreeMap<String, u64>,
    /// Successful Get token answers.
    pub auth: u64,
    /// Successful Refresh token answers.
    pub refresh: u64,
    /// Transfers per `order_id` (across partners).
    pub transfers_per_order_id: BTreeMap<String, u64>,
    /// Notification delivery attempts.
    pub callbacks_sent: u64,
    /// Deliveries answered `200 {"status":"ok"}`.
    pub callbacks_acknowledged: u64,
    /// Notifications given up after every retry.
    pub callbacks_abandoned: u64,
    /// Notifications dropped entirely by `--callback-loss`.
    pub callbacks_lost: u64,
    /// Delivery attempts refused during `--callback-outage`.
    pub callbacks_refused_outage: u64,
    /// Faults injected, per kind.
    pub faults: BTreeMap<String, u64>,
    /// Finished transfers forgotten to keep the store within `retained_transfers`.
    pub transfers_forgotten: u64,
}

/// The whole state. Its `Debug` shows counts only: it holds live tokens and personal data.
pub struct State {
    /// Registered partners.
    pub partners: Vec<Partner>,
    /// Fictional receiving agents.
    pub receivers: Vec<Receiver>,
    /// Access tokens.
    pub access: HashMap<String, TokenRecord>,
    /// Refresh tokens (removed when used).
    pub refresh: HashMap<String, TokenRecord>,
    /// Clients by uuid.
    pub clients: HashMap<String, ClientRecord>,
    /// Transfers by id.
    pub transfers: HashMap<String, TransferRecord>,
    /// `(partner, order_id)` to transfer id.
    pub orders: HashMap<(usize, String), String>,
    /// Transfer ids, oldest first (live ones move to the back when passed over): where
    /// forgetting finished transfers starts.
    pub creation_order: VecDeque<String>,
    /// [`crate::SandboxConfig::retained_transfers`].
    pub retained_transfers: usize,
    /// Counters.
    pub stats: Stats,
    /// Every notification made, and its deliveries (the control API's callback log).
    pub callback_log: crate::callback_log::CallbackLog,
    /// Delivery controls and held notifications, per recipient agent id.
    pub deliveries: HashMap<String, crate::delivery::AgentDelivery>,
    /// Seeded identifiers (`SandboxConfig::deterministic`): transfer, client and notification
    /// ids, tokens and transfer codes drawn from `--seed`; random ones when `None`.
    pub ids: Option<rand::rngs::StdRng>,
    /// Token lifetimes.
    pub access_ttl: Duration,
    /// Refresh token lifetime.
    pub refresh_ttl: Duration,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("partners", &self.partners.len())
            .field("access_tokens", &self.access.len())
            .field("clients", &self.clients.len())
            .field("transfers", &self.transfers.len())
            .finish_non_exhaustive()
    }
}

impl State {
    /// Stores a new transfer under `(partner, order_id)`, then forgets finished transfers,
    /// oldest first, while more than `retained_transfers` are stored.
    pub fn insert_transfer(&mut self, order_key: (usize, String), record: TransferRecord) {
        self.orders.insert(order_key, record.id.clone());
        self.creation_order.push_back(record.id.clone());
        self.transfers.insert(record.id.clone(), record);
        self.forget_finished();
    }

    /// Looks at a few of the oldest ids per call (so that a store full of live transfers costs
    /// each create a constant amount, not a scan): a finished transfer goes, a live one moves
    /// to the back. Each insert looks at more ids than it adds, so the store comes back within
    /// its bound as soon as enough transfers have finished.
    fn forget_finished(&mut self) {
        const LOOKS_PER_INSERT: usize = 4;
        for _ in 0..LOOKS_PER_INSERT {
            if self.transfers.len() <= self.retained_transfers {
                return;
            }
            let Some(id) = self.creation_order.pop_front() else {
                return;
            };
            let Some(record) = self.transfers.get(&id) else {
                continue;
            };
            if !imts_core::lifecycle::is_final(&record.status) {
                self.creation_order.push_back(id);
                continue;
            }
            let Some(record) = self.transfers.remove(&id) else {
                continue;
            };
            self.orders.remove(&(record.owner, record.order_id.clone()));
            if let Some(count) = self.stats.transfers_per_order_id.get_mut(&record.order_id) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    self.stats.transfers_per_order_id.remove(&record.order_id);
                }
            }
            self.stats.transfers_forgotten += 1;
        }
    }

    /// The partner with this id.
    #[must_use]
    pub fn partner_index(&self, id: &str) -> Option<usize> {
        self.partners.iter().position(|p| p.id == id)
    }

    /// A new identifier: seeded when the sandbox is deterministic, else random.
    pub fn new_uuid(&mut self) -> uuid::Uuid {
        match &mut self.ids {
            Some(rng) => {
                use rand::RngCore as _;
                let mut bytes = [0u8; 16];
                rng.fill_bytes(&mut bytes);
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            }
            None => uuid::Uuid::new_v4(),
        }
    }

    /// A new 8-digit transfer code: seeded when the sandbox is deterministic, else random.
    pub fn new_transfer_code(&mut self) -> String {
        use rand::Rng as _;
        let code = match &mut self.ids {
            Some(rng) => rng.random_range(0..100_000_000u32),
            None => rand::rng().random_range(0..100_000_000u32),
        };
        format!("{code:08}")
    }

    /// Issues a fresh token pair for `partner`.
    pub fn issue_tokens(&mut self, partner: usize, now: OffsetDateTime) -> serde_json::Value {
        let access = format!("at_{}", self.new_uuid().simple());
        let refresh = format!("rt_{}", self.new_uuid().simple());
        let access_expires = now + self.access_ttl;
        let refresh_expires = now + self.refresh_ttl;
        self.access.insert(
            access.clone(),
            TokenRecord {
                partner,
                expires: access_expires,
            },
        );
        self.refresh.insert(
            refresh.clone(),
            TokenRecord {
                partner,
                expires: refresh_expires,
            },
        );
        serde_json::json!({
            "access_token": access,
            "refresh_token": refresh,
            "access_expire_at": Timestamp::new(access_expires).to_string(),
            "refresh_expire_at": Timestamp::new(refresh_expires).to_string(),
        })
    }

    /// The partner an access token belongs to, if it is known and unexpired.
    #[must_use]
    pub fn authenticate(&self, token: &str, now: OffsetDateTime) -> Option<usize> {
        self.access
            .get(token)
            .filter(|record| record.expires > now)
            .map(|record| record.partner)
    }
}
