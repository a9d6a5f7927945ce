//! Delivering notifications as IMTS does: a task per notification that retries 3 times, 15
//! minutes apart (on the sandbox's clock, or divided by `--time-scale`), and the control API's
//! per-agent delivery controls: pause, drop the next N, duplicate, delay, out of order.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};

use crate::callback_log::{Attempt, DeliveryState};
use crate::callbacks::Outgoing;
use crate::server::Shared;

/// The provider's retry interval.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Retries after the first delivery.
pub const RETRIES: u32 = 3;

/// Whether an answer acknowledges: HTTP 200 with `{"status":"ok"}`.
fn acknowledged(status: u16, body: &[u8]) -> bool {
    status == 200
        && serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("status").and_then(|s| s.as_str().map(|s| s == "ok")))
            .unwrap_or(false)
}

/// The most notifications an agent's controls hold; beyond it new ones are lost (logged so).
pub const MAX_HELD: usize = crate::callback_log::LOG_LIMIT;
/// The longest `delay_ms` the control API takes (10 minutes).
pub const MAX_DELAY_MS: u64 = 600_000;

/// Per-agent delivery controls, set through the control API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryControls {
    /// Hold every new notification until unpaused; then they go in order.
    #[serde(default)]
    pub paused: bool,
    /// Drop this many of the next notifications (logged as `lost`).
    #[serde(default)]
    pub drop_next: u32,
    /// Deliver every notification twice (the same bytes, one after the other).
    #[serde(default)]
    pub duplicate: bool,
    /// Wait this long before a notification's first attempt.
    #[serde(default)]
    pub delay_ms: u64,
    /// Hold each notification until the next one is made, then deliver the newer first.
    #[serde(default)]
    pub out_of_order: bool,
}

/// An agent's controls and the notifications they hold.
#[derive(Debug, Default)]
pub struct AgentDelivery {
    /// The controls.
    pub controls: DeliveryControls,
    /// Held by `paused` or `out_of_order`, oldest first.
    pub held: Vec<Outgoing>,
}

/// What a notification's controls decided.
enum Plan {
    /// Nothing now (dropped or held).
    Nothing,
    /// Deliver these one after the other, after `delay`; `twice` repeats each.
    Send {
        batch: Vec<Outgoing>,
        delay: Duration,
        twice: bool,
    },
}

impl Plan {
    /// Sends `batch` as `controls` say (their delay, their duplication).
    fn send(batch: Vec<Outgoing>, controls: &DeliveryControls) -> Self {
        Plan::Send {
            batch,
            delay: Duration::from_millis(controls.delay_ms),
            twice: controls.duplicate,
        }
    }
}

/// Logs a new notification and delivers it in the background as the recipient's delivery
/// controls say, retrying as IMTS does (unless `--callback-loss` drops it; during
/// `--callback-outage` attempts are refused).
pub fn spawn_delivery(shared: Arc<Shared>, outgoing: Outgoing) {
    let lost = shared.lose_callback();
    let logged = outgoing.logged();
    let plan = shared.with_state(|s| {
        let agent = s.deliveries.entry(outgoing.agent_id.clone()).or_default();
        let holds = agent.controls.paused || agent.controls.out_of_order;
        let dropped =
            !lost && (agent.controls.drop_next > 0 || (holds && agent.held.len() >= MAX_HELD));
        if dropped {
            agent.controls.drop_next = agent.controls.drop_next.saturating_sub(1);
        }
        let plan = if lost || dropped {
            Plan::Nothing
        } else if agent.controls.paused {
            agent.held.push(outgoing);
            Plan::Nothing
        } else if agent.controls.out_of_order {
            match agent.held.pop() {
                None => {
                    agent.held.push(outgoing);
                    Plan::Nothing
                }
                Some(older) => Plan::send(vec![outgoing, older], &agent.controls),
            }
        } else {
            Plan::send(vec![outgoing], &agent.controls)
        };
        if let Some(mut entry) = logged {
            if lost || dropped {
                entry.state = DeliveryState::Lost;
            }
            s.callback_log.push(entry);
        }
        if lost {
            s.stats.callbacks_lost += 1;
        }
        plan
    });
    run(shared, plan);
}

