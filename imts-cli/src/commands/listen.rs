//! `imts listen`: a callback receiver built on imts-callbacks. Prints one JSON line per accepted,
//! first-seen notification; duplicates are acknowledged and not printed; forged or malformed
//! notifications get 401/400 and are not printed.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;
use hyper_util::rt::TokioIo;
use imts_callbacks::{
    CallbackService, Delivery, HandlerError, InboxWorker, Notification, Processor, Verifier,
};

/// How long the inbox worker rests when nothing is due.
const WORKER_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

use crate::exit::CliError;
use crate::input;

/// Arguments of `imts listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8081", value_name = "ADDR")]
    listen: SocketAddr,
    /// Share seen notification ids and known transfer statuses with other instances through
    /// Redis (`redis://host:port/`). Keys are namespaced by IMTS_AGENT_ID (default `default`).
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Merge every status update into this journal (`sqlite:PATH` or a `postgres://` URL), so
    /// `imts reconcile` does not poll a transfer whose callback arrived.
    #[arg(long, value_name = "URL", env = "IMTS_JOURNAL")]
    journal: Option<String>,
    /// Store every notification in this inbox (`sqlite:PATH` or a `postgres://` URL) and answer as soon as it is
    /// durable; lines are printed as a worker processes the inbox (`imts inbox` manages it).
    #[arg(long, value_name = "URL", env = "IMTS_INBOX")]
    inbox: Option<String>,
    /// This worker's name in the inbox's claims: a listener restarted under the same name takes
    /// up at once the rows it held when it stopped. Give each instance of a fleet its own.
    #[arg(long, value_name = "NAME", default_value = "imts-listen")]
    worker_name: String,
    /// Forward each verified, first-seen notification's exact bytes to your app (POST to URL)
    /// before acknowledging: IMTS gets 200 when the app answered 2xx, else 500 (and delivers
    /// it again, forwarded again).
    #[arg(long, value_name = "URL")]
    forward_to: Option<String>,
    #[command(flatten)]
    metrics: crate::metrics_endpoint::MetricsArgs,
}

/// How long the app behind `--forward-to` has to answer: within the 10 s IMTS waits.
const FORWARD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(8);

/// `--forward-to`: posts a delivery's raw bytes to the developer's app.
struct Forwarder {
    url: String,
    transport: imts::protocol::ReqwestTransport,
}

impl Forwarder {
    fn new(url: &str) -> Result<Self, CliError> {
        url.parse::<http::Uri>()
            .map_err(|e| CliError::usage(format!("--forward-to {url}: {e}")))?;
        let transport = imts::protocol::ReqwestTransport::new(imts::config::Timeouts::default())
            .map_err(|e| CliError::usage(format!("--forward-to: {e}")))?;
        Ok(Self {
            url: url.to_owned(),
            transport,
        })
    }

    /// Posts the bytes; the app's non-2xx answer or silence is a handler failure.
    async fn forward(&self, delivery: &Delivery) -> Result<(), HandlerError> {
        use imts::protocol::transport::AsyncTransport as _;
        let request = http::Request::post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(delivery.raw.to_vec())
            .map_err(|e| HandlerError(format!("--forward-to: {e}")))?;
        let id = delivery.notification.notification_id();
        let answer = self
            .transport
            .send(request, FORWARD_TIMEOUT)
            .await
            .map_err(|e| HandlerError(format!("forwarding {id} to {}: {e}", self.url)))?;
        let status = answer.status();
        eprintln!("imts listen: forwarded {id} to {}: {status}", self.url);
        if status.is_success() {
            Ok(())
        } else {
            Err(HandlerError(format!(
                "the app at {} answered {status}",
                self.url
            )))
        }
    }
}

