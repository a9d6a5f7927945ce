//! `imts demo`: the whole story of a transfer, one line per step.

use std::time::Instant;

use clap::Args;
use imts::models::*;
use imts::personal::{BusinessData, PersonData};
use imts::types::{Destination, Money, OriginatorType, TransferStatus};
use imts::{Config, Credentials, Error};
use imts_sandbox::samples;
use serde_json::json;

use crate::client::{client, credentials_from_env, Transport};
use crate::exit::CliError;
use crate::output::Output;

/// Arguments of `imts demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which client to use.
    #[arg(long, value_enum, default_value = "async")]
    transport: Transport,
    /// Talk to this server (credentials from IMTS_AGENT_ID, IMTS_AGENT_SECRET, IMTS_PARTNER_KEY)
    /// instead of starting the embedded sandbox.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Human lines (default) or one JSON object per step.
    #[arg(long, value_enum, default_value = "human")]
    output: Output,
    /// Write every money-moving call ahead in this journal (`sqlite:PATH`).
    #[arg(long, value_name = "URL")]
    journal: Option<String>,
}

struct Story {
    output: Output,
    started: Instant,
    calls: u32,
}

impl Story {
    fn step<T>(
        &mut self,
        name: &str,
        run: impl FnOnce() -> Result<T, Error>,
        detail: impl FnOnce(&T) -> String,
    ) -> Result<T, CliError> {
        let started = Instant::now();
        self.calls += 1;
        let result = run();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match &result {
            Ok(value) => {
                let detail = detail(value);
                match self.output {
                    Output::Human => println!("  ok  {name:<22} {ms:>7.1} ms  {detail}"),
                    Output::Json => println!(
                        "{}",
                        json!({"step": name, "ok": true, "ms": ms, "detail": detail})
                    ),
                }
            }
            Err(error) => match self.output {
                Output::Human => println!("FAIL  {name:<22} {ms:>7.1} ms  {}", error.report()),
                Output::Json => println!(
                    "{}",
                    json!({"step": name, "ok": false, "ms": ms, "error": error.report().to_string()})
                ),
            },
        }
        result.map_err(|e| CliError::from_api(&e))
    }
}

/// The SDK's sample person (`imts_sandbox::samples`) with these names.
fn person(first: &str, last: &str) -> Result<PersonData, CliError> {
    let mut person = samples::person(last).map_err(|e| CliError::usage(e.to_string()))?;
    person.first_name = first.into();
    Ok(person)
}

fn value<T: std::str::FromStr<Err = imts::types::ValueError>>(text: &str) -> Result<T, CliError> {
    text.parse()
        .map_err(|e: imts::types::ValueError| CliError::usage(e.to_string()))
}

