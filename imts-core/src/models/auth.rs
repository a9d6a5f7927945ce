//! Get token and Refresh token.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::values::Timestamp;
use crate::wire_object;

/// An access or refresh token: zeroized on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Zeroizing<String>);

impl Token {
    /// Wraps a token.
    #[must_use]
    pub fn new(token: impl Into<String>) -> Self {
        Self(Zeroizing::new(token.into()))
    }

    /// The token, for an `Authorization` header.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

// The only field is `Zeroizing`.
impl zeroize::ZeroizeOnDrop for Token {}

impl crate::wire::sealed::Sealed for Token {}
impl crate::wire::SignValue for Token {
    // Tokens are never signed (and never rendered): keep them on the JSON path.
    fn sign_text(&self) -> crate::wire::SignText<'_> {
        crate::wire::SignText::Unsupported
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Serialize for Token {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::new(String::deserialize(deserializer)?))
    }
}

wire_object! {
    /// The answer of Get token and Refresh token: a token pair and their expiry times.
    pub struct TokenResponse {
        /// Sent as `Authorization: Bearer` on every other call.
        pub access_token: Token,
        /// Used once to obtain a new pair.
        pub refresh_token: Token,
        /// When the access token stops working.
        pub access_expire_at: Timestamp,
        /// When the refresh token stops working.
        pub refresh_expire_at: Timestamp,
    }
}
