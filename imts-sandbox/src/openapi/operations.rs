//! The 17 IMTS operations as OpenAPI data: one row per endpoint, beside the endpoint table of
//! `imts-core` (method, path and signing come from there). What the rows add is what the
//! endpoint table does not need: the wire types, the errors each can answer, and how much of it
//! the provider documents.

use imts_core::endpoint::{Endpoint, Method};
use imts_core::models::*;
use imts_core::schema::{Components, WireSchema};
use serde_json::Value;

/// A request's object schema, from its wire type (`None` for the token calls, described by
/// hand since their bodies carry secrets no wire object holds).
pub type RequestSchema = fn(&mut Components) -> Option<Value>;
/// A successful answer's schema.
pub type ResponseSchema = fn(&mut Components) -> Value;

/// An HTTP status an operation can answer with an error envelope, and the codes it carries.
#[derive(Debug, Clone, Copy)]
pub struct ErrorAnswer {
    /// HTTP status.
    pub status: u16,
    /// The `error_code` values of the envelope.
    pub codes: &'static [&'static str],
}

/// One IMTS operation.
pub struct Operation {
    /// The endpoint (method, path, signing: `imts_core::ENDPOINTS`).
    pub endpoint: Endpoint,
    /// The OpenAPI `operationId`.
    pub id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// The request's wire type.
    pub request: RequestSchema,
    /// The answer's wire type.
    pub response: ResponseSchema,
    /// The errors beyond those of every call (see [`errors`]).
    pub errors: &'static [ErrorAnswer],
    /// What the provider documents, as `docs/contract.md` grades it; `None` when all of it is.
    pub inferred: Option<&'static str>,
    /// The client method of the Rust SDK.
    pub sdk_method: &'static str,
}

/// The sandbox's own code for a body over its size limit (IMTS publishes no limit).
pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";

/// The error answers the operations share, one per status and code.
pub(super) const INVALID_SIGNATURE: ErrorAnswer = answer(400, &["invalid_signature"]);
pub(super) const UNAUTHORIZED: ErrorAnswer = answer(401, &["unauthorized"]);
pub(super) const NOT_FOUND: ErrorAnswer = answer(404, &["not_found"]);
pub(super) const INVALID_STATUS: ErrorAnswer = answer(409, &["invalid_status"]);
/// A body over the sandbox's limit (IMTS publishes none).
pub(super) const TOO_LARGE: ErrorAnswer = answer(413, &[PAYLOAD_TOO_LARGE]);
pub(super) const VALIDATION: ErrorAnswer = answer(422, &["validation_error"]);
pub(super) const UNAVAILABLE: ErrorAnswer = answer(503, &["unavailable"]);

const fn answer(status: u16, codes: &'static [&'static str]) -> ErrorAnswer {
    ErrorAnswer { status, codes }
}

fn object<T: WireSchema>(components: &mut Components) -> Option<Value> {
    T::object_schema(components)
}

fn none(_: &mut Components) -> Option<Value> {
    None
}

