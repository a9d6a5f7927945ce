//! Shared fixtures: credentials, a fake clock, and a scripted in-memory server.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use imts_core::models::{CreateTransferRequest, NewTransfer};
use imts_core::personal::PersonData;
use imts_core::signature::CanonicalParams;
use imts_core::transport::Clock;
use imts_core::values::Money;
use imts_core::{Config, Credentials, TransportError};
use imts_crypto::{AgentSecret, PartnerKey, Signer};
use time::OffsetDateTime;

pub const AGENT_ID: &str = "agent-1";
pub const SECRET: &str = "s3cr3t-Agent-Key";
pub const KEY_HEX: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
pub const TRANSFER_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
pub const CLIENT_UUID: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

pub fn credentials() -> Credentials {
    Credentials::new(AGENT_ID.parse().unwrap(), AgentSecret::new(SECRET).unwrap())
        .with_partner_key(PartnerKey::parse(KEY_HEX).unwrap())
}

pub fn signer() -> Signer {
    Signer::new(AgentSecret::new(SECRET).unwrap())
}

pub fn config() -> Config {
    Config::new("http://imts.test")
}

pub fn t0() -> OffsetDateTime {
    time::macros::datetime!(2026-11-22 10:00:00 UTC)
}

pub fn person(last_name: &str) -> PersonData {
    imts_core::samples::person(last_name).unwrap()
}

/// A Fees request of 100.00 KZT to UZS (the fake server's one quote).
pub fn fees() -> imts_core::models::FeesRequest {
    imts_core::models::FeesRequest::new(
        imts_core::enums::OriginatorType::Person,
        "KAZ".parse().unwrap(),
        Money::new("100.00".parse().unwrap(), "KZT".parse().unwrap()),
        "UZS".parse().unwrap(),
    )
}

/// The sample transfer of 1000.00 KZT.
pub fn create_request(order_id: &str) -> CreateTransferRequest {
    let sample = imts_core::samples::new_transfer(&CLIENT_UUID.parse().unwrap(), order_id).unwrap();
    CreateTransferRequest::new(NewTransfer {
        amount: Money::new("1000.00".parse().unwrap(), "KZT".parse().unwrap()),
        ..sample
    })
}

/// A clock that only moves when slept on: wall time from `t0()`, monotonic time from the
/// instant it was made, both advanced together.
pub struct FakeClock(Mutex<OffsetDateTime>, Instant);

impl FakeClock {
    pub fn new() -> Self {
        Self(Mutex::new(t0()), Instant::now())
    }
    pub fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
    fn monotonic(&self) -> Instant {
        self.1 + Duration::try_from(self.now() - t0()).unwrap()
    }
    fn sleep(&self, duration: Duration) {
        self.advance(duration);
    }
}

pub fn json_response(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

pub fn tokens_body(generation: u32, access_expires: OffsetDateTime) -> String {
    let fmt = |t: OffsetDateTime| imts_core::values::Timestamp::new(t).to_string();
    format!(
        r#"{{"access_token":"access-{generation}","refresh_token":"refresh-{generation}","access_expire_at":"{}","refresh_expire_at":"{}"}}"#,
        fmt(access_expires),
        fmt(access_expires + Duration::from_secs(30 * 86400))
    )
}

/// Checks the pg_sig of a request the way the server does; returns the parameters.
pub fn verify_request(request: &http::Request<Vec<u8>>) -> BTreeMap<String, String> {
    let signature;
    let params = if request.method() == http::Method::GET {
        let query = request.uri().query().unwrap_or_default();
        signature = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "pg_sig")
            .map(|(_, v)| v.into_owned())
            .expect("pg_sig in query");
        CanonicalParams::from_query(query).unwrap()
    } else {
        let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        signature = body["pg_sig"].as_str().expect("pg_sig in body").to_owned();
        CanonicalParams::from_json(request.body()).unwrap()
    };
    params
        .verify(&signer(), &signature)
        .expect("signature verifies");
    params.pairs().iter().cloned().collect()
}

/// What the scripted server decides for one request.
pub enum Fault {
    None,
    /// 503 with `Retry-After: 0`, not applied.
    Unavailable,
    /// Connection refused: not applied.
    DropBefore,
    /// Applied, then the connection drops.
    DropAfter,
    /// No answer in time, and the request was not applied.
    TimeoutNotApplied,
}

/// A tiny model of IMTS: tokens, create (idempotent by order_id), info, confirm.
pub struct FakeServer {
    pub transfers: BTreeMap<String, (String, String)>, // order_id -> (transfer_id, status)
    pub create_order_ids: Vec<String>,
    pub creates_sent: usize,
    pub auth_calls: usize,
    pub lookups: usize,
    pub refresh_calls: usize,
    pub access_ttl: Duration,
    pub now: OffsetDateTime,
    next_id: u32,
    current_access: String,
}