/// Runs the demo.
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let (sandbox, credentials, base_url) = match &args.base_url {
        Some(url) => (None, credentials_from_env()?, url.clone()),
        None => {
            let sandbox =
                imts_sandbox::BackgroundSandbox::start(imts_sandbox::SandboxConfig::default())
                    .map_err(|e| {
                        CliError::usage(format!("cannot start the embedded sandbox: {e}"))
                    })?;
            let agent = sandbox
                .agents()
                .first()
                .cloned()
                .ok_or_else(|| CliError::usage("the sandbox has no agent"))?;
            let credentials = Credentials::new(value(&agent.agent_id)?, agent.agent_secret.clone())
                .with_partner_key(agent.partner_key.clone());
            let url = sandbox.base_url().to_owned();
            (Some(sandbox), credentials, url)
        }
    };
    let key = credentials
        .partner_key()
        .cloned()
        .ok_or_else(|| CliError::usage("a partner key is required"))?;
    let packing = imts::config::Packing::IvCiphertext;
    if args.output == Output::Human {
        let origin = if sandbox.is_some() {
            "embedded sandbox"
        } else {
            "server"
        };
        println!(
            "imts demo: {origin} at {base_url}, {:?} transport, agent {}",
            args.transport,
            credentials.agent_id()
        );
    }
    let client = client(
        args.transport,
        credentials,
        Config::new(base_url),
        args.journal.as_deref(),
    )?;
    let mut story = Story {
        output: args.output,
        started: Instant::now(),
        calls: 0,
    };

    story.step(
        "authenticate",
        || client.authenticate(),
        |()| "access token obtained".into(),
    )?;
    story.step(
        "refresh token",
        || client.refresh_token(),
        |()| "token pair rotated".into(),
    )?;
    story.step(
        "list agents",
        || client.call(&GetAgentsRequest::new()),
        |r| format!("{} agents", r.agents.len()),
    )?;
    let fees_request = FeesRequest::new(
        OriginatorType::Person,
        value("UZB")?,
        Money::new(value("100.50")?, value("KZT")?),
        value("UZS")?,
    );
    story.step(
        "fees",
        || client.call(&fees_request),
        |f| {
            format!(
                "fee {} {}, total {}, recipient gets {} {}",
                f.fee, f.currency_source, f.total_amount, f.amount_target, f.currency_target
            )
        },
    )?;
    let sender_person = person("Aigerim", "Ivanova")?;
    let recipient = person("Bekzod", "Karimov")?;
    let sender = CreatePerson::new(sender_person.clone(), value("KAZ")?, value("77011234567")?);
    let sender = story.step(
        "register person",
        || client.call(&sender),
        |c| format!("client {} AML {}", c.client_uuid, c.aml_status),
    )?;
    let company =
        samples::business("Silk Road Trading LLP").map_err(|e| CliError::usage(e.to_string()))?;
    let register_business = CreateBusiness::new(company.clone(), value("KAZ")?);
    let business = story.step(
        "register business",
        || client.call(&register_business),
        |c| format!("client {} AML {}", c.client_uuid, c.aml_status),
    )?;
    story.step(
        "read person back",
        || client.call(&PersonInfoRequest::new(sender.client_uuid.clone())),
        |info| match PersonData::open(&info.encrypted_data, &key, packing) {
            Ok(p) if p == sender_person => "profile decrypted, matches".into(),
            Ok(_) => "profile decrypted, DIFFERS".into(),
            Err(e) => format!("profile did not decrypt: {e}"),
        },
    )?;
    story.step(
        "read business back",
        || client.call(&BusinessInfoRequest::new(business.client_uuid.clone())),
        |info| match BusinessData::open(&info.encrypted_data, &key, packing) {
            Ok(b) if b == company => "profile decrypted, matches".into(),
            Ok(_) => "profile decrypted, DIFFERS".into(),
            Err(e) => format!("profile did not decrypt: {e}"),
        },
    )?;

    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let order = |n: u8| value::<imts::types::OrderId>(&format!("DEMO-{}-{n}", &suffix[..12]));
    let create = |order_id| -> Result<CreateTransferRequest, CliError> {
        Ok(CreateTransferRequest::new(NewTransfer {
            client_uuid: sender.client_uuid.clone(),
            destination: Destination::Phone(value("998901234567")?),
            target_country: value("UZB")?,
            order_id,
            amount: Money::new(value("100.50")?, value("KZT")?),
            currency_target: value("UZS")?,
            purpose: "Family support".into(),
        }))
    };
    let first = create(order(1)?)?;
    let transfer = story.step(
        "create transfer",
        || client.call(&first),
        |t| {
            format!(
                "{} order {} status {}",
                t.transfer_id, first.order_id, t.status
            )
        },
    )?;
    let id = transfer.transfer_id.clone();
    story.step(
        "print application",
        || client.call(&PrintApplicationRequest::new(id.clone())),
        |p| {
            format!(
                "{} of {} bytes",
                p.content_type,
                p.document_bytes().map(|d| d.len()).unwrap_or(0)
            )
        },
    )?;
    let confirmed = story.step(
        "confirm",
        || client.call(&ConfirmRequest::new(id.clone())),
        |t| format!("status {}", t.status),
    )?;
    let mut search = SearchRequest::new(Destination::Phone(value("998901234567")?));
    if let Some(code) = confirmed.transfer_code.clone() {
        search = search.with_transfer_code(code);
    }
    story.step(
        "search as receiver",
        || client.call(&search),
        |r| format!("{} transfer(s) found", r.transfers.len()),
    )?;
    story.step(
        "pay out",
        || client.call(&Payout::new(id.clone(), recipient.clone())),
        |t| format!("status {}", t.status),
    )?;
    story.step(
        "confirm payout",
        || client.call(&PayoutConfirmRequest::new(id.clone())),
        |t| format!("status {}", t.status),
    )?;
    story.step(
        "status",
        || client.call(&StatusRequest::new(id.clone())),
        |s| format!("status {}", s.status),
    )?;
    let final_first = story.step(
        "info",
        || client.call(&InfoRequest::new(id.clone())),
        |t| {
            format!(
                "status {}, {} {} delivered",
                t.status,
                t.amount_target.map(|a| a.to_string()).unwrap_or_default(),
                t.currency_target
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )
        },
    )?;

    let second = create(order(2)?)?;
    let second = story.step(
        "create 2nd transfer",
        || client.call(&second),
        |t| format!("{} status {}", t.transfer_id, t.status),
    )?;
    let cancelled = story.step(
        "cancel 2nd transfer",
        || client.call(&CancelRequest::new(second.transfer_id.clone()).with_reason("demo")),
        |t| format!("status {}", t.status),
    )?;

    let ok = final_first.status == TransferStatus::Success
        && cancelled.status == TransferStatus::Canceled;
    let ms = story.started.elapsed().as_secs_f64() * 1000.0;
    let verdict = if ok { "done" } else { "FAILED" };
    match args.output {
        Output::Human => println!(
            "{verdict}: 2 transfers (first {}, second {}), {} calls, {ms:.1} ms",
            final_first.status, cancelled.status, story.calls
        ),
        Output::Json => println!(
            "{}",
            json!({"summary": true, "ok": ok, "transfers": 2, "first": final_first.status.as_str(), "second": cancelled.status.as_str(), "calls": story.calls, "ms": ms})
        ),
    }
    drop(sandbox);
    if ok {
        Ok(())
    } else {
        Err(CliError::refused("the transfers did not end as expected"))
    }
}
