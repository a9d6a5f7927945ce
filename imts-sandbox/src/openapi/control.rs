//! The sandbox's control API (`/sandbox/v1/`) and its counters (`/sandbox/stats`) as OpenAPI
//! paths, tagged apart from IMTS. Their bodies are the sandbox's own serde types, restated here;
//! the schemathesis run checks both directions against the server.

use imts_core::enums::{ErrorCode, TransferStatus};
use serde_json::{json, Map, Value};

use super::operations::{
    ErrorAnswer, INVALID_STATUS, NOT_FOUND, TOO_LARGE, UNAUTHORIZED, VALIDATION,
};
use super::{error_response, CONTROL_TAG};
use crate::control::{MAX_CLOCK_ADVANCE_SECONDS, PREFIX};
use crate::delivery::MAX_DELAY_MS;

fn strings<T>(known: &[T], text: impl Fn(&T) -> &str) -> Vec<Value> {
    known.iter().map(|v| Value::from(text(v))).collect()
}

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn answer(status: &str, description: &str, schema: Value) -> (String, Value) {
    (
        status.to_owned(),
        json!({ "description": description, "content": { "application/json": { "schema": schema } } }),
    )
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string", "minLength": 1 }, "description": description })
}

/// One control operation: its own answers plus 401 (a control token is set and missing), 413
/// and the errors it lists.
fn operation(
    id: &str,
    summary: &str,
    envelope: &Value,
    answers: Vec<(String, Value)>,
    errors: &[ErrorAnswer],
) -> Value {
    let mut responses: Map<String, Value> = answers.into_iter().collect();
    for answer in [UNAUTHORIZED, TOO_LARGE].iter().chain(errors) {
        responses.insert(answer.status.to_string(), error_response(answer, envelope));
    }
    json!({
        "operationId": id,
        "summary": summary,
        "tags": [CONTROL_TAG],
        "security": [{}, { "controlToken": [] }],
        "responses": responses,
    })
}

fn delivery_controls() -> Value {
    json!({
        "type": "object",
        "description": "An agent's delivery controls; each absent one is off",
        "properties": {
            "paused": { "type": "boolean", "description": "hold new notifications until unpaused, then send them in order" },
            "drop_next": { "type": "integer", "minimum": 0, "maximum": u32::MAX, "description": "lose the next N (logged lost)" },
            "duplicate": { "type": "boolean", "description": "deliver each twice, the same bytes" },
            "delay_ms": { "type": "integer", "minimum": 0, "maximum": MAX_DELAY_MS, "description": "wait this long before the first attempt" },
            "out_of_order": { "type": "boolean", "description": "hold each until the next is made, send the newer first" },
        },
    })
}

fn logged_callback() -> Value {
    json!({
        "type": "object",
        "required": ["notification_id", "type", "transfer_id", "recipient", "agent_id", "payload", "attempts", "state"],
        "properties": {
            "notification_id": { "type": "string" },
            "type": { "type": "string", "enum": ["status_update", "transfer_received"] },
            "transfer_id": { "type": "string" },
            "recipient": { "type": "string", "description": "the callback URL" },
            "agent_id": { "type": "string" },
            "payload": { "type": "object", "description": "the signed body, as sent" },
            "attempts": { "type": "array", "items": {
                "type": "object",
                "required": ["status", "acknowledged"],
                "properties": {
                    "status": { "type": ["integer", "null"], "description": "the receiver's HTTP status; null when it could not be reached" },
                    "acknowledged": { "type": "boolean" },
                },
            } },
            "state": { "type": "string", "enum": ["pending", "acknowledged", "abandoned", "lost"] },
        },
    })
}

fn counters() -> Value {
    let count = json!({ "type": "integer", "minimum": 0 });
    let per_key = json!({ "type": "object", "additionalProperties": count });
    json!({
        "type": "object",
        "properties": {
            "calls": per_key, "auth": count, "refresh": count, "transfers_per_order_id": per_key,
            "callbacks_sent": count, "callbacks_acknowledged": count, "callbacks_abandoned": count,
            "callbacks_lost": count, "callbacks_refused_outage": count, "faults": per_key,
            "transfers_forgotten": count,
        },
    })
}

