//! An IMTS callback receiver in axum: hand the raw body to the processor, answer what it says.
//!
//! `IMTS_AGENT_SECRET=... cargo run -p imts-callbacks --example axum_receiver` listens on
//! 127.0.0.1:3000; point the sandbox at it with `--callback-url http://127.0.0.1:3000/imts`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use imts_callbacks::{Delivery, Handler, HandlerError, Notification, Processor, Verifier};
use imts_crypto::AgentSecret;

async fn on_delivery(delivery: Delivery) -> Result<(), HandlerError> {
    match &delivery.notification {
        Notification::StatusUpdate(update) if delivery.applied => {
            // Update your own record here; an error makes IMTS deliver it again.
            println!("transfer {} is now {}", update.transfer_id, update.status);
        }
        Notification::TransferReceived(received) => {
            println!(
                "transfer {} arrived for payout, code {:?}",
                received.transfer_id, received.transfer_code
            );
        }
        _ => {}
    }
    Ok(())
}

/// The application's handler.
struct App;

impl Handler for App {
    fn handle(
        &self,
        delivery: Delivery,
    ) -> impl std::future::Future<Output = Result<(), HandlerError>> + Send {
        on_delivery(delivery)
    }
}

type Shared = Arc<Processor<App>>;

async fn imts_callback(
    State(processor): State<Shared>,
    method: Method,
    body: Bytes,
) -> impl IntoResponse {
    let answer = processor.process(&method, &body).await;
    (
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        answer.body,
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = AgentSecret::new(std::env::var("IMTS_AGENT_SECRET")?)?;
    let processor: Shared = Arc::new(Processor::new(Verifier::new(secret), App));
    let app = Router::new()
        .route("/imts", post(imts_callback))
        .with_state(processor);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await?;
    Ok(())
}
