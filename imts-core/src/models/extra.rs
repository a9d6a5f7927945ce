//! Unknown fields, kept exactly.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::value::RawValue;

/// Fields of a wire object that this version does not know, kept as their exact JSON text.
///
/// Every request and response has an `extra: Extra` field. A field the provider adds (or that
/// this version does not model) is decoded into it with its exact JSON text and written back
/// unchanged, so a round trip never loses data; an amount keeps its digits. A request with extra
/// fields is signed over all of them, like any other field.
///
/// ```
/// use imts_core::models::{CancelRequest, Extra};
///
/// let mut request = CancelRequest::new("0f8fad5b-d9cb-469f-a165-70867728950e".parse()?);
/// request.extra.insert("branch_code", r#""ALA-01""#)?;
/// assert_eq!(request.extra.get("branch_code"), Some(r#""ALA-01""#));
/// assert!(Extra::default().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Default)]
pub struct Extra(pub BTreeMap<String, Box<RawValue>>);

impl Extra {
    /// Whether there are no unknown fields.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw JSON text of an unknown field.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|raw| raw.get())
    }

    /// Adds (or replaces) an unknown field from its JSON text.
    ///
    /// # Errors
    /// When `json` is not valid JSON.
    pub fn insert(&mut self, key: impl Into<String>, json: &str) -> Result<(), serde_json::Error> {
        self.0
            .insert(key.into(), RawValue::from_string(json.to_owned())?);
        Ok(())
    }
}

impl PartialEq for Extra {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len()
            && self
                .0
                .iter()
                .zip(&other.0)
                .all(|((ka, va), (kb, vb))| ka == kb && va.get() == vb.get())
    }
}

impl fmt::Debug for Extra {
    // Unknown fields may hold anything, personal data included: only their names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}