/// The JSON line for a delivery: the notification's fields (without `pg_sig`) and `applied`.
fn line(delivery: &Delivery) -> Result<String, HandlerError> {
    let fail = |e: serde_json::Error| HandlerError(e.to_string());
    let mut value = match &delivery.notification {
        Notification::StatusUpdate(n) => serde_json::to_value(n).map_err(fail)?,
        Notification::TransferReceived(n) => serde_json::to_value(n).map_err(fail)?,
        Notification::Unknown { raw, .. } => serde_json::from_str(raw.get()).map_err(fail)?,
        _ => serde_json::json!({"type": delivery.notification.kind()}),
    };
    if let Some(object) = value.as_object_mut() {
        object.remove("pg_sig");
        object.insert("applied".into(), delivery.applied.into());
    }
    Ok(value.to_string())
}

/// The handler of `imts listen` (and of `imts inbox replay`): one JSON line on stdout.
pub async fn print(delivery: Delivery) -> Result<(), HandlerError> {
    let text = line(&delivery)?;
    let mut out = std::io::stdout().lock();
    // A line that cannot be written is not processed: IMTS will deliver it again.
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .map_err(|e| HandlerError(format!("cannot write stdout: {e}")))
}

/// Runs the receiver until Ctrl-C.
pub fn run(args: &ListenArgs) -> Result<(), CliError> {
    let secret = input::agent_secret()?;
    args.metrics.start()?;
    // Opened before the runtime: a PostgreSQL journal brings a runtime of its own.
    let journal = args
        .journal
        .as_deref()
        .map(crate::client::open_journal)
        .transpose()?;
    let inbox = args
        .inbox
        .as_deref()
        .map(crate::client::open_inbox)
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start a runtime: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| CliError::usage(format!("cannot listen on {}: {e}", args.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| CliError::usage(e.to_string()))?;
        eprintln!("imts listen: accepting notifications at http://{addr}/ (any path)");
        let forwarder = args
            .forward_to
            .as_deref()
            .map(Forwarder::new)
            .transpose()?
            .map(Arc::new);
        let handler = move |delivery: Delivery| {
            let forwarder = forwarder.clone();
            async move {
                if let Some(forwarder) = forwarder {
                    forwarder.forward(&delivery).await?;
                }
                print(delivery).await
            }
        };
        let mut processor = Processor::new(Verifier::new(secret), handler);
        if let Some(url) = &args.redis {
            let namespace = std::env::var("IMTS_AGENT_ID").unwrap_or_else(|_| "default".into());
            let unusable =
                |e: &dyn std::fmt::Display| CliError::usage(format!("--redis {url}: {e}"));
            let seen =
                imts_redis::RedisSeenStore::open(url, &namespace).map_err(|e| unusable(&e))?;
            let statuses =
                imts_redis::RedisStatusStore::open(url, &namespace).map_err(|e| unusable(&e))?;
            processor = processor
                .with_seen_store(Arc::new(seen))
                .with_status_store(Arc::new(statuses));
        }
        if let Some(journal) = journal {
            processor = processor.with_journal(journal);
        }
        if let Some(inbox) = &inbox {
            processor = processor.with_inbox(Arc::clone(inbox));
        }
        let processor = Arc::new(processor);
        if let Some(inbox) = inbox {
            let worker = InboxWorker::new(Arc::clone(&processor), inbox, &args.worker_name);
            tokio::spawn(async move {
                loop {
                    if let Err(error) = worker.run_due(worker.now()).await {
                        eprintln!("imts listen: the inbox: {error}");
                    }
                    tokio::time::sleep(WORKER_PAUSE).await;
                }
            });
        }
        serve(listener, CallbackService::new(processor)).await;
        Ok(())
    })
}

/// Accepts connections until Ctrl-C.
async fn serve<H>(
    listener: tokio::net::TcpListener,
    service: CallbackService<H, imts_callbacks::SystemClock>,
) where
    H: imts_callbacks::Handler + 'static,
{
    {
        let accept = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    // Out of descriptors or similar: back off rather than spin.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let service = service.clone();
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(imts_callbacks::HEADER_DEADLINE)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        };
        tokio::select! {
            () = accept => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
}