/// Sets an agent's controls (replacing the previous ones); unpausing, or turning off
/// out-of-order, releases what was held, in order.
pub fn set_controls(shared: &Arc<Shared>, agent_id: &str, controls: DeliveryControls) {
    let plan = shared.with_state(|s| {
        let agent = s.deliveries.entry(agent_id.to_owned()).or_default();
        agent.controls = controls;
        if agent.controls.paused || (agent.controls.out_of_order && agent.held.len() <= 1) {
            return Plan::Nothing;
        }
        Plan::send(std::mem::take(&mut agent.held), &agent.controls)
    });
    run(Arc::clone(shared), plan);
}

/// One task per plan: its notifications one after the other, each with its retries.
fn run(shared: Arc<Shared>, plan: Plan) {
    let Plan::Send {
        batch,
        delay,
        twice,
    } = plan
    else {
        return;
    };
    if batch.is_empty() {
        return;
    }
    tokio::spawn(async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        for outgoing in batch {
            if twice {
                attempts(Arc::clone(&shared), outgoing.clone()).await;
            }
            attempts(Arc::clone(&shared), outgoing).await;
        }
    });
}

/// Delivers a logged notification again, from its first attempt (the control API's resend).
pub fn resend(shared: Arc<Shared>, outgoing: Outgoing) {
    shared.with_state(|s| {
        if let Some(entry) = s.callback_log.get_mut(&outgoing.notification_id) {
            entry.state = DeliveryState::Pending;
        }
    });
    tokio::spawn(attempts(shared, outgoing));
}

/// Records one attempt in the log.
fn record_attempt(shared: &Shared, id: &str, attempt: Attempt, end: Option<DeliveryState>) {
    shared.with_state(|s| {
        if let Some(entry) = s.callback_log.get_mut(id) {
            entry.attempts.push(attempt);
            if let Some(state) = end {
                entry.state = state;
            }
        }
    });
}

/// The delivery of one notification: the first attempt and the retries.
async fn attempts(shared: Arc<Shared>, outgoing: Outgoing) {
    {
        let client: Client<_, Full<bytes::Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        let interval = RETRY_INTERVAL.div_f64(shared.config.time_scale.max(f64::MIN_POSITIVE));
        let id = outgoing.notification_id.as_str();
        let mut due = None;
        for attempt in 0..=RETRIES {
            if let Some(due) = due {
                // 15 minutes after the last attempt began on the sandbox's clock (a clock
                // advance brings it forward), or 15 minutes over --time-scale on the wall clock.
                shared.clock.wait_until(due, interval).await;
            }
            // Taken before the attempt is logged: a clock advance made once the log shows the
            // attempt always counts toward the next one.
            due = Some(shared.clock.now() + RETRY_INTERVAL);
            let last = attempt == RETRIES;
            let failed = Attempt {
                status: None,
                acknowledged: false,
            };
            let give_up = last.then_some(DeliveryState::Abandoned);
            if shared.in_callback_outage() {
                shared.with_state(|s| s.stats.callbacks_refused_outage += 1);
                record_attempt(&shared, id, failed, give_up);
                continue;
            }
            shared.with_state(|s| s.stats.callbacks_sent += 1);
            let Ok(request) = http::Request::post(&outgoing.url)
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Full::new(bytes::Bytes::from(outgoing.body.clone())))
            else {
                break;
            };
            let exchange = async {
                let response = client.request(request).await.ok()?;
                let status = response.status().as_u16();
                let body = response.into_body().collect().await.ok()?.to_bytes();
                Some((status, acknowledged(status, &body)))
            };
            match tokio::time::timeout(shared.config.callback_timeout, exchange).await {
                Ok(Some((status, true))) => {
                    shared.with_state(|s| s.stats.callbacks_acknowledged += 1);
                    let done = Attempt {
                        status: Some(status),
                        acknowledged: true,
                    };
                    record_attempt(&shared, id, done, Some(DeliveryState::Acknowledged));
                    return;
                }
                Ok(Some((status, false))) => {
                    let refused = Attempt {
                        status: Some(status),
                        acknowledged: false,
                    };
                    record_attempt(&shared, id, refused, give_up);
                }
                _ => record_attempt(&shared, id, failed, give_up),
            }
        }
        shared.with_state(|s| s.stats.callbacks_abandoned += 1);
    }
}
