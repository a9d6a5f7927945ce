//! A transfer from creation to payout with the async client.
//!
//! `cargo run -p imts --example async_life_cycle` starts a sandbox in-process; set
//! `IMTS_BASE_URL`, `IMTS_AGENT_ID`, `IMTS_AGENT_SECRET` and `IMTS_PARTNER_KEY` to use a server.

use imts::models::{
    ConfirmRequest, CreatePerson, CreateTransferRequest, NewTransfer, Payout, PayoutConfirmRequest,
};
use imts::types::{Destination, Money};
use imts::{AgentSecret, ClientBuilder, Credentials, PartnerKey};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The sandbox (if started) stops when `_sandbox` is dropped at the end of `main`.
    let (_sandbox, base_url, credentials) = match std::env::var("IMTS_BASE_URL") {
        Ok(url) => (
            None,
            url,
            Credentials::new(
                std::env::var("IMTS_AGENT_ID")?.parse()?,
                AgentSecret::new(std::env::var("IMTS_AGENT_SECRET")?)?,
            )
            .with_partner_key(PartnerKey::parse(&std::env::var("IMTS_PARTNER_KEY")?)?),
        ),
        Err(_) => {
            let sandbox =
                imts_sandbox::Sandbox::start(imts_sandbox::SandboxConfig::default()).await?;
            let agent = sandbox.agents()[0].clone();
            let credentials = Credentials::new(agent.agent_id.parse()?, agent.agent_secret)
                .with_partner_key(agent.partner_key);
            let url = sandbox.base_url().to_owned();
            (Some(sandbox), url, credentials)
        }
    };
    let client = ClientBuilder::new(credentials).base_url(base_url).build()?;

    // A fictional person (see `imts::personal::PersonData` for its fields); sealed with the
    // partner key when the request is built, never sent in clear.
    let person = imts_sandbox::samples::person("Ivanova")?;
    let sender = client
        .create_person(&CreatePerson::new(
            person.clone(),
            "KAZ".parse()?,
            "77011234567".parse()?,
        ))
        .await?;
    let transfer = client
        .create_transfer(&CreateTransferRequest::new(NewTransfer {
            client_uuid: sender.client_uuid,
            destination: Destination::Phone("998901234567".parse()?),
            target_country: "UZB".parse()?,
            order_id: format!("EXAMPLE-{}", std::process::id()).parse()?, // reuse it on retry
            amount: Money::new("100.50".parse()?, "KZT".parse()?),
            currency_target: "UZS".parse()?,
            purpose: "Family support".into(),
        }))
        .await?;
    client
        .confirm(&ConfirmRequest::new(transfer.transfer_id.clone()))
        .await?;
    client
        .payout(&Payout::new(transfer.transfer_id.clone(), person))
        .await?;
    let done = client
        .payout_confirm(&PayoutConfirmRequest::new(transfer.transfer_id))
        .await?;
    println!("transfer {} is {}", done.transfer_id, done.status);
    Ok(())
}
