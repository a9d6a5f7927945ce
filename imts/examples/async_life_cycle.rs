//! A transfer from creation to payout with the async client.
//!
//! `cargo run -p imts --example async_life_cycle` starts a sandbox in-process; set
//! `IMTS_BASE_URL`, `IMTS_AGENT_ID`, `IMTS_AGENT_SECRET` and `IMTS_PARTNER_KEY` to use a server.

use imts::enums::{DestinationType, DocumentType};
use imts::models::*;
use imts::personal::PersonData;
use imts::{AgentSecret, AsyncClient, Config, Credentials, PartnerKey};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The sandbox (if started) stops when `_sandbox` is dropped at the end of `main`.
    let (_sandbox, config, credentials) = match std::env::var("IMTS_BASE_URL") {
        Ok(url) => (
            None,
            Config::new(url),
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
            let config = Config::new(sandbox.base_url());
            (Some(sandbox), config, credentials)
        }
    };
    let client = AsyncClient::new(credentials, config)?;

    let person = PersonData {
        first_name: "Aigerim".into(),
        last_name: "Ivanova".into(),
        middle_name: None,
        birth_date: "1990-04-12".into(),
        citizenship: "KAZ".parse()?,
        document_type: DocumentType::Passport,
        document_number: "N1234567".into(),
        document_issued_at: "2020-01-15".into(),
        document_expires_at: None,
        phone: "77011234567".parse()?,
        address: None,
    };
    let sender = client
        .create_person(&CreatePerson {
            person: person.clone(),
            country: "KAZ".parse()?,
            phone: "77011234567".parse()?,
        })
        .await?;
    let transfer = client
        .create_transfer(&CreateTransferRequest::new(
            sender.client_uuid,
            DestinationType::Phone,
            "998901234567".parse()?,
            None,
            "UZB".parse()?,
            format!("EXAMPLE-{}", std::process::id()).parse()?,
            "100.50".parse()?,
            "KZT".parse()?,
            "UZS".parse()?,
            "Family support".into(),
            None,
        ))
        .await?;
    client
        .confirm(&ConfirmRequest::new(transfer.transfer_id.clone()))
        .await?;
    client
        .payout(&Payout {
            transfer_id: transfer.transfer_id.clone(),
            recipient: person,
        })
        .await?;
    let done = client
        .payout_confirm(&PayoutConfirmRequest::new(transfer.transfer_id))
        .await?;
    println!("transfer {} is {}", done.transfer_id, done.status);
    Ok(())
}
