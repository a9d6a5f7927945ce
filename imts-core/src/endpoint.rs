//! The endpoint table: every fact about the 17 endpoints in one piece of data. Changing a path or
//! a method is a one-line change here.

use std::borrow::Cow;

use crate::lifecycle::TransferOperation;

/// Every path starts with this prefix (`imts-api.md` section 1) \[D\].
pub const PATH_PREFIX: &str = "/v5/partner/transfer";

/// The 17 endpoints of the Transfer API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)] // The table below documents each one.
pub enum Endpoint {
    GetToken,
    RefreshToken,
    GetAgents,
    Fees,
    CreatePerson,
    CreateBusiness,
    CreateTransfer,
    PrintApplication,
    Confirm,
    Search,
    Payout,
    PayoutConfirm,
    Cancel,
    PersonInfo,
    BusinessInfo,
    Status,
    Info,
}

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Parameters in a signed query string.
    Get,
    /// Parameters in a JSON body.
    Post,
    /// Refresh token.
    Patch,
}

impl Method {
    /// As an `http` method.
    #[must_use]
    pub fn to_http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Patch => http::Method::PATCH,
        }
    }
}

/// How a call may be repeated after a failure whose outcome is uncertain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Token exchange: repeatable (a refused refresh falls back to authentication).
    Token,
    /// Changes nothing: retried on transport errors, 429 and 5xx.
    Read,
    /// Create transfer: looked up by `order_id`, resent with the same `order_id` only if absent.
    Create,
    /// A state transition: the status is read, and "already done" is success.
    Transition(TransferOperation),
    /// No idempotency key and no way to look the result up: never resent after the request
    /// may have reached the server.
    Never,
}

/// One row of the endpoint table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointSpec {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Short name (`imts call NAME`, tracing, errors).
    pub name: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path after [`PATH_PREFIX`] (the sandbox's `--fault` names endpoints by it).
    pub path: &'static str,
    /// Carries `pg_sig`.
    pub signed: bool,
    /// Carries `encrypted_data`.
    pub encrypted: bool,
    /// How it may be repeated.
    pub retry: Retry,
    /// A field present in every successful answer, telling a result from an error envelope
    /// sent with HTTP 200 (`imts-api.md` section 10).
    pub result_field: Option<&'static str>,
}

use Endpoint as E;
use Method::{Get, Patch, Post};
use TransferOperation as Op;

macro_rules! row {
    ($e:expr, $name:literal, $m:expr, $path:literal, $signed:literal, $enc:literal, $retry:expr, $field:expr) => {
        EndpointSpec {
            endpoint: $e,
            name: $name,
            method: $m,
            path: $path,
            signed: $signed,
            encrypted: $enc,
            retry: $retry,
            result_field: $field,
        }
    };
}

/// The table (`imts-api.md` section 7).
pub static ENDPOINTS: [EndpointSpec; 17] = [
    row!(
        E::GetToken,
        "get-token",
        Post,
        "agent/auth",
        false,
        false,
        Retry::Token,
        Some("access_token")
    ),
    row!(
        E::RefreshToken,
        "refresh-token",
        Patch,
        "agent/auth",
        false,
        false,
        Retry::Token,
        Some("access_token")
    ),
    row!(
        E::GetAgents,
        "agents",
        Get,
        "agents",
        true,
        false,
        Retry::Read,
        Some("agents")
    ),
    row!(
        E::Fees,
        "fees",
        Post,
        "fees",
        true,
        false,
        Retry::Read,
        Some("fee")
    ),
    row!(
        E::CreatePerson,
        "person-create",
        Post,
        "person/create",
        true,
        true,
        Retry::Never,
        Some("client_uuid")
    ),
    row!(
        E::CreateBusiness,
        "business-create",
        Post,
        "business/create",
        true,
        true,
        Retry::Never,
        Some("client_uuid")
    ),
    row!(
        E::CreateTransfer,
        "create",
        Post,
        "create",
        true,
        false,
        Retry::Create,
        Some("transfer_id")
    ),
    row!(
        E::PrintApplication,
        "print",
        Post,
        "print",
        true,
        false,
        Retry::Read,
        Some("document")
    ),
    row!(
        E::Confirm,
        "confirm",
        Post,
        "confirm",
        true,
        false,
        Retry::Transition(Op::Confirm),
        Some("transfer_id")
    ),
    row!(
        E::Search,
        "search",
        Post,
        "search",
        true,
        false,
        Retry::Read,
        Some("transfers")
    ),
    row!(
        E::Payout,
        "payout",
        Post,
        "payout",
        true,
        true,
        Retry::Transition(Op::Payout),
        Some("transfer_id")
    ),
    row!(
        E::PayoutConfirm,
        "payout-confirm",
        Post,
        "payout/confirm",
        true,
        false,
        Retry::Transition(Op::PayoutConfirm),
        Some("transfer_id")
    ),
    row!(
        E::Cancel,
        "cancel",
        Post,
        "cancel",
        true,
        false,
        Retry::Transition(Op::Cancel),
        Some("transfer_id")
    ),
    row!(
        E::PersonInfo,
        "person-info",
        Post,
        "person/info",
        true,
        false,
        Retry::Read,
        Some("client_uuid")
    ),
    row!(
        E::BusinessInfo,
        "business-info",
        Post,
        "business/info",
        true,
        false,
        Retry::Read,
        Some("client_uuid")
    ),
    row!(
        E::Status,
        "status",
        Get,
        "status",
        true,
        false,
        Retry::Read,
        Some("transfer_id")
    ),
    row!(
        E::Info,
        "info",
        Get,
        "info",
        true,
        false,
        Retry::Read,
        Some("transfer_id")
    ),
];

