//! A plain HTTP client for the sandbox, signing with imts-core, and fixtures.
#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use imts_core::models::auth::Token;
use imts_core::models::{CreateTransferRequest, NewTransfer};
use imts_core::personal::PersonData;
use imts_core::values::{AgentId, Money};
use imts_core::{Config, Credentials, Operation, PreparedRequest};
use imts_crypto::{AgentSecret, PartnerKey};
use imts_sandbox::{AgentConfig, Sandbox, SandboxConfig};
use serde_json::Value;

pub const SECRET_1: &str = "secret-one";
pub const SECRET_2: &str = "secret-two";
pub const KEY_1: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
pub const KEY_2: &str = "1111111111111111111111111111111111111111111111111111111111111111";

pub fn agents() -> Vec<AgentConfig> {
    vec![
        AgentConfig::parse(&format!("agent-1:{SECRET_1}:{KEY_1}")).unwrap(),
        AgentConfig::parse(&format!("agent-2:{SECRET_2}:{KEY_2}")).unwrap(),
    ]
}

pub async fn start(mut config: SandboxConfig) -> Sandbox {
    if config.agents.is_empty() {
        config.agents = agents();
    }
    Sandbox::start(config).await.unwrap()
}

/// The answer of one exchange; `None` when the connection closed without one.
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn code(&self) -> String {
        self.json()["error_code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

pub async fn send(request: http::Request<Vec<u8>>) -> Option<Answer> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let (parts, body) = request.into_parts();
    let request = http::Request::from_parts(parts, Full::new(Bytes::from(body)));
    let response = tokio::time::timeout(Duration::from_secs(10), client.request(request))
        .await
        .ok()?
        .ok()?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .ok()?
        .to_bytes()
        .to_vec();
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// A partner's session against the sandbox: signs with imts-core, sends with a plain client.
pub struct Partner {
    pub base_url: String,
    pub credentials: Credentials,
    pub config: Config,
    pub token: Option<String>,
    pub refresh: Option<String>,
}

impl Partner {
    pub async fn login(sandbox: &Sandbox, index: usize) -> Self {
        let agent = &sandbox.agents()[index];
        let credentials =
            Credentials::new(agent.agent_id.parse().unwrap(), agent.agent_secret.clone())
                .with_partner_key(agent.partner_key.clone());
        let mut partner = Self {
            base_url: sandbox.base_url().to_owned(),
            credentials,
            config: Config::new(sandbox.base_url()),
            token: None,
            refresh: None,
        };
        let body = serde_json::json!({
            "agent_id": agent.agent_id,
            "agent_secret": String::from_utf8_lossy(agent.agent_secret.expose_secret()),
        });
        let answer = partner
            .post_raw("agent/auth", None, body.to_string().as_bytes())
            .await
            .unwrap();
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        let tokens = answer.json();
        partner.token = Some(tokens["access_token"].as_str().unwrap().to_owned());
        partner.refresh = Some(tokens["refresh_token"].as_str().unwrap().to_owned());
        partner
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/v5/partner/transfer/{path}", self.base_url)
    }

    pub async fn post_raw(&self, path: &str, bearer: Option<&str>, body: &[u8]) -> Option<Answer> {
        let mut builder =
            http::Request::post(self.url(path)).header("content-type", "application/json");
        if let Some(token) = bearer {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        send(builder.body(body.to_vec()).unwrap()).await
    }

    pub fn request<O: Operation>(&self, op: &O) -> http::Request<Vec<u8>> {
        PreparedRequest::new(op, &self.credentials, &self.config, 1)
            .unwrap()
            .to_http(
                &self.base_url,
                self.token.as_deref().map(Token::new).as_ref(),
            )
            .unwrap()
    }

    /// Sends a typed operation; returns the answer.
    pub async fn call<O: Operation>(&self, op: &O) -> Answer {
        send(self.request(op)).await.expect("an answer")
    }

    /// Sends and decodes, panicking on an error answer.
    pub async fn ok<O: Operation>(&self, op: &O) -> O::Output {
        let answer = self.call(op).await;
        imts_core::response::decode::<O::Output>(&op.route(), answer.status, &answer.body)
            .unwrap_or_else(|e| panic!("{}: {e}", op.route().name))
    }
}

pub fn person(last_name: &str) -> PersonData {
    imts_sandbox::samples::person(last_name).unwrap()
}

/// The sample transfer, for 100.50 KZT, directed to `target` when given.
pub fn create_transfer(
    client_uuid: &str,
    order_id: &str,
    target: Option<&str>,
) -> CreateTransferRequest {
    let sample =
        imts_sandbox::samples::new_transfer(&client_uuid.parse().unwrap(), order_id).unwrap();
    let request = CreateTransferRequest::new(NewTransfer {
        amount: Money::new("100.50".parse().unwrap(), "KZT".parse().unwrap()),
        ..sample
    });
    match target {
        Some(agent) => request.with_target_agent_id(agent.parse::<AgentId>().unwrap()),
        None => request,
    }
}

pub fn key(hex: &str) -> PartnerKey {
    PartnerKey::parse(hex).unwrap()
}

pub fn secret(s: &str) -> AgentSecret {
    AgentSecret::new(s).unwrap()
}
