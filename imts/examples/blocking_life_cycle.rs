//! The same life cycle with the blocking client: no async runtime in your program.
//!
//! `cargo run -p imts --example blocking_life_cycle`

use imts::enums::{DestinationType, DocumentType};
use imts::models::*;
use imts::personal::PersonData;
use imts::{BlockingClient, Config, Credentials};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A sandbox on its own thread; point `Config::new` at the real host in production.
    let sandbox = imts_sandbox::BackgroundSandbox::start(imts_sandbox::SandboxConfig::default())?;
    let agent = sandbox.agents()[0].clone();
    let credentials = Credentials::new(agent.agent_id.parse()?, agent.agent_secret)
        .with_partner_key(agent.partner_key);
    let client = BlockingClient::new(credentials, Config::new(sandbox.base_url()));

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
    let sender = client.create_person(&CreatePerson {
        person: person.clone(),
        country: "KAZ".parse()?,
        phone: "77011234567".parse()?,
    })?;
    let transfer = client.create_transfer(&CreateTransferRequest::new(
        sender.client_uuid,
        DestinationType::Phone,
        "998901234567".parse()?,
        None,
        "UZB".parse()?,
        "EXAMPLE-BLOCKING-1".parse()?,
        "100.50".parse()?,
        "KZT".parse()?,
        "UZS".parse()?,
        "Family support".into(),
        None,
    ))?;
    client.confirm(&ConfirmRequest::new(transfer.transfer_id.clone()))?;
    client.payout(&Payout {
        transfer_id: transfer.transfer_id.clone(),
        recipient: person,
    })?;
    let done = client.payout_confirm(&PayoutConfirmRequest::new(transfer.transfer_id))?;
    println!("transfer {} is {}", done.transfer_id, done.status);
    Ok(())
}
