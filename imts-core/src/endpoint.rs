//! The endpoint table: every fact about the 17 endpoints in one piece of data. Changing a path or
//! a method is a one-line change here.

use std::borrow::Cow;

use crate::lifecycle::TransferOperation;

/// Every path starts with this prefix (`docs/contract.md`, "Hosts and paths"; documented).
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
    /// How it may be repeated.
    pub retry: Retry,
    /// A field present in every successful answer, telling a result from an error envelope
    /// sent with HTTP 200 (`docs/contract.md`, "Errors").
    pub result_field: Option<&'static str>,
}

/// Every endpoint's full path, in [`ENDPOINTS`] order, made once (a call's route borrows it).
static FULL_PATHS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    ENDPOINTS
        .iter()
        .map(|spec| format!("{PATH_PREFIX}/{}", spec.path))
        .collect()
});

use Endpoint as E;
use Method::{Get, Patch, Post};
use TransferOperation as Op;

/// The table (`docs/contract.md`, "Endpoints"), in [`Endpoint`] order.
pub static ENDPOINTS: [EndpointSpec; 17] = [
    EndpointSpec {
        endpoint: E::GetToken,
        name: "get-token",
        method: Post,
        path: "agent/auth",
        signed: false,
        retry: Retry::Token,
        result_field: Some("access_token"),
    },
    EndpointSpec {
        endpoint: E::RefreshToken,
        name: "refresh-token",
        method: Patch,
        path: "agent/auth",
        signed: false,
        retry: Retry::Token,
        result_field: Some("access_token"),
    },
    EndpointSpec {
        endpoint: E::GetAgents,
        name: "agents",
        method: Get,
        path: "agents",
        signed: true,
        retry: Retry::Read,
        result_field: Some("agents"),
    },
    EndpointSpec {
        endpoint: E::Fees,
        name: "fees",
        method: Post,
        path: "fees",
        signed: true,
        retry: Retry::Read,
        result_field: Some("fee"),
    },
    EndpointSpec {
        endpoint: E::CreatePerson,
        name: "person-create",
        method: Post,
        path: "person/create",
        signed: true,
        retry: Retry::Never,
        result_field: Some("client_uuid"),
    },
    EndpointSpec {
        endpoint: E::CreateBusiness,
        name: "business-create",
        method: Post,
        path: "business/create",
        signed: true,
        retry: Retry::Never,
        result_field: Some("client_uuid"),
    },
    EndpointSpec {
        endpoint: E::CreateTransfer,
        name: "create",
        method: Post,
        path: "create",
        signed: true,
        retry: Retry::Create,
        result_field: Some("transfer_id"),
    },
    EndpointSpec {
        endpoint: E::PrintApplication,
        name: "print",
        method: Post,
        path: "print",
        signed: true,
        retry: Retry::Read,
        result_field: Some("document"),
    },
    EndpointSpec {
        endpoint: E::Confirm,
        name: "confirm",
        method: Post,
        path: "confirm",
        signed: true,
        retry: Retry::Transition(Op::Confirm),
        result_field: Some("transfer_id"),
    },
    EndpointSpec {
        endpoint: E::Search,
        name: "search",
        method: Post,
        path: "search",
        signed: true,
        retry: Retry::Read,
        result_field: Some("transfers"),
    },
    EndpointSpec {
        endpoint: E::Payout,
        name: "payout",
        method: Post,
        path: "payout",
        signed: true,
        retry: Retry::Transition(Op::Payout),
        result_field: Some("transfer_id"),
    },
    EndpointSpec {
        endpoint: E::PayoutConfirm,
        name: "payout-confirm",
        method: Post,
        path: "payout/confirm",
        signed: true,
        retry: Retry::Transition(Op::PayoutConfirm),
        result_field: Some("transfer_id"),
    },
    EndpointSpec {
        endpoint: E::Cancel,
        name: "cancel",
        method: Post,
        path: "cancel",
        signed: true,
        retry: Retry::Transition(Op::Cancel),
        result_field: Some("transfer_id"),
    },
    EndpointSpec {
        endpoint: E::PersonInfo,
        name: "person-info",
        method: Post,
        path: "person/info",
        signed: true,
        retry: Retry::Read,
        result_field: Some("client_uuid"),
    },
    EndpointSpec {
        endpoint: E::BusinessInfo,
        name: "business-info",
        method: Post,
        path: "business/info",
        signed: true,
        retry: Retry::Read,
        result_field: Some("client_uuid"),
    },
    EndpointSpec {
        endpoint: E::Status,
        name: "status",
        method: Get,
        path: "status",
        signed: true,
        retry: Retry::Read,
        result_field: Some("transfer_id"),
    },
    EndpointSpec {
        endpoint: E::Info,
        name: "info",
        method: Get,
        path: "info",
        signed: true,
        retry: Retry::Read,
        result_field: Some("transfer_id"),
    },
];

/// The request fields sent as JSON numbers (exact decimals), per endpoint; every other request
/// field is a string. Tools that take `KEY=VALUE` text (`imts call`) type values by this table;
/// a test checks it against the typed request models.
pub static NUMBER_FIELDS: &[(Endpoint, &str)] = &[
    (E::Fees, "amount_source"),
    (E::CreateTransfer, "amount_source"),
];

impl Endpoint {
    /// The request fields of this endpoint sent as JSON numbers ([`NUMBER_FIELDS`]).
    pub fn number_fields(self) -> impl Iterator<Item = &'static str> {
        NUMBER_FIELDS
            .iter()
            .filter(move |(endpoint, _)| *endpoint == self)
            .map(|(_, field)| *field)
    }

    /// Every endpoint, in table order.
    pub fn all() -> impl Iterator<Item = Endpoint> {
        ENDPOINTS.iter().map(|spec| spec.endpoint)
    }

    /// This endpoint's row.
    #[must_use]
    pub fn spec(self) -> &'static EndpointSpec {
        &ENDPOINTS[self.row()]
    }

    /// This endpoint's index in [`ENDPOINTS`].
    fn row(self) -> usize {
        // The table is in enum order; the fallback search keeps this correct if it is reordered.
        let index = self as usize;
        if ENDPOINTS[index].endpoint == self {
            index
        } else {
            ENDPOINTS
                .iter()
                .position(|s| s.endpoint == self)
                .unwrap_or(index)
        }
    }

    /// The full path, prefix included.
    #[must_use]
    pub fn full_path(self) -> &'static str {
        FULL_PATHS
            .get(self.row())
            .map_or(PATH_PREFIX, String::as_str)
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
            path: Cow::Borrowed(self.full_path()),
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