impl FakeServer {
    pub fn new() -> Self {
        Self {
            transfers: BTreeMap::new(),
            create_order_ids: Vec::new(),
            creates_sent: 0,
            auth_calls: 0,
            lookups: 0,
            refresh_calls: 0,
            access_ttl: Duration::from_secs(3600),
            now: t0(),
            next_id: 0,
            current_access: String::new(),
        }
    }

    fn transfer_json(&self, order_id: &str) -> String {
        let (id, status) = &self.transfers[order_id];
        format!(
            r#"{{"transfer_id":"{id}","order_id":"{order_id}","status":"{status}","amount_source":1000.00}}"#
        )
    }

    pub fn handle(
        &mut self,
        request: &http::Request<Vec<u8>>,
        fault: Fault,
    ) -> Result<http::Response<Vec<u8>>, TransportError> {
        use imts_core::TransportErrorKind::{Connect, Io};
        match fault {
            Fault::DropBefore => return Err(TransportError::new(Connect, "refused")),
            Fault::TimeoutNotApplied => {
                return Err(TransportError::new(
                    imts_core::TransportErrorKind::Timeout,
                    "timed out",
                ))
            }
            Fault::Unavailable => {
                let mut r = json_response(
                    503,
                    r#"{"status":"error","error_code":"unavailable","error_description":"try later"}"#,
                );
                r.headers_mut()
                    .insert("retry-after", http::HeaderValue::from_static("0"));
                return Ok(r);
            }
            _ => {}
        }
        let response = self.apply(request);
        match fault {
            Fault::DropAfter => Err(TransportError::new(Io, "connection reset after send")),
            _ => Ok(response),
        }
    }

    fn apply(&mut self, request: &http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        let path = request
            .uri()
            .path()
            .trim_start_matches("/v5/partner/transfer/")
            .to_owned();
        if path == "agent/auth" {
            if request.method() == http::Method::PATCH {
                self.refresh_calls += 1;
            } else {
                self.auth_calls += 1;
            }
            let generation = self.auth_calls as u32 * 100 + self.refresh_calls as u32;
            self.current_access = format!("access-{generation}");
            return json_response(200, &tokens_body(generation, self.now + self.access_ttl));
        }
        let bearer = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if bearer != format!("Bearer {}", self.current_access) {
            return json_response(
                401,
                r#"{"status":"error","error_code":"unauthorized","error_description":"token"}"#,
            );
        }
        let params = verify_request(request);
        match path.as_str() {
            "create" => {
                self.creates_sent += 1;
                let order_id = params["order_id"].clone();
                self.create_order_ids.push(order_id.clone());
                if !self.transfers.contains_key(&order_id) {
                    self.next_id += 1;
                    let id = format!("00000000-0000-4000-8000-{:012}", self.next_id);
                    self.transfers.insert(order_id.clone(), (id, "new".into()));
                }
                json_response(200, &self.transfer_json(&order_id))
            }
            "info" | "status" => {
                self.lookups += 1;
                let found = self
                    .transfers
                    .iter()
                    .find(|(order, (id, _))| {
                        params.get("order_id") == Some(order)
                            || params.get("transfer_id") == Some(id)
                    })
                    .map(|(order, _)| order.clone());
                match found {
                    Some(order) => json_response(200, &self.transfer_json(&order)),
                    None => json_response(
                        404,
                        r#"{"status":"error","error_code":"not_found","error_description":"no such transfer"}"#,
                    ),
                }
            }
            "confirm" => {
                let id = params["transfer_id"].clone();
                let Some(order) = self
                    .transfers
                    .iter()
                    .find(|(_, (tid, _))| *tid == id)
                    .map(|(o, _)| o.clone())
                else {
                    return json_response(
                        404,
                        r#"{"status":"error","error_code":"not_found","error_description":"x"}"#,
                    );
                };
                if self.transfers[&order].1 != "new" {
                    return json_response(
                        409,
                        r#"{"status":"error","error_code":"invalid_status","error_description":"not new"}"#,
                    );
                }
                self.transfers.get_mut(&order).unwrap().1 = "process".into();
                json_response(200, &self.transfer_json(&order))
            }
            "fees" => json_response(
                200,
                r#"{"amount_source":100.00,"currency_source":"KZT","fee":1.00,"total_amount":101.00,"rate":0.0394,"amount_target":3.94,"currency_target":"UZS"}"#,
            ),
            _ => json_response(
                404,
                r#"{"status":"error","error_code":"not_found","error_description":"path"}"#,
            ),
        }
    }
}
