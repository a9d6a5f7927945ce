//! The contract as an OpenAPI 3.1 document (`openapi/imts.yaml`), written from the code: paths,
//! methods and signing from the endpoint table (`imts_core::ENDPOINTS`), schemas from the wire
//! models (`imts_core::schema`), errors and grades from [`operations::OPERATIONS`], and the
//! sandbox's control API from [`control`]. A test regenerates it and fails when the checked-in
//! file differs (`IMTS_BLESS=1` rewrites it).
//!
//! ```
//! let yaml = imts_sandbox::openapi::document();
//! assert!(yaml.starts_with("openapi: \"3.1.0\"\n"));
//! assert!(yaml.contains("operationId: \"createTransfer\""));
//! ```

pub mod control;
pub mod operations;
pub mod yaml;

use imts_core::endpoint::PATH_PREFIX;
use imts_core::models::{StatusUpdate, TransferReceived};
use imts_core::schema::{Components, WireSchema};
use imts_core::signature::{SALT_FIELD, SIGNATURE_FIELD};
use serde_json::{json, Map, Value};

use operations::{ErrorAnswer, Operation, OPERATIONS};

/// The tag of the 17 IMTS operations.
pub const IMTS_TAG: &str = "imts";
/// The tag of the sandbox's control API (not part of IMTS).
pub const CONTROL_TAG: &str = "sandbox-control";

/// The whole document, as YAML.
#[must_use]
pub fn document() -> String {
    let mut components = Components::default();
    let error_envelope = error_envelope(&mut components);
    let mut paths = Map::new();
    for operation in &OPERATIONS {
        let spec = operation.endpoint.spec();
        let path = format!("{PATH_PREFIX}/{}", spec.path);
        let method = spec.method.to_http().as_str().to_ascii_lowercase();
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[method] = imts_operation(operation, &error_envelope, &mut components);
    }
    control::paths(&mut paths, &error_envelope);
    let webhooks = json!({
        "statusUpdate": webhook(
            "A transfer's status changed (creation included), sent to the partner that created it",
            StatusUpdate::schema(&mut components),
        ),
        "transferReceived": webhook(
            "A transfer became collectable (process), sent to the receiving agent it is directed to, or for an on-demand transfer to every other partner",
            TransferReceived::schema(&mut components),
        ),
    });
    let mut schemas: Map<String, Value> = components.into_schemas().into_iter().collect();
    schemas.insert("GetTokenRequest".into(), get_token_request());
    schemas.insert("RefreshTokenRequest".into(), refresh_token_request());
    let sections = [
        ("openapi", json!("3.1.0")),
        ("info", info()),
        (
            "servers",
            json!([
                { "url": "http://127.0.0.1:8080", "description": "the SDK's sandbox (imts sandbox --port 8080)" },
                { "url": imts_core::config::PRODUCTION_URL, "description": "production" },
                { "url": imts_core::config::PROVIDER_TEST_URL, "description": "the provider's test host", "x-imts-inferred": true },
            ]),
        ),
        (
            "tags",
            json!([
                { "name": IMTS_TAG, "description": "The partner Transfer API of IMTS" },
                { "name": CONTROL_TAG, "description": "The sandbox's control API under /sandbox/v1/ and its counters: not part of IMTS" },
            ]),
        ),
        ("x-imts-signature", signature_extension()),
        ("paths", Value::Object(paths)),
        ("webhooks", webhooks),
        (
            "components",
            json!({
                "schemas": schemas,
                "securitySchemes": {
                    "bearer": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "The access_token of Get token (the refresh_token for Refresh token)",
                    },
                    "controlToken": {
                        "type": "http",
                        "scheme": "bearer",
                        "description": "The sandbox's --control-token, when one is set",
                    },
                },
            }),
        ),
    ];
    yaml::document(&sections)
}

