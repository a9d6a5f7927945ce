//! The reconciler against the sandbox, on an injected clock (no sleeps): with every callback
//! lost, polls bring each of many transfers to the sandbox's final status within the schedule's
//! bound; with callbacks arriving in time, nothing is polled; a transfer held short of final past
//! the horizon is reported stuck exactly once.
//!
//! `IMTS_RECONCILE_TRANSFERS` (default 1000) and `IMTS_RECONCILE_SEED` (default 20) size and seed
//! the first test; the seed is printed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use imts::callbacks::{CallbackService, Delivery, Notification, Processor, Verifier};
use imts::journal::{Journal, MemoryJournal, RecordKey};
use imts::models::{CancelRequest, ConfirmRequest, Payout, PayoutConfirmRequest};
use imts::reconcile::{Mode, Planner, ReconcileEvent, Schedule};
use imts::stores::SqliteJournal;
use imts::types::{Timestamp, TransferStatus};
use imts::{AsyncClient, ClientBuilder, Credentials};
use imts_sandbox::{samples, AgentConfig, CallbackTarget, Sandbox, SandboxConfig};

const KEY: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";

fn agent() -> AgentConfig {
    AgentConfig::parse(&format!("recon-agent:recon-secret:{KEY}")).unwrap()
}

fn credentials(agent: &AgentConfig) -> Credentials {
    Credentials::new(agent.agent_id.parse().unwrap(), agent.agent_secret.clone())
        .with_partner_key(agent.partner_key.clone())
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn later(time: Timestamp, by: Duration) -> Timestamp {
    Timestamp::new(time.as_offset_date_time() + by)
}

/// How a transfer ends, driven by a client without the journal (a desk, another system): the
/// journal learns of it only by callback or poll.
#[derive(Clone, Copy, Debug)]
enum Fate {
    Success,
    Canceled,
    CanceledAfterConfirm,
    Error,
}

struct Bench {
    sandbox: Sandbox,
    journaled: AsyncClient,
    desk: AsyncClient,
    ok_sender: imts::types::ClientUuid,
    rejected_sender: imts::types::ClientUuid,
}

impl Bench {
    async fn start(config: SandboxConfig, journal: Arc<dyn Journal>) -> Self {
        let agent = agent();
        let sandbox = Sandbox::start(SandboxConfig {
            agents: vec![agent.clone()],
            ..config
        })
        .await
        .unwrap();
        let builder = || ClientBuilder::new(credentials(&agent)).base_url(sandbox.base_url());
        let journaled = builder().journal(journal).build().unwrap();
        let desk = builder().build().unwrap();
        let ok_sender = desk
            .create_person(&samples::create_person("Ok").unwrap())
            .await
            .unwrap()
            .client_uuid;
        let rejected_sender = desk
            .create_person(&samples::create_person("AML-REJECT-Sender").unwrap())
            .await
            .unwrap()
            .client_uuid;
        Self {
            sandbox,
            journaled,
            desk,
            ok_sender,
            rejected_sender,
        }
    }

    /// Creates `order` through the journal and drives it to `fate` from the desk; answers the
    /// sandbox's final status.
    async fn drive(&self, order: &str, fate: Fate) -> TransferStatus {
        let sender = match fate {
            Fate::Error => &self.rejected_sender,
            _ => &self.ok_sender,
        };
        let created = self
            .journaled
            .create_transfer(&samples::create_transfer(sender, order).unwrap())
            .await
            .unwrap();
        let id = created.transfer_id;
        let desk = &self.desk;
        let last = match fate {
            Fate::Canceled => desk.cancel(&CancelRequest::new(id)).await.unwrap(),
            Fate::Error => desk.confirm(&ConfirmRequest::new(id)).await.unwrap(),
            Fate::CanceledAfterConfirm => {
                desk.confirm(&ConfirmRequest::new(id.clone()))
                    .await
                    .unwrap();
                desk.cancel(&CancelRequest::new(id)).await.unwrap()
            }
            Fate::Success => {
                desk.confirm(&ConfirmRequest::new(id.clone()))
                    .await
                    .unwrap();
                let person = samples::person("Recipient").unwrap();
                desk.payout(&Payout::new(id.clone(), person)).await.unwrap();
                desk.payout_confirm(&PayoutConfirmRequest::new(id))
                    .await
                    .unwrap()
            }
        };
        last.status
    }

    fn status_calls(&self) -> u64 {
        self.sandbox
            .stats()
            .calls
            .get("status")
            .copied()
            .unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_callback_lost_polls_bring_each_transfer_to_its_final_status() {
    let transfers = env_or("IMTS_RECONCILE_TRANSFERS", 1000);
    let seed = env_or("IMTS_RECONCILE_SEED", 20);
    eprintln!("reconcile: {transfers} transfers, IMTS_RECONCILE_SEED={seed}");
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(SqliteJournal::open(dir.path().join("journal.db")).unwrap());
    let bench = Bench::start(
        SandboxConfig {
            // Notifications are made (a URL is set) and every one is dropped.
            callbacks: vec![CallbackTarget::All("http://127.0.0.1:9/lost".into())],
            callback_loss: 1.0,
            seed,
            ..SandboxConfig::default()
        },
        journal.clone(),
    )
    .await;
    let fates = [
        Fate::Success,
        Fate::Canceled,
        Fate::CanceledAfterConfirm,
        Fate::Error,
    ];
    let mut expected = BTreeMap::new();
    let mut rng = seed;
    for i in 0..transfers {
        // A small LCG picks each fate from the seed.
        rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let fate = fates[(rng >> 33) as usize % fates.len()];
        let order = format!("REC-{i:05}");
        expected.insert(order.clone(), bench.drive(&order, fate).await);
    }
    let finals: std::collections::BTreeSet<_> = expected.values().map(|s| s.as_str()).collect();
    assert_eq!(finals.len(), 3, "every final status reached: {finals:?}");
    assert_eq!(journal.tracked().await.unwrap().len() as u64, transfers);

    let schedule = Schedule::default().with_max_polls_per_second(20);
    let bound = schedule.max_polls(Some(&TransferStatus::New));
    let mut planner = Planner::new(schedule, seed);
    let start = Timestamp::new(time::OffsetDateTime::now_utc());
    let mut now = start;
    let mut passes = 0;
    let mut changed = 0;
    while !journal.tracked().await.unwrap().is_empty() {
        let report = bench
            .journaled
            .reconcile_once(&mut planner, now, Mode::Scheduled)
            .await
            .unwrap();
        changed += report
            .events
            .iter()
            .filter(|e| matches!(e, ReconcileEvent::Changed { .. }))
            .count();
        assert!(
            report
                .events
                .iter()
                .all(|e| matches!(e, ReconcileEvent::Changed { .. })),
            "seed {seed}: {:?}",
            report.events
        );
        let next = report.next.unwrap_or(later(now, Duration::from_secs(60)));
        now = next.max(later(now, Duration::from_secs(1)));
        passes += 1;
        assert!(
            passes < 100_000,
            "seed {seed}: the reconciler does not finish"
        );
    }
    let (mut polls, mut most) = (0u64, 0u64);
    for (order, status) in &expected {
        let record = journal
            .get(&RecordKey(order.clone()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.status.as_ref(), Some(status), "seed {seed}: {order}");
        let n = u64::from(record.tracking.polls);
        assert!(
            (1..=bound as u64).contains(&n),
            "seed {seed}: {order} polled {n} times (bound {bound})"
        );
        polls += n;
        most = most.max(n);
    }
    let stats = bench.sandbox.stats();
    assert_eq!(stats.callbacks_sent, 0, "every callback was lost");
    assert!(stats.callbacks_lost >= transfers, "{stats:?}");
    assert_eq!(
        bench.status_calls(),
        polls,
        "the sandbox counted every poll"
    );
    assert_eq!(changed as u64, transfers);
    let minutes = (now.as_offset_date_time() - start.as_offset_date_time()).whole_minutes();
    eprintln!(
        "RECONCILE transfers={transfers} polls={polls} max_polls_per_transfer={most} \
         bound={bound} passes={passes} simulated_minutes={minutes} callbacks_lost={}",
        stats.callbacks_lost
    );
}

/// Serves `processor` on a free port; returns its URL.
async fn serve<H: imts::callbacks::Handler + 'static>(processor: Arc<Processor<H>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/imts", listener.local_addr().unwrap());
    let service = CallbackService::new(processor);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_whose_callback_arrived_in_time_is_not_polled() {
    let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::default());
    let (finals, mut arrived) = tokio::sync::mpsc::unbounded_channel::<String>();
    let handler = move |delivery: Delivery| {
        let finals = finals.clone();
        async move {
            if let Notification::StatusUpdate(update) = &delivery.notification {
                if imts::protocol::lifecycle::is_final(&update.status) {
                    let _ = finals.send(update.transfer_id.to_string());
                }
            }
            Ok(())
        }
    };
    let processor = Arc::new(
        Processor::new(Verifier::new(agent().agent_secret.clone()), handler)
            .with_journal(Arc::clone(&journal)),
    );
    let url = serve(processor).await;
    let bench = Bench::start(
        SandboxConfig {
            callbacks: vec![CallbackTarget::All(url)],
            ..SandboxConfig::default()
        },
        Arc::clone(&journal),
    )
    .await;
    let fates = [
        Fate::Success,
        Fate::Canceled,
        Fate::Error,
        Fate::CanceledAfterConfirm,
    ];
    let count = 40;
    for i in 0..count {
        bench
            .drive(&format!("CB-{i:03}"), fates[i % fates.len()])
            .await;
    }
    // Each final callback went through the journal before the handler saw it.
    for _ in 0..count {
        tokio::time::timeout(Duration::from_secs(30), arrived.recv())
            .await
            .expect("every final callback arrives")
            .unwrap();
    }
    assert!(
        journal.tracked().await.unwrap().is_empty(),
        "all final by callback"
    );
    let mut planner = Planner::new(Schedule::default(), 5);
    let start = Timestamp::new(time::OffsetDateTime::now_utc());
    for minute in 0..(4 * 60) {
        let now = later(start, Duration::from_secs(minute * 60));
        let report = bench
            .journaled
            .reconcile_once(&mut planner, now, Mode::Scheduled)
            .await
            .unwrap();
        assert_eq!(report.polled, 0);
    }
    assert_eq!(bench.status_calls(), 0, "no poll reached the sandbox");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_held_short_of_final_is_reported_stuck_once() {
    let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::default());
    let bench = Bench::start(
        SandboxConfig {
            callbacks: vec![CallbackTarget::All("http://127.0.0.1:9/lost".into())],
            callback_loss: 1.0,
            ..SandboxConfig::default()
        },
        Arc::clone(&journal),
    )
    .await;
    let created = bench
        .journaled
        .create_transfer(&samples::create_transfer(&bench.ok_sender, "STUCK-1").unwrap())
        .await
        .unwrap();
    bench
        .desk
        .confirm(&ConfirmRequest::new(created.transfer_id))
        .await
        .unwrap();
    let horizon = Duration::from_secs(3 * 3600);
    let schedule = Schedule::default().with_horizon(horizon);
    let bound = schedule.max_polls(Some(&TransferStatus::New))
        + schedule.max_polls(Some(&TransferStatus::Process));
    let mut planner = Planner::new(schedule, 11);
    let start = Timestamp::new(time::OffsetDateTime::now_utc());
    let mut stuck = Vec::new();
    for minute in 0..(12 * 60) {
        let now = later(start, Duration::from_secs(minute * 60));
        let report = bench
            .journaled
            .reconcile_once(&mut planner, now, Mode::Scheduled)
            .await
            .unwrap();
        stuck.extend(
            report
                .events
                .into_iter()
                .filter(|e| matches!(e, ReconcileEvent::Stuck { .. })),
        );
    }
    assert_eq!(stuck.len(), 1, "{stuck:?}");
    let ReconcileEvent::Stuck { status, .. } = &stuck[0] else {
        unreachable!()
    };
    assert_eq!(status.as_ref(), Some(&TransferStatus::Process));
    let polls = bench.status_calls();
    assert!(
        polls >= 2 && polls <= bound as u64,
        "{polls} polls, bound {bound}: new then process, then no more"
    );
}

/// The background task on the wall clock: a transfer moved by the desk, its callback lost, is
/// found by the task's first poll and reported as an event; stopping the handle ends the task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_task_reports_what_it_finds_until_stopped() {
    let journal: Arc<dyn Journal> = Arc::new(MemoryJournal::default());
    let bench = Bench::start(
        SandboxConfig {
            callbacks: vec![CallbackTarget::All("http://127.0.0.1:9/lost".into())],
            callback_loss: 1.0,
            ..SandboxConfig::default()
        },
        Arc::clone(&journal),
    )
    .await;
    let status = bench.drive("TASK-1", Fate::Canceled).await;
    // Polls due at once, so the test waits on the event, not on a clock.
    let at_once = imts::reconcile::Cadence {
        first: Duration::ZERO,
        steps: vec![imts::reconcile::Step {
            until: Duration::MAX,
            every: Duration::from_secs(1),
        }],
    };
    let planner = Planner::new(
        Schedule::default()
            .with_default_cadence(at_once.clone())
            .with_cadence(TransferStatus::New, at_once),
        1,
    );
    let mut handle = bench.journaled.reconciler(planner).unwrap();
    let event = tokio::time::timeout(Duration::from_secs(20), handle.next_event())
        .await
        .expect("an event")
        .expect("the task runs");
    match event {
        ReconcileEvent::Changed { key, to, .. } => {
            assert_eq!((key.0.as_str(), to), ("TASK-1", status));
        }
        other => panic!("{other:?}"),
    }
    handle.stop().await;
    assert!(journal.tracked().await.unwrap().is_empty());
}
