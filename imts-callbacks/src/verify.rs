//! Verification of the raw body: `pg_sig` recomputed over every other field, compared in
//! constant time, under any of the partner's current secrets (several during a rotation).

use std::borrow::Cow;

use imts_core::signature::{verify_json, VerifyError};
use imts_crypto::{AgentSecret, Signer};

use crate::error::CallbackError;

/// Only the signature field of a body (escaped or not).
#[derive(serde::Deserialize)]
struct Signature<'a> {
    #[serde(borrow)]
    pg_sig: Option<Cow<'a, str>>,
}

/// Checks notification signatures.
#[derive(Clone, Debug)]
pub struct Verifier {
    signers: Vec<Signer>,
}

impl Verifier {
    /// A verifier for one secret.
    #[must_use]
    pub fn new(secret: AgentSecret) -> Self {
        Self {
            signers: vec![Signer::new(secret)],
        }
    }

    /// Also accepts `secret` (during a key rotation: add the new one, later drop the old one).
    #[must_use]
    pub fn also_accept(mut self, secret: AgentSecret) -> Self {
        self.signers.push(Signer::new(secret));
        self
    }

    /// Verifies `body` as received.
    ///
    /// # Errors
    /// [`CallbackError::Malformed`] when the body is not a JSON object,
    /// [`CallbackError::MissingSignature`] without `pg_sig`,
    /// [`CallbackError::BadSignature`] when no accepted secret matches.
    pub fn verify(&self, body: &[u8]) -> Result<(), CallbackError> {
        let signature = serde_json::from_slice::<Signature<'_>>(body)
            .map_err(|e| CallbackError::Malformed(e.to_string()))?
            .pg_sig
            .ok_or(CallbackError::MissingSignature)?;
        // Every secret is tried, so the time taken does not tell which one matched.
        let mut mismatch = None;
        let mut matched = false;
        for signer in &self.signers {
            match verify_json(body, signer, &signature) {
                Ok(()) => matched = true,
                Err(VerifyError::Mismatch(m)) => mismatch = Some(m),
                Err(e) => return Err(CallbackError::Malformed(e.to_string())),
            }
        }
        match (matched, mismatch) {
            (true, _) => Ok(()),
            (false, Some(mismatch)) => Err(CallbackError::BadSignature(mismatch)),
            // A verifier always has at least one secret, so a refusal carries a mismatch.
            (false, None) => Err(CallbackError::MissingSignature),
        }
    }
}