fn info() -> Value {
    json!({
        "title": "Freedom Pay IMTS partner Transfer API",
        "version": env!("CARGO_PKG_VERSION"),
        "summary": "The 17 Transfer endpoints, their callbacks, and the SDK sandbox's control API",
        "description": "Generated from the Rust SDK's endpoint table and wire models (imts-sandbox's openapi module); do not edit by hand. Items the provider does not publish are marked x-imts-inferred: true (docs/contract.md grades every one). Every successful call answers HTTP 200 with JSON; every failed one a non-2xx status with the error envelope. Requests may carry fields this document does not list: servers keep them, and they are signed like any other.",
        "license": { "name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0" },
    })
}

/// How `pg_sig` is computed (`docs/contract.md`, "Signature").
fn signature_extension() -> Value {
    json!({
        "field": SIGNATURE_FIELD,
        "in": "the JSON body of a POST, the query string of a GET",
        "algorithm": "HMAC-SHA256 keyed by the agent_secret, lowercase hex",
        "message": "every parameter except pg_sig, nested keys flattened as parent.child and array items as parent.0 [inferred], sorted by key byte-wise; null and empty strings dropped; booleans as 1 and 0 [inferred]; numbers as written; each value followed by ';', then the agent_secret appended",
        "salt": format!("{SALT_FIELD}: optional, signed like any other field [inferred]"),
        "verification": "constant time",
        "vectors": "vectors/pg_sig.json",
        "x-imts-inferred": true,
    })
}

fn error_envelope(components: &mut Components) -> Value {
    let code = imts_core::enums::ErrorCode::schema(components);
    components.define("ErrorEnvelope", |_| {
        json!({
            "type": "object",
            "description": "A failed call's answer. error_code is one the contract names; a server may add codes, which clients keep as text.",
            "required": ["status", "error_code", "error_description"],
            "properties": {
                "status": { "const": "error" },
                "error_code": { "type": "string", "examples": code["enum"] },
                "error_description": { "type": "string" },
                "errors": {
                    "type": "object",
                    "description": "Messages per field, for validation errors",
                    "additionalProperties": { "type": "array", "items": { "type": "string" } },
                },
            },
            "x-imts-inferred": true,
        })
    })
}

/// An error answer: the envelope with the codes this status carries.
fn error_response(answer: &ErrorAnswer, envelope: &Value) -> Value {
    json!({
        "description": format!("error: {}", answer.codes.join(", ")),
        "content": { "application/json": { "schema": {
            "allOf": [
                envelope,
                { "properties": { "error_code": { "enum": answer.codes } } },
            ],
        } } },
    })
}

fn imts_operation(operation: &Operation, envelope: &Value, components: &mut Components) -> Value {
    let spec = operation.endpoint.spec();
    let mut responses = Map::new();
    let mut ok = json!({
        "description": "success",
        "content": { "application/json": { "schema": (operation.response)(components) } },
    });
    let links = operations::links(operation.endpoint);
    if links.as_object().is_some_and(|links| !links.is_empty()) {
        ok["links"] = links;
    }
    responses.insert("200".into(), ok);
    for answer in operations::errors(operation) {
        responses.insert(answer.status.to_string(), error_response(&answer, envelope));
    }
    let mut out = json!({
        "operationId": operation.id,
        "summary": operation.summary,
        "tags": [IMTS_TAG],
        "responses": responses,
        "x-imts-sdk-method": operation.sdk_method,
        "x-imts-retry": format!("{:?}", spec.retry),
    });
    if let Some(grade) = operation.inferred {
        out["x-imts-inferred"] = json!(true);
        out["x-imts-grade"] = json!(grade);
    }
    match operation.endpoint {
        imts_core::Endpoint::GetToken => {
            out["security"] = json!([]);
            out["requestBody"] = json!({
                "required": true,
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/GetTokenRequest" } } },
            });
        }
        imts_core::Endpoint::RefreshToken => {
            out["security"] = json!([{ "bearer": [] }, {}]);
            out["requestBody"] = json!({
                "required": false,
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RefreshTokenRequest" } } },
            });
        }
        _ => {
            out["security"] = json!([{ "bearer": [] }]);
            let object = (operation.request)(components).unwrap_or_else(|| json!({}));
            if operations::in_query(operation) {
                out["parameters"] = query_parameters(&object);
                out["x-imts-signature"] = json!({ "in": "query" });
            } else {
                out["requestBody"] = json!({
                    "required": true,
                    "content": { "application/json": { "schema": signed_body(object) } },
                });
                out["x-imts-signature"] = json!({ "in": "body" });
            }
        }
    }
    out
}