/// The operations, in endpoint order.
pub static OPERATIONS: [Operation; 17] = [
    Operation {
        endpoint: Endpoint::GetToken,
        id: "getToken",
        summary: "Get token: an access and a refresh token for the partner's credentials",
        request: none,
        response: TokenResponse::schema,
        errors: &[],
        inferred: None,
        sdk_method: "(automatic)",
    },
    Operation {
        endpoint: Endpoint::RefreshToken,
        id: "refreshToken",
        summary: "Refresh token: a new pair for the refresh token (which then stops working)",
        request: none,
        response: TokenResponse::schema,
        errors: &[VALIDATION],
        inferred: Some("method documented, rest inferred"),
        sdk_method: "(automatic)",
    },
    Operation {
        endpoint: Endpoint::GetAgents,
        id: "getAgents",
        summary: "Get agents: the receiving agents, optionally filtered",
        request: object::<GetAgentsRequest>,
        response: AgentsResponse::schema,
        errors: &[],
        inferred: Some("method documented, rest inferred"),
        sdk_method: "agents",
    },
    Operation {
        endpoint: Endpoint::Fees,
        id: "fees",
        summary: "Fees: what a transfer would cost and deliver",
        request: object::<FeesRequest>,
        response: FeesResponse::schema,
        errors: &[],
        inferred: Some("request documented, answer inferred"),
        sdk_method: "fees",
    },
    Operation {
        endpoint: Endpoint::CreatePerson,
        id: "createPerson",
        summary: "Create person: registers a sender (personal data sealed in encrypted_data)",
        request: object::<CreatePersonSealed>,
        response: ClientCreated::schema,
        errors: &[],
        inferred: Some("method documented, rest inferred"),
        sdk_method: "create_person",
    },
    Operation {
        endpoint: Endpoint::CreateBusiness,
        id: "createBusiness",
        summary: "Create business: registers a company (sealed in encrypted_data)",
        request: object::<CreateBusinessSealed>,
        response: ClientCreated::schema,
        errors: &[],
        inferred: Some("method documented, rest inferred"),
        sdk_method: "create_business",
    },
    Operation {
        endpoint: Endpoint::CreateTransfer,
        id: "createTransfer",
        summary: "Create transfer: idempotent by order_id",
        request: object::<CreateTransferRequest>,
        response: Transfer::schema,
        errors: &[NOT_FOUND, answer(409, &["duplicate_order_id"])],
        inferred: Some("path and first fields documented, rest inferred"),
        sdk_method: "create_transfer",
    },
    Operation {
        endpoint: Endpoint::PrintApplication,
        id: "printApplication",
        summary: "Print application: the PDF the sender signs",
        request: object::<PrintApplicationRequest>,
        response: PrintedApplication::schema,
        errors: &[NOT_FOUND],
        inferred: Some("method documented, rest inferred"),
        sdk_method: "print_application",
    },
    Operation {
        endpoint: Endpoint::Confirm,
        id: "confirm",
        summary: "Confirm: new becomes process (or error when the sender fails AML)",
        request: object::<ConfirmRequest>,
        response: Transfer::schema,
        errors: &[NOT_FOUND, INVALID_STATUS],
        inferred: Some("path documented, rest inferred"),
        sdk_method: "confirm",
    },
    Operation {
        endpoint: Endpoint::Search,
        id: "search",
        summary: "Search, as receiving agent: transfers in process this agent may pay out",
        request: object::<SearchRequest>,
        response: SearchResponse::schema,
        errors: &[],
        inferred: Some("method documented, rest inferred"),
        sdk_method: "search",
    },
    Operation {
        endpoint: Endpoint::Payout,
        id: "payout",
        summary: "Payout, as receiving agent: process becomes waiting (or error)",
        request: object::<PayoutSealed>,
        response: Transfer::schema,
        errors: &[NOT_FOUND, INVALID_STATUS],
        inferred: Some("path documented, rest inferred"),
        sdk_method: "payout",
    },
    Operation {
        endpoint: Endpoint::PayoutConfirm,
        id: "payoutConfirm",
        summary: "Payout confirm: waiting becomes success",
        request: object::<PayoutConfirmRequest>,
        response: Transfer::schema,
        errors: &[NOT_FOUND, INVALID_STATUS],
        inferred: Some("path documented, rest inferred"),
        sdk_method: "payout_confirm",
    },
    Operation {
        endpoint: Endpoint::Cancel,
        id: "cancel",
        summary: "Cancel: from new, process or waiting to canceled",
        request: object::<CancelRequest>,
        response: Transfer::schema,
        errors: &[NOT_FOUND, INVALID_STATUS],
        inferred: Some("path documented, rest inferred"),
        sdk_method: "cancel",
    },
    Operation {
        endpoint: Endpoint::PersonInfo,
        id: "personInfo",
        summary: "Get person info: the stored profile, encrypted for the partner",
        request: object::<PersonInfoRequest>,
        response: ClientInfo::schema,
        errors: &[NOT_FOUND],
        inferred: Some("method documented, rest inferred"),
        sdk_method: "person_info",
    },
    Operation {
        endpoint: Endpoint::BusinessInfo,
        id: "businessInfo",
        summary: "Get business info: the stored profile, encrypted for the partner",
        request: object::<BusinessInfoRequest>,
        response: ClientInfo::schema,
        errors: &[NOT_FOUND],
        inferred: Some("method documented, rest inferred"),
        sdk_method: "business_info",
    },
    Operation {
        endpoint: Endpoint::Status,
        id: "status",
        summary: "Status: a transfer's status by transfer_id or order_id",
        request: object::<StatusRequest>,
        response: StatusResponse::schema,
        errors: &[NOT_FOUND],
        inferred: Some("method documented, rest inferred"),
        sdk_method: "status",
    },
    Operation {
        endpoint: Endpoint::Info,
        id: "info",
        summary: "Info: the full transfer by transfer_id or order_id",
        request: object::<InfoRequest>,
        response: Transfer::schema,
        errors: &[NOT_FOUND],
        inferred: Some("method documented, rest inferred"),
        sdk_method: "info",
    },
];

