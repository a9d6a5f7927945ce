//! The audit log: an append-only, hash-chained list of every money-moving call's steps (its
//! intent, each send, its outcome), kept by a durable journal in the same transaction as the
//! record it describes. Each entry's hash covers the previous entry's hash, so an entry edited
//! or deleted in the database afterwards breaks the chain at that entry; the chain's head (the
//! last sequence number and hash) is kept beside it, so deleting the newest entries shows too.
//! Whoever can rewrite the whole table and its head can forge a consistent chain: an operator
//! who records the head elsewhere ([`verify`] takes an expected head) closes that gap.
//!
//! ```
//! use imts_core::journal::audit::{verify, AuditFact, AuditHead};
//! use imts_core::journal::{MoneyOp, State};
//! use imts_core::values::Timestamp;
//!
//! let fact = AuditFact {
//!     at: Timestamp::new(time::macros::datetime!(2026-12-01 10:00 UTC)),
//!     agent: "agent-1".into(),
//!     operation: MoneyOp::CreateTransfer,
//!     order_id: Some("ORD-1".into()),
//!     transfer_id: None,
//!     request_hash: "ab".repeat(32),
//!     state: State::Intent,
//!     outcome: None,
//! };
//! let mut head = AuditHead::default();
//! let mut entries = vec![head.append(fact.clone())];
//! entries.push(head.append(AuditFact { state: State::Sent, ..fact }));
//! assert_eq!(verify(&entries, Some(&head)).unwrap(), head);
//!
//! entries[0].fact.order_id = Some("ORD-2".into()); // edited afterwards
//! assert_eq!(verify(&entries, Some(&head)).unwrap_err().seq, 1);
//! ```

use std::fmt;

use crate::values::Timestamp;

use super::record::{MoneyOp, Record, State};
use super::write::Write;

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What one entry says: who moved which money, when, with which request, and how it stood.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditFact {
    /// When (the time of the journal write, to the microsecond: the precision every store
    /// keeps).
    pub at: Timestamp,
    /// The agent whose credentials made the call (empty for records older than the audit log).
    pub agent: String,
    /// The operation.
    pub operation: MoneyOp,
    /// The order id, when the operation has one.
    pub order_id: Option<String>,
    /// The transfer id, when known.
    pub transfer_id: Option<String>,
    /// SHA-256 of the exact request body (the body itself is never in the log).
    pub request_hash: String,
    /// The record's state after this step: `intent`, `sent`, `applied`, `refused`, `unknown`.
    pub state: State,
    /// The answer or the error's text (never a personal value: an error code, a status).
    pub outcome: Option<String>,
}

impl fmt::Debug for AuditFact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditFact")
            .field("at", &self.at)
            .field("operation", &self.operation)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl AuditFact {
    /// What a write that changed `record` (as now stored) adds to the log: a recorded intent,
    /// an advance (a send, an outcome). What is learnt of a transfer later (callbacks, polls)
    /// moves no money and adds nothing.
    #[must_use]
    pub fn of(write: &Write, record: &Record) -> Option<Self> {
        let at = match write {
            Write::Record { now, .. } | Write::Advance { now, .. } => now.as_offset_date_time(),
            Write::Observe { .. } => return None,
        };
        let micros = at.nanosecond() / 1_000 * 1_000;
        let at = Timestamp::new(at.replace_nanosecond(micros).unwrap_or(at));
        Some(Self {
            at,
            agent: record.agent.clone().unwrap_or_default(),
            operation: record.op,
            order_id: record.order_id.clone(),
            transfer_id: record.transfer_id.clone(),
            request_hash: record.body_hash.clone(),
            state: record.state,
            outcome: record.outcome.clone(),
        })
    }
}

/// One entry: its place in the chain, what it says, the previous entry's hash and its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// 1 for the first entry, then one more for each.
    pub seq: u64,
    /// What it says.
    pub fact: AuditFact,
    /// The previous entry's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 over `seq`, `prev_hash` and the fact ([`entry_hash`]).
    pub hash: String,
}

/// The end of the chain: the last entry's sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// The last entry's `seq` (0 for an empty log).
    pub seq: u64,
    /// The last entry's hash ([`GENESIS_HASH`] for an empty log).
    pub hash: String,
}