fn signature_property() -> Value {
    json!({
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
        "description": "HMAC-SHA256 of the other parameters (see x-imts-signature at the top)",
        "x-imts-signature": true,
    })
}

fn salt_property() -> Value {
    json!({
        // `null`, like an empty string, is dropped from the signature.
        "type": ["string", "null"],
        "description": "A random salt, signed like any other field (SignatureScheme::Salted)",
        "x-imts-inferred": true,
    })
}

/// A request object with `pg_sig` (required) and `pg_salt` added.
fn signed_body(mut object: Value) -> Value {
    if let Some(properties) = object["properties"].as_object_mut() {
        properties.insert(SIGNATURE_FIELD.into(), signature_property());
        properties.insert(SALT_FIELD.into(), salt_property());
    }
    match object["required"].as_array_mut() {
        Some(required) => required.push(SIGNATURE_FIELD.into()),
        None => object["required"] = json!([SIGNATURE_FIELD]),
    }
    object
}

/// A GET's parameters: one query parameter per field (an optional field's `null` alternative
/// dropped: a query has no null), plus `pg_sig` and `pg_salt`.
fn query_parameters(object: &Value) -> Value {
    let required: Vec<&str> = object["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut parameters = Vec::new();
    if let Some(properties) = object["properties"].as_object() {
        for (name, schema) in properties {
            let mut schema = schema.clone();
            let description = schema.as_object_mut().and_then(|s| s.remove("description"));
            if let Some(inner) = schema["anyOf"].get(0).cloned() {
                schema = inner;
            }
            let mut parameter = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": schema,
            });
            if let Some(description) = description {
                parameter["description"] = description;
            }
            parameters.push(parameter);
        }
    }
    parameters.push(json!({
        "name": SIGNATURE_FIELD, "in": "query", "required": true, "schema": signature_property(),
    }));
    parameters.push(json!({
        "name": SALT_FIELD, "in": "query", "required": false, "schema": salt_property(),
    }));
    Value::Array(parameters)
}

fn webhook(summary: &str, schema: Value) -> Value {
    json!({ "post": {
        "summary": summary,
        "description": "Signed with the receiving partner's agent_secret, pg_sig in the body. Without an acknowledgement IMTS retries every 15 minutes, 3 times, then never again; notification_id is the same on every retry.",
        "x-imts-inferred": true,
        "requestBody": { "required": true, "content": { "application/json": { "schema": schema } } },
        "responses": {
            "200": {
                "description": "acknowledged",
                "content": { "application/json": { "schema": {
                    "type": "object",
                    "required": ["status"],
                    "properties": { "status": { "const": "ok" } },
                } } },
            },
        },
    } })
}

fn get_token_request() -> Value {
    json!({
        "type": "object",
        "description": "The partner's credentials",
        "required": ["agent_id", "agent_secret"],
        "properties": {
            "agent_id": { "type": "string" },
            "agent_secret": { "type": "string", "format": "password", "writeOnly": true },
        },
    })
}

fn refresh_token_request() -> Value {
    json!({
        "type": "object",
        "description": "The refresh token in the body instead of the Authorization header (RefreshStyle::Body)",
        "properties": { "refresh_token": { "type": ["string", "null"], "writeOnly": true } },
        "x-imts-inferred": true,
    })
}