/// Every error an operation can answer: those of every call of its kind, then its own.
#[must_use]
pub fn errors(operation: &Operation) -> Vec<ErrorAnswer> {
    let spec = operation.endpoint.spec();
    let mut answers = vec![UNAUTHORIZED, TOO_LARGE, UNAVAILABLE];
    if spec.signed {
        // A missing or wrong pg_sig; then the parameters' validation.
        answers.extend([INVALID_SIGNATURE, VALIDATION]);
    }
    answers.extend_from_slice(operation.errors);
    answers.sort_by_key(|answer| answer.status);
    answers
}

/// The OpenAPI links of an operation's successful answer: what a stateful run (and a reader)
/// follows from it. The transfer's path through its life cycle is create -> confirm -> payout ->
/// payout confirm.
#[must_use]
pub fn links(endpoint: Endpoint) -> Value {
    let body = |field: &str| serde_json::json!({ field: format!("$response.body#/{field}") });
    let by_body = |target: &str, field: &str| serde_json::json!({ "operationId": target, "requestBody": body(field) });
    let by_query = |target: &str| {
        serde_json::json!({
            "operationId": target,
            "parameters": { "query.transfer_id": "$response.body#/transfer_id" },
        })
    };
    let mut links = serde_json::Map::new();
    let mut add = |name: &str, link: Value| {
        links.insert(name.to_owned(), link);
    };
    match endpoint {
        Endpoint::CreatePerson => {
            add("CreateTransfer", by_body("createTransfer", "client_uuid"));
            add("PersonInfo", by_body("personInfo", "client_uuid"));
        }
        Endpoint::CreateBusiness => {
            add("CreateTransfer", by_body("createTransfer", "client_uuid"));
            add("BusinessInfo", by_body("businessInfo", "client_uuid"));
        }
        Endpoint::CreateTransfer => {
            add("Confirm", by_body("confirm", "transfer_id"));
            add(
                "PrintApplication",
                by_body("printApplication", "transfer_id"),
            );
            add("Cancel", by_body("cancel", "transfer_id"));
            add("Status", by_query("status"));
        }
        Endpoint::Confirm => {
            add("Payout", by_body("payout", "transfer_id"));
            add("Cancel", by_body("cancel", "transfer_id"));
            add("Info", by_query("info"));
        }
        Endpoint::Payout => {
            add("PayoutConfirm", by_body("payoutConfirm", "transfer_id"));
            add("Cancel", by_body("cancel", "transfer_id"));
        }
        Endpoint::PayoutConfirm => add("Status", by_query("status")),
        _ => {}
    }
    Value::Object(links)
}

/// Whether the operation's parameters travel in the query string.
#[must_use]
pub fn in_query(operation: &Operation) -> bool {
    operation.endpoint.spec().method == Method::Get
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rows_follow_the_endpoint_table() {
        for (row, spec) in OPERATIONS.iter().zip(imts_core::ENDPOINTS.iter()) {
            assert_eq!(row.endpoint, spec.endpoint, "{}", row.id);
        }
    }

    #[test]
    fn every_error_code_is_one_the_contract_names() {
        for row in &OPERATIONS {
            for answer in errors(row) {
                for code in answer.codes {
                    let known = !matches!(
                        imts_core::enums::ErrorCode::from(*code),
                        imts_core::enums::ErrorCode::Unknown(_)
                    );
                    assert!(known || *code == PAYLOAD_TOO_LARGE, "{code}");
                }
            }
        }
    }
}