impl Default for AuditHead {
    fn default() -> Self {
        Self {
            seq: 0,
            hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl AuditHead {
    /// The next entry for `fact`; the head moves on to it.
    pub fn append(&mut self, fact: AuditFact) -> AuditEntry {
        let seq = self.seq + 1;
        let hash = entry_hash(seq, &self.hash, &fact);
        let entry = AuditEntry {
            seq,
            fact,
            prev_hash: std::mem::replace(&mut self.hash, hash.clone()),
            hash,
        };
        self.seq = seq;
        entry
    }
}

/// The hash of an entry: SHA-256 (lowercase hex) of a JSON array of every field in a fixed
/// order, so no two different entries share an encoding.
#[must_use]
pub fn entry_hash(seq: u64, prev_hash: &str, fact: &AuditFact) -> String {
    let encoded = serde_json::json!([
        seq,
        prev_hash,
        // Unix nanoseconds: exact, and the same whatever offset or format a store keeps.
        fact.at
            .as_offset_date_time()
            .unix_timestamp_nanos()
            .to_string(),
        fact.agent,
        fact.operation.as_str(),
        fact.order_id,
        fact.transfer_id,
        fact.request_hash,
        fact.state.as_str(),
        fact.outcome,
    ]);
    imts_crypto::sha256_hex(encoded.to_string().as_bytes())
}

/// Where a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit log broken at entry {seq}: {reason}")]
pub struct AuditBreak {
    /// The first entry that does not check (for a missing tail: the first missing one).
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

/// Checks `entries` (in `seq` order, from the first) link by link, and against `head` (the
/// stored head, or one an operator recorded elsewhere). Answers the chain's head.
///
/// # Errors
/// [`AuditBreak`] naming the first entry that is missing, out of place or edited.
pub fn verify(entries: &[AuditEntry], head: Option<&AuditHead>) -> Result<AuditHead, AuditBreak> {
    let mut at = AuditHead::default();
    for entry in entries {
        let expected = at.seq + 1;
        if entry.seq != expected {
            return Err(AuditBreak {
                seq: expected,
                reason: format!("missing (the next entry found is {})", entry.seq),
            });
        }
        if entry.prev_hash != at.hash {
            return Err(AuditBreak {
                seq: entry.seq,
                reason: "its previous hash is not the previous entry's hash".into(),
            });
        }
        if entry_hash(entry.seq, &entry.prev_hash, &entry.fact) != entry.hash {
            return Err(AuditBreak {
                seq: entry.seq,
                reason: "its content does not match its hash (edited)".into(),
            });
        }
        at = AuditHead {
            seq: entry.seq,
            hash: entry.hash.clone(),
        };
    }
    match head {
        Some(head) if head.seq > at.seq => Err(AuditBreak {
            seq: at.seq + 1,
            reason: format!(
                "missing: the head says the log ends at {}, the entries at {}",
                head.seq, at.seq
            ),
        }),
        Some(head) if *head != at => Err(AuditBreak {
            seq: head.seq,
            reason: "the head's hash is not the last entry's hash".into(),
        }),
        _ => Ok(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(n: u8) -> AuditFact {
        AuditFact {
            at: Timestamp::new(time::macros::datetime!(2026-12-01 10:00 UTC)),
            agent: "agent".into(),
            operation: MoneyOp::Confirm,
            order_id: None,
            transfer_id: Some(format!("t-{n}")),
            request_hash: format!("{n:064x}"),
            state: State::Applied,
            outcome: Some("process".into()),
        }
    }

    fn chain(n: u8) -> (Vec<AuditEntry>, AuditHead) {
        let mut head = AuditHead::default();
        let entries = (0..n).map(|i| head.append(fact(i))).collect();
        (entries, head)
    }

    #[test]
    fn an_intact_chain_verifies_to_its_head() {
        let (entries, head) = chain(5);
        assert_eq!(verify(&entries, Some(&head)), Ok(head.clone()));
        assert_eq!(verify(&entries, None), Ok(head));
        assert_eq!(verify(&[], None), Ok(AuditHead::default()));
    }

    #[test]
    fn every_kind_of_tampering_names_the_first_bad_entry() {
        let (entries, head) = chain(5);
        let broken_at = |entries: &[AuditEntry]| verify(entries, Some(&head)).unwrap_err().seq;

        let mut edited = entries.clone();
        edited[2].fact.outcome = Some("success".into());
        assert_eq!(broken_at(&edited), 3);

        let mut rehashed = entries.clone();
        rehashed[2].fact.agent = "someone else".into();
        rehashed[2].hash = entry_hash(3, &rehashed[2].prev_hash, &rehashed[2].fact);
        assert_eq!(broken_at(&rehashed), 4, "the next entry no longer links");

        let mut deleted = entries.clone();
        deleted.remove(1);
        assert_eq!(broken_at(&deleted), 2);

        let truncated = &entries[..3];
        assert_eq!(broken_at(truncated), 4);
        assert!(
            verify(truncated, None).is_ok(),
            "without a head, a cut tail is invisible"
        );

        let mut reordered = entries.clone();
        reordered.swap(1, 2);
        assert_eq!(broken_at(&reordered), 2);
    }

    #[test]
    fn each_field_is_covered_by_the_hash() {
        let base = fact(1);
        let hash = entry_hash(1, GENESIS_HASH, &base);
        let variants = [
            AuditFact {
                agent: "x".into(),
                ..base.clone()
            },
            AuditFact {
                operation: MoneyOp::Cancel,
                ..base.clone()
            },
            AuditFact {
                order_id: Some("o".into()),
                ..base.clone()
            },
            AuditFact {
                transfer_id: None,
                ..base.clone()
            },
            AuditFact {
                request_hash: "f".repeat(64),
                ..base.clone()
            },
            AuditFact {
                state: State::Refused,
                ..base.clone()
            },
            AuditFact {
                outcome: None,
                ..base.clone()
            },
            AuditFact {
                at: Timestamp::new(time::macros::datetime!(2026-12-01 10:00:01 UTC)),
                ..base.clone()
            },
        ];
        for variant in variants {
            assert_ne!(entry_hash(1, GENESIS_HASH, &variant), hash, "{variant:?}");
        }
        assert_ne!(entry_hash(2, GENESIS_HASH, &base), hash);
        assert_ne!(entry_hash(1, &"1".repeat(64), &base), hash);
    }
}
