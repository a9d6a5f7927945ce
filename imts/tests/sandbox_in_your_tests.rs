//! How to test your own integration: start the sandbox inside a `#[tokio::test]`, on a free
//! port, with your own credentials, and drive your code against it. (This file is both the
//! example and a test that runs in CI.)

use imts::models::{FeesRequest, StatusRequest};
use imts::types::Lookup;
use imts::{ClientBuilder, Credentials};
use imts_sandbox::{AgentConfig, Sandbox, SandboxConfig};

#[tokio::test]
async fn my_service_quotes_fees_and_handles_unknown_orders() {
    let agent = AgentConfig::parse(
        "my-agent:my-secret:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
    )
    .unwrap();
    let sandbox = Sandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let credentials = Credentials::new("my-agent".parse().unwrap(), agent.agent_secret)
        .with_partner_key(agent.partner_key);
    let client = ClientBuilder::new(credentials)
        .base_url(sandbox.base_url())
        .build()
        .unwrap();

    let fees = client
        .fees(&FeesRequest::new(
            imts::types::OriginatorType::Person,
            "UZB".parse().unwrap(),
            imts::types::Money::new("250.00".parse().unwrap(), "USD".parse().unwrap()),
            "UZS".parse().unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(fees.fee.to_string(), "2.50");
    assert_eq!(fees.amount_target.to_string(), "3212500.00");

    let missing = client
        .status(&StatusRequest::new(Lookup::OrderId(
            "never-created".parse().unwrap(),
        )))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some(&imts::types::ErrorCode::NotFound));
    sandbox.shutdown().await;
}