/// Adds the control API's paths.
pub fn paths(paths: &mut Map<String, Value>, envelope: &Value) {
    let transfer = json!({ "$ref": "#/components/schemas/Transfer" });
    let statuses = strings(TransferStatus::KNOWN, TransferStatus::as_str);
    let codes = strings(ErrorCode::KNOWN, ErrorCode::as_str);
    let control = |rest: &str| format!("{PREFIX}{rest}");

    let mut advance = operation(
        "sandboxAdvanceTransfer",
        "Moves a transfer along a life-cycle edge (or forces error), notifying as IMTS would",
        envelope,
        vec![answer("200", "the transfer as it now is", transfer)],
        &[NOT_FOUND, INVALID_STATUS, VALIDATION],
    );
    advance["parameters"] = json!([path_parameter("transfer_id", "the transfer")]);
    advance["requestBody"] = json_body(json!({
        "type": "object",
        "required": ["to"],
        "additionalProperties": false,
        "properties": {
            "to": { "type": "string", "enum": statuses },
            "error_code": { "type": "string", "enum": codes, "description": "with to: error (default aml_rejected)" },
        },
    }));
    paths.insert(
        control("transfers/{transfer_id}/advance"),
        json!({ "post": advance }),
    );

    let list = operation(
        "sandboxListCallbacks",
        "Every notification, oldest first (the last 10,000), with its attempts",
        envelope,
        vec![answer(
            "200",
            "the log",
            json!({ "type": "object", "required": ["callbacks"], "properties": { "callbacks": { "type": "array", "items": logged_callback() } } }),
        )],
        &[],
    );
    paths.insert(control("callbacks"), json!({ "get": list }));

    let mut resend = operation(
        "sandboxResendCallback",
        "Delivers a notification again: same id, same bytes, the usual retries",
        envelope,
        vec![answer(
            "202",
            "resending",
            json!({ "type": "object", "required": ["notification_id"], "properties": { "notification_id": { "type": "string" } } }),
        )],
        &[NOT_FOUND],
    );
    resend["parameters"] = json!([path_parameter("notification_id", "the notification")]);
    paths.insert(
        control("callbacks/{notification_id}/resend"),
        json!({ "post": resend }),
    );

    let mut clock = operation(
        "sandboxAdvanceClock",
        "Moves the sandbox's clock forward (token expiry, callback retries)",
        envelope,
        vec![answer(
            "200",
            "the sandbox's time",
            json!({ "type": "object", "required": ["now"], "properties": { "now": { "type": "string", "format": "date-time" } } }),
        )],
        &[VALIDATION],
    );
    clock["requestBody"] = json_body(json!({
        "type": "object",
        "required": ["seconds"],
        "additionalProperties": false,
        "properties": { "seconds": { "type": "integer", "minimum": 0, "maximum": MAX_CLOCK_ADVANCE_SECONDS } },
    }));
    paths.insert(control("clock/advance"), json!({ "post": clock }));

    let controls_answer = json!({
        "type": "object",
        "required": ["controls", "held"],
        "properties": { "controls": delivery_controls(), "held": { "type": "integer", "minimum": 0 } },
    });
    let agent = json!([path_parameter("agent_id", "a registered partner")]);
    let mut read = operation(
        "sandboxGetDelivery",
        "An agent's delivery controls and how many notifications they hold",
        envelope,
        vec![answer("200", "the controls", controls_answer.clone())],
        &[NOT_FOUND],
    );
    read["parameters"] = agent.clone();
    let mut set = operation(
        "sandboxSetDelivery",
        "Replaces an agent's delivery controls ({} turns all off)",
        envelope,
        vec![answer("200", "the controls", controls_answer)],
        &[NOT_FOUND, VALIDATION],
    );
    set["parameters"] = agent;
    set["requestBody"] = json_body(delivery_controls());
    paths.insert(
        control("agents/{agent_id}/delivery"),
        json!({ "get": read, "post": set }),
    );

    let mut emit = operation(
        "sandboxEmitCallback",
        "New notifications for a transfer as it is now",
        envelope,
        vec![answer(
            "202",
            "the notifications made",
            json!({ "type": "object", "required": ["notifications"], "properties": { "notifications": { "type": "array", "items": { "type": "string" } } } }),
        )],
        &[NOT_FOUND, INVALID_STATUS, VALIDATION],
    );
    emit["requestBody"] = json_body(json!({
        "type": "object",
        "required": ["transfer_id", "type"],
        "additionalProperties": false,
        "properties": {
            "transfer_id": { "type": "string" },
            "type": { "type": "string", "enum": ["status_update", "transfer_received"] },
        },
    }));
    paths.insert(control("callbacks/emit"), json!({ "post": emit }));

    let stats = json!({
        "operationId": "sandboxStats",
        "summary": "The sandbox's counters (no authentication)",
        "tags": [CONTROL_TAG],
        "security": [{}],
        "responses": { "200": { "description": "the counters", "content": { "application/json": { "schema": counters() } } } },
    });
    paths.insert("/sandbox/stats".into(), json!({ "get": stats }));
}
