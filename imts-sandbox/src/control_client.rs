//! [`Control`]: a typed client of the sandbox's control API, for tests and tools.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use imts_core::enums::{ErrorCode, TransferStatus};
use imts_core::models::Transfer;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::callback_log::LoggedCallback;
use crate::config::ControlToken;
use crate::control::PREFIX;
use crate::delivery::DeliveryControls;

/// A control API call that did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The sandbox could not be reached or its answer not read.
    #[error("the sandbox's control API could not be reached: {0}")]
    Transport(String),
    /// The sandbox refused (404 unknown transfer or notification, 409 no such edge, 401 token).
    #[error("the sandbox answered {status}: {body}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error envelope, as sent.
        body: String,
    },
}

/// A client of the control API (`/sandbox/v1/`) of a sandbox at `base_url`.
///
/// ```no_run
/// # async fn run() -> Result<(), imts_sandbox::ControlError> {
/// use imts_core::enums::TransferStatus;
/// let control = imts_sandbox::Control::new("http://127.0.0.1:8080");
/// control.advance("0f8fad5b-d9cb-469f-a165-70867728950e", TransferStatus::Process).await?;
/// for callback in control.callbacks().await? {
///     println!("{} {:?}", callback.notification_id, callback.state);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Control {
    base_url: String,
    token: Option<ControlToken>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Control {
    /// A client of the sandbox at `base_url` (`http://host:port`).
    #[must_use]
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: None,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends `Authorization: Bearer TOKEN` (the sandbox's `--control-token`).
    #[must_use]
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(ControlToken::from(token));
        self
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: http::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, ControlError> {
        let transport = |e: &dyn std::fmt::Display| ControlError::Transport(e.to_string());
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("{}{PREFIX}{path}", self.base_url))
            .header(http::header::CONTENT_TYPE, "application/json");
        if let Some(token) = &self.token {
            let bearer = format!("Bearer {}", token.expose());
            request = request.header(http::header::AUTHORIZATION, bearer);
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| transport(&e))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(&e))?
            .to_bytes();
        if !(200..300).contains(&status) {
            return Err(ControlError::Refused {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        serde_json::from_slice(&body).map_err(|e| transport(&e))
    }

    /// Moves a transfer along a valid edge of the life cycle, with the callbacks that implies.
    ///
    /// # Errors
    /// [`ControlError::Refused`] with 404 (no such transfer) or 409 (no such edge).
    pub async fn advance(
        &self,
        transfer_id: &str,
        to: TransferStatus,
    ) -> Result<Transfer, ControlError> {
        let path = format!("transfers/{transfer_id}/advance");
        self.call(http::Method::POST, &path, Some(json!({ "to": to })))
            .await
    }

    /// Forces a transfer that is not final into `error` with `code`.
    ///
    /// # Errors
    /// As [`Control::advance`].
    pub async fn fail(&self, transfer_id: &str, code: ErrorCode) -> Result<Transfer, ControlError> {
        let path = format!("transfers/{transfer_id}/advance");
        let body = json!({ "to": TransferStatus::Error, "error_code": code });
        self.call(http::Method::POST, &path, Some(body)).await
    }

    /// Moves the sandbox's clock forward: tokens expire and callback retries fall due as if
    /// that much time had passed.
    ///
    /// # Errors
    /// [`ControlError`] when the sandbox cannot be reached or refuses.
    pub async fn advance_clock(&self, by: std::time::Duration) -> Result<(), ControlError> {
        let body = json!({ "seconds": by.as_secs() });
        let _: serde_json::Value = self
            .call(http::Method::POST, "clock/advance", Some(body))
            .await?;
        Ok(())
    }

    /// Sets the delivery controls of the notifications to `agent_id` (replacing the previous
    /// ones: `DeliveryControls::default()` turns them all off and releases what was held).
    ///
    /// # Errors
    /// [`ControlError::Refused`] with 404 for an unknown agent.
    pub async fn set_delivery(
        &self,
        agent_id: &str,
        controls: &DeliveryControls,
    ) -> Result<(), ControlError> {
        let path = format!("agents/{agent_id}/delivery");
        let body =
            serde_json::to_value(controls).map_err(|e| ControlError::Transport(e.to_string()))?;
        let _: serde_json::Value = self.call(http::Method::POST, &path, Some(body)).await?;
        Ok(())
    }

    /// Every notification the sandbox made, oldest first, with its attempts.
    ///
    /// # Errors
    /// [`ControlError`] when the sandbox cannot be reached or refuses.
    pub async fn callbacks(&self) -> Result<Vec<LoggedCallback>, ControlError> {
        #[derive(serde::Deserialize)]
        struct List {
            callbacks: Vec<LoggedCallback>,
        }
        let list: List = self.call(http::Method::GET, "callbacks", None).await?;
        Ok(list.callbacks)
    }

    /// Delivers a notification again (same id, same bytes).
    ///
    /// # Errors
    /// [`ControlError::Refused`] with 404 for an unknown notification.
    pub async fn resend(&self, notification_id: &str) -> Result<(), ControlError> {
        let path = format!("callbacks/{notification_id}/resend");
        let _: serde_json::Value = self.call(http::Method::POST, &path, None).await?;
        Ok(())
    }

    /// Emits a new notification of `kind` (`status_update` or `transfer_received`) for a
    /// transfer as it is now; gives the new notification ids.
    ///
    /// # Errors
    /// [`ControlError::Refused`]: 404 unknown transfer, 409 `transfer_received` for a transfer
    /// not in process, 422 another kind.
    pub async fn emit(&self, transfer_id: &str, kind: &str) -> Result<Vec<String>, ControlError> {
        #[derive(serde::Deserialize)]
        struct Emitted {
            notifications: Vec<String>,
        }
        let body = json!({ "transfer_id": transfer_id, "type": kind });
        let emitted: Emitted = self
            .call(http::Method::POST, "callbacks/emit", Some(body))
            .await?;
        Ok(emitted.notifications)
    }
}