impl Endpoint {
    /// Every endpoint, in table order.
    pub fn all() -> impl Iterator<Item = Endpoint> {
        ENDPOINTS.iter().map(|spec| spec.endpoint)
    }

    /// This endpoint's row.
    #[must_use]
    pub fn spec(self) -> &'static EndpointSpec {
        // The table is in enum order; the fallback search keeps this correct if it is reordered.
        let row = &ENDPOINTS[self as usize];
        if row.endpoint == self {
            row
        } else {
            ENDPOINTS.iter().find(|s| s.endpoint == self).unwrap_or(row)
        }
    }

    /// The full path, prefix included.
    #[must_use]
    pub fn full_path(self) -> String {
        format!("{PATH_PREFIX}/{}", self.spec().path)
    }

    /// Finds an endpoint by its short name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Endpoint> {
        ENDPOINTS
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.endpoint)
    }

    /// Finds an endpoint by method and path (with or without [`PATH_PREFIX`]).
    #[must_use]
    pub fn from_route(method: &http::Method, path: &str) -> Option<Endpoint> {
        let path = path
            .strip_prefix(PATH_PREFIX)
            .unwrap_or(path)
            .trim_matches('/');
        ENDPOINTS
            .iter()
            .find(|s| s.path == path && s.method.to_http() == *method)
            .map(|s| s.endpoint)
    }

    /// The route of this endpoint.
    #[must_use]
    pub fn route(self) -> Route {
        let spec = self.spec();
        Route {
            name: Cow::Borrowed(spec.name),
            method: spec.method.to_http(),
            path: Cow::Owned(self.full_path()),
            signed: spec.signed,
            retry: spec.retry,
            result_field: spec.result_field,
            is_token_exchange: matches!(spec.retry, Retry::Token),
        }
    }
}

/// Where and how one call goes: from the table for typed calls, or made up for a raw call to a
/// path the table does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Name for errors and tracing.
    pub name: Cow<'static, str>,
    /// HTTP method.
    pub method: http::Method,
    /// Full path.
    pub path: Cow<'static, str>,
    /// Carries `pg_sig`.
    pub signed: bool,
    /// How it may be repeated.
    pub retry: Retry,
    /// A field that marks a successful answer.
    pub result_field: Option<&'static str>,
    /// Get token or Refresh token: its answer holds tokens, so a raw body is never kept.
    pub is_token_exchange: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_in_enum_order() {
        for (index, spec) in ENDPOINTS.iter().enumerate() {
            assert_eq!(spec.endpoint as usize, index);
            assert_eq!(Endpoint::from_name(spec.name), Some(spec.endpoint));
        }
        assert_eq!(
            Endpoint::from_route(&http::Method::POST, "/v5/partner/transfer/payout/confirm"),
            Some(Endpoint::PayoutConfirm)
        );
        assert_eq!(Endpoint::Status.full_path(), "/v5/partner/transfer/status");
    }
}
