//! Canonicalization of request parameters for `pg_sig` (`docs/contract.md`, "Signature").
//!
//! Parameters are every field of a JSON body (or every query pair of a GET) except the top-level
//! `pg_sig`. Null, `""`, `[]` and `{}` are dropped; nested objects and arrays are flattened to
//! dotted keys (`parent.child`, `parent.0`); keys are sorted byte-wise; strings are signed as they
//! are, numbers exactly as written in the JSON text (never through a float), booleans as `1`/`0`.

mod flatten;

use std::fmt;

use imts_crypto::{PgSig, Signer, SECRET_MASK};

use flatten::sorted_leaves;

/// The name of the signature field, which is never itself signed.
pub const SIGNATURE_FIELD: &str = "pg_sig";
/// The name of the optional salt field (signed like any other field).
pub const SALT_FIELD: &str = "pg_salt";
/// How `true` is signed (`docs/contract.md`, "Signature", rule 5; inferred).
pub const SIGNED_TRUE: &str = "1";
/// How `false` is signed (`docs/contract.md`, "Signature", rule 5; inferred).
pub const SIGNED_FALSE: &str = "0";
/// How deep nested objects and arrays may go before the body is refused.
pub const MAX_DEPTH: usize = 32;

/// Why a body could not be canonicalized.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonicalError {
    /// The body is not a JSON object.
    #[error("request body is not a JSON object: {0}")]
    NotAnObject(String),
    /// The JSON is malformed.
    #[error("request body is not valid JSON: {0}")]
    InvalidJson(String),
    /// Two fields flatten to the same key (a repeated key, or `a.b` next to `{"a":{"b":..}}`).
    #[error("field `{0}` appears twice")]
    DuplicateKey(String),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("request body nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// The signature did not match.
///
/// Its `Display` and `Debug` say only that: the expected message holds the request's values
/// (a phone number, an amount), so it is shown only where asked for, with
/// [`expected_message`](Self::expected_message) (the sandbox's error answer, `imts verify`), the
/// secret masked. The SDK's callback verifier reports the same type.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("pg_sig does not match")]
pub struct SignatureMismatch {
    masked_message: String,
}

impl SignatureMismatch {
    /// The canonical message that was expected to be signed, `v1;v2;...;***`, with `***` in
    /// place of the agent secret: what a partner needs to find the mismatch.
    #[must_use]
    pub fn expected_message(&self) -> &str {
        &self.masked_message
    }
}

impl fmt::Debug for SignatureMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SignatureMismatch")
    }
}

/// Sorted `(key, value)` pairs ready to be signed.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CanonicalParams {
    pairs: Vec<(String, String)>,
}

impl fmt::Debug for CanonicalParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CanonicalParams")
            .field(
                "keys",
                &self.pairs.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl CanonicalParams {
    /// Canonicalizes a JSON object given as its exact text.
    ///
    /// # Errors
    /// [`CanonicalError`] when the text is not a JSON object, is malformed, repeats a key or nests
    /// too deep.
    pub fn from_json(body: &[u8]) -> Result<Self, CanonicalError> {
        let pairs = sorted_leaves(body)?;
        Ok(Self {
            pairs: pairs
                .into_iter()
                .map(|leaf| (leaf.key.into_owned(), leaf.value.into_owned()))
                .collect(),
        })
    }

    /// Canonicalizes string pairs (a GET query); empty values are dropped, `pg_sig` excluded.
    ///
    /// # Errors
    /// [`CanonicalError::DuplicateKey`] when a key repeats.
    pub fn from_pairs<K, V, I>(pairs: I) -> Result<Self, CanonicalError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let pairs = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(k, v)| !v.is_empty() && k != SIGNATURE_FIELD)
            .collect();
        Self::from_unsorted(pairs)
    }

    /// Canonicalizes a URL query string (`a=1&b=x%20y`), percent-decoding keys and values.
    ///
    /// # Errors
    /// [`CanonicalError::DuplicateKey`] when a key repeats.
    pub fn from_query(query: &str) -> Result<Self, CanonicalError> {
        Self::from_pairs(form_urlencoded::parse(query.as_bytes()).into_owned())
    }

    fn from_unsorted(mut pairs: Vec<(String, String)>) -> Result<Self, CanonicalError> {
        pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(CanonicalError::DuplicateKey(w[0].0.clone()));
        }
        Ok(Self { pairs })
    }

    /// The sorted pairs.
    #[must_use]
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The pairs in signing order, taken (no copy).
    #[must_use]
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs
    }

    /// The values in signing order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(_, v)| v.as_str())
    }

    /// Signs the values.
    #[must_use]
    pub fn sign(&self, signer: &Signer) -> PgSig {
        signer.sign(self.values())
    }

    /// Verifies `signature` in constant time.
    ///
    /// # Errors
    /// [`SignatureMismatch`] with the expected message (secret masked).
    pub fn verify(&self, signer: &Signer, signature: &str) -> Result<(), SignatureMismatch> {
        if signer.verify(self.values(), signature) {
            Ok(())
        } else {
            Err(SignatureMismatch {
                masked_message: self.masked_message(),
            })
        }
    }

    /// The signed message with [`SECRET_MASK`] in place of the secret: `v1;v2;***`.
    #[must_use]
    pub fn masked_message(&self) -> String {
        masked_message(self.values())
    }
}

