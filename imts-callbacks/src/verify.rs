//! Verification of the raw body: `pg_sig` recomputed over every other field, compared in
//! constant time, under any of the partner's current secrets (several during a rotation).

use imts_core::signature::{CanonicalParams, SIGNATURE_FIELD};
use imts_crypto::{AgentSecret, Signer};

use crate::error::{CallbackError, SignatureMismatch};

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

    /// Verifies `body` as received; returns its canonical parameters.
    ///
    /// # Errors
    /// [`CallbackError::Malformed`] when the body is not a JSON object,
    /// [`CallbackError::MissingSignature`] without `pg_sig`,
    /// [`CallbackError::BadSignature`] when no accepted secret matches.
    pub fn verify(&self, body: &[u8]) -> Result<CanonicalParams, CallbackError> {
        let params = CanonicalParams::from_json(body)
            .map_err(|e| CallbackError::Malformed(e.to_string()))?;
        let signature = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
            .map_err(|e| CallbackError::Malformed(e.to_string()))?
            .get(SIGNATURE_FIELD)
            .and_then(|v| v.as_str().map(str::to_owned))
            .ok_or(CallbackError::MissingSignature)?;
        // Every secret is tried, so the time taken does not tell which one matched.
        let matched = self.signers.iter().fold(false, |found, signer| {
            signer.verify(params.values(), &signature) | found
        });
        if matched {
            Ok(params)
        } else {
            Err(CallbackError::BadSignature(SignatureMismatch::new(
                params.masked_message(),
            )))
        }
    }
}
