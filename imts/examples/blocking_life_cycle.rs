//! The same life cycle with the blocking client: no async runtime in your program.
//!
//! `cargo run -p imts --example blocking_life_cycle`

use imts::models::{
    ConfirmRequest, CreatePerson, CreateTransferRequest, NewTransfer, Payout, PayoutConfirmRequest,
};
use imts::types::{Destination, Money};
use imts::{ClientBuilder, Credentials};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A sandbox on its own thread; point `Config::new` at the real host in production.
    let sandbox = imts_sandbox::BackgroundSandbox::start(imts_sandbox::SandboxConfig::default())?;
    let agent = sandbox.agents()[0].clone();
    let credentials = Credentials::new(agent.agent_id.parse()?, agent.agent_secret)
        .with_partner_key(agent.partner_key);
    let client = ClientBuilder::new(credentials)
        .base_url(sandbox.base_url())
        .build_blocking()?;

    // A fictional person (see `imts::personal::PersonData` for its fields).
    let person = imts_sandbox::samples::person("Ivanova")?;
    let sender = client.create_person(&CreatePerson::new(
        person.clone(),
        "KAZ".parse()?,
        "77011234567".parse()?,
    ))?;
    let transfer = client.create_transfer(&CreateTransferRequest::new(NewTransfer {
        client_uuid: sender.client_uuid,
        destination: Destination::Phone("998901234567".parse()?),
        target_country: "UZB".parse()?,
        order_id: "EXAMPLE-BLOCKING-1".parse()?, // your idempotency key: reuse it on retry
        amount: Money::new("100.50".parse()?, "KZT".parse()?),
        currency_target: "UZS".parse()?,
        purpose: "Family support".into(),
    }))?;
    client.confirm(&ConfirmRequest::new(transfer.transfer_id.clone()))?;
    client.payout(&Payout::new(transfer.transfer_id.clone(), person))?;
    let done = client.payout_confirm(&PayoutConfirmRequest::new(transfer.transfer_id))?;
    println!("transfer {} is {}", done.transfer_id, done.status);
    Ok(())
}