/// Signs a JSON object body as it is (the signature of [`CanonicalParams::from_json`]),
/// borrowing its keys and values wherever they have no escapes.
///
/// This is the one JSON path: requests built as JSON, the sandbox and the callback verifier all
/// go through it. Its cost is one parse, one sort of the leaves and one linear repeat check.
///
/// # Errors
/// [`CanonicalError`] as for [`CanonicalParams::from_json`].
pub fn sign_json(body: &[u8], signer: &Signer) -> Result<PgSig, CanonicalError> {
    let pairs = sorted_leaves(body)?;
    Ok(signer.sign(pairs.iter().map(|leaf| leaf.value.as_bytes())))
}

/// Verifies `signature` over a JSON object body, in constant time.
///
/// # Errors
/// [`VerifyError::Canonical`] for a body that cannot be canonicalized,
/// [`VerifyError::Mismatch`] with the expected message (secret masked).
pub fn verify_json(body: &[u8], signer: &Signer, signature: &str) -> Result<(), VerifyError> {
    let pairs = sorted_leaves(body)?;
    if signer.verify(pairs.iter().map(|leaf| leaf.value.as_bytes()), signature) {
        return Ok(());
    }
    Err(VerifyError::Mismatch(SignatureMismatch {
        masked_message: masked_message(pairs.iter().map(|leaf| leaf.value.as_ref())),
    }))
}

/// The signed message with [`SECRET_MASK`] in place of the secret: `v1;v2;***`.
fn masked_message<'v>(values: impl Iterator<Item = &'v str>) -> String {
    let mut out = String::new();
    for value in values {
        out.push_str(value);
        out.push(';');
    }
    out.push_str(SECRET_MASK);
    out
}

/// Why [`verify_json`] refused a body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The body is not a canonicalizable JSON object.
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    /// The signature does not match.
    #[error(transparent)]
    Mismatch(#[from] SignatureMismatch),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_non_objects_are_refused() {
        assert_eq!(
            CanonicalParams::from_json(br#"{"a":1,"a":2}"#),
            Err(CanonicalError::DuplicateKey("a".into()))
        );
        let escaped = CanonicalParams::from_json(br#"{"k\u0065y":"a\"b","x":"plain"}"#).unwrap();
        assert_eq!(escaped.pairs()[0], ("key".to_owned(), "a\"b".to_owned()));
        assert_eq!(
            CanonicalParams::from_json(br#"{"a.b":1,"a":{"b":2}}"#),
            Err(CanonicalError::DuplicateKey("a.b".into()))
        );
        assert!(matches!(
            CanonicalParams::from_json(b"[1,2]"),
            Err(CanonicalError::NotAnObject(_))
        ));
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(40), "]".repeat(40));
        assert_eq!(
            CanonicalParams::from_json(deep.as_bytes()),
            Err(CanonicalError::TooDeep)
        );
    }

    #[test]
    fn a_body_with_many_keys_is_handled_in_linear_time() {
        // A quadratic duplicate check would take minutes here (a denial of service on every
        // server that verifies signatures); this must finish like any other test.
        let body: String = format!(
            "{{{}}}",
            (0..200_000)
                .map(|i| format!("\"k{i}\":{i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(
            CanonicalParams::from_json(body.as_bytes())
                .unwrap()
                .pairs()
                .len(),
            200_000
        );
    }

    #[test]
    fn query_pairs_are_decoded_and_pg_sig_is_left_out() {
        let params =
            CanonicalParams::from_query("order_id=ORD%201&pg_sig=abc&transfer_id=").unwrap();
        assert_eq!(
            params.pairs(),
            &[("order_id".to_owned(), "ORD 1".to_owned())]
        );
        assert_eq!(params.masked_message(), "ORD 1;***");
    }
}
