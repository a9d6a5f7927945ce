//! The reconciler's model without I/O: the schedule's windows and bound, due times after polls
//! and changes, the stuck report, the cap, and the one monotonic merge of callbacks and polls
//! under any interleaving.

use std::time::Duration;

use imts_core::enums::TransferStatus as S;
use imts_core::journal::{
    Event, Intent, Journal, MemoryJournal, MoneyOp, Observation, Record, RecordKey, Update,
};
use imts_core::lifecycle::stage;
use imts_core::reconcile::{Due, Mode, Planner, Schedule};
use imts_core::values::Timestamp;
use pollster::block_on;
use proptest::prelude::*;

const MINUTE: u64 = 60;

fn at(seconds: u64) -> Timestamp {
    Timestamp::new(
        time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(1_800_000_000 + seconds as i64),
    )
}

fn secs(time: Timestamp) -> u64 {
    ((time.as_offset_date_time() - at(0).as_offset_date_time()).whole_seconds()) as u64
}

/// An applied Create transfer in `status`, changed at `changed`.
fn created(journal: &MemoryJournal, order: &str, status: S, changed: u64) -> Record {
    let key = RecordKey(order.into());
    let intent = Intent {
        key: key.clone(),
        op: MoneyOp::CreateTransfer,
        order_id: Some(order.into()),
        transfer_id: None,
        body: format!("{{\"order_id\":\"{order}\"}}").into_bytes(),
        agent: None,
    };
    block_on(journal.record(&intent, at(changed))).unwrap();
    let update = Update {
        outcome: None,
        status: Some(status),
        transfer_id: Some(format!("T-{order}")),
    };
    block_on(journal.advance(&key, Event::Applied, &update, at(changed))).unwrap()
}

#[test]
fn windows_tile_the_time_to_the_horizon_and_bound_the_polls() {
    let schedule = Schedule::default().with_horizon(Duration::from_secs(24 * 3600));
    for status in [S::New, S::Process, S::Waiting] {
        let windows: Vec<_> = schedule.windows(Some(&status)).collect();
        assert!(!windows.is_empty());
        for pair in windows.windows(2) {
            assert_eq!(pair[0].0 + pair[0].1, pair[1].0, "{status}: contiguous");
        }
        let (start, length) = *windows.last().unwrap();
        assert_eq!(
            start + length,
            schedule.horizon(),
            "{status}: ends at the horizon"
        );
        assert_eq!(schedule.max_polls(Some(&status)), windows.len());
    }
    // The standard cadence: 3 minutes, every 5 to half an hour, then every 30.
    let process: Vec<_> = schedule.windows(Some(&S::Process)).take(3).collect();
    assert_eq!(
        process[0],
        (
            Duration::from_secs(3 * MINUTE),
            Duration::from_secs(5 * MINUTE)
        )
    );
    assert_eq!(process[1].0, Duration::from_secs(8 * MINUTE));
}

#[test]
fn a_transfer_is_polled_once_per_window_then_reported_stuck() {
    let journal = MemoryJournal::default();
    let schedule = Schedule::default().with_horizon(Duration::from_secs(2 * 3600));
    let record = created(&journal, "ORD-1", S::Process, 0);
    let key = record.key.clone();
    let mut polls = 0;
    let mut record = record;
    loop {
        match schedule.due(&record, 9) {
            Due::At(due) => {
                let windows: Vec<_> = schedule.windows(Some(&S::Process)).collect();
                let (start, length) = windows[polls];
                let offset = Duration::from_secs(secs(due));
                assert!(
                    offset >= start && offset < start + length,
                    "poll {polls} at {offset:?} inside its window {start:?}+{length:?}"
                );
                record =
                    block_on(journal.observe(&key, &Observation::Polled(S::Process), due)).unwrap();
                polls += 1;
            }
            Due::Stuck(when) => {
                assert_eq!(secs(when), 2 * 3600, "stuck at the horizon");
                break;
            }
        }
        assert!(polls <= 100, "bounded");
    }
    assert_eq!(polls, schedule.max_polls(Some(&S::Process)));
    // The same seed gives the same due times; another seed others.
    let fresh = created(&journal, "ORD-2", S::Process, 0);
    assert_eq!(schedule.due(&fresh, 9), schedule.due(&fresh, 9));
    assert_ne!(schedule.due(&fresh, 9), schedule.due(&fresh, 10));
}

#[test]
fn an_endless_horizon_is_cut_to_the_longest_one_and_every_window_stays_computable() {
    let schedule = Schedule::default().with_horizon(Duration::MAX);
    assert_eq!(schedule.horizon(), imts_core::reconcile::MAX_HORIZON);
    let journal = MemoryJournal::default();
    let record = created(&journal, "ORD-H", S::Process, 0);
    assert!(schedule.max_polls(Some(&S::Process)) < 5000);
    assert!(matches!(schedule.due(&record, 1), Due::At(_)));
}

#[test]
fn a_change_restarts_the_schedule_and_a_final_status_ends_it() {
    let journal = MemoryJournal::default();
    let schedule = Schedule::default();
    let key = created(&journal, "ORD-1", S::Process, 0).key;
    let moved =
        block_on(journal.observe(&key, &Observation::Callback(S::Waiting), at(600))).unwrap();
    let Due::At(due) = schedule.due(&moved, 1) else {
        panic!("due")
    };
    assert!(secs(due) >= 600 + 3 * MINUTE, "measured from the change");
    let done =
        block_on(journal.observe(&key, &Observation::Callback(S::Success), at(700))).unwrap();
    assert!(!done.is_tracked());
    let mut planner = Planner::new(schedule, 1);
    let plan = planner.plan(&[done], at(100_000), Mode::Every { since: at(0) });
    assert!(plan.polls.is_empty() && plan.stuck.is_empty());
}

#[test]
fn the_cap_spreads_polls_and_every_mode_takes_each_once() {
    let journal = MemoryJournal::default();
    let records: Vec<Record> = (0..20)
        .map(|i| created(&journal, &format!("ORD-{i:02}"), S::Process, 0))
        .collect();
    let mut planner = Planner::new(Schedule::default().with_max_polls_per_second(4), 3);
    let late = at(3600);
    let first = planner.plan(&records, late, Mode::Scheduled);
    assert_eq!(
        (first.polls.len(), first.deferred),
        (4, 16),
        "a burst of one second"
    );
    assert_eq!(planner.plan(&records, late, Mode::Scheduled).polls.len(), 0);
    let later = Timestamp::new(late.as_offset_date_time() + time::Duration::seconds(2));
    assert_eq!(
        planner.plan(&records, later, Mode::Scheduled).polls.len(),
        4,
        "refilled at the cap's rate, up to one second's worth"
    );
    // `Every` takes only the records not polled since the sweep began.
    let since = at(10);
    for key in &first.polls {
        block_on(journal.observe(key, &Observation::Polled(S::Process), at(11))).unwrap();
    }
    let now = block_on(journal.tracked()).unwrap();
    let mut wide = Planner::new(Schedule::default().with_max_polls_per_second(100), 3);
    let sweep = wide.plan(&now, at(12), Mode::Every { since });
    assert_eq!(sweep.polls.len(), 16);
    assert!(sweep.polls.iter().all(|k| !first.polls.contains(k)));
}

#[test]
fn stuck_is_recorded_once() {
    let journal = MemoryJournal::default();
    let key = created(&journal, "ORD-1", S::Process, 0).key;
    let mut record = block_on(journal.get(&key)).unwrap().unwrap();
    assert!(record.observe(&Observation::Stuck, at(1)));
    assert!(
        !record.observe(&Observation::Stuck, at(2)),
        "a second report changes nothing"
    );
    block_on(journal.observe(&key, &Observation::Stuck, at(1))).unwrap();
    assert!(block_on(journal.tracked()).unwrap().is_empty());
    assert!(
        !block_on(journal.claim(&key, "a", at(9), at(1))).unwrap(),
        "nothing left to do"
    );
}

/// Life-cycle paths from `new` to each final status.
const PATHS: &[&[S]] = &[
    &[S::New, S::Process, S::Waiting, S::Success],
    &[S::New, S::Process, S::Canceled],
    &[S::New, S::Error],
    &[S::New, S::Canceled],
    &[S::New, S::Process, S::Waiting, S::Canceled],
];

proptest! {
    /// Callbacks and polls of a transfer's statuses, delivered in any order and any number of
    /// times: the journal ends at the latest status by the life cycle, and never moved back.
    #[test]
    fn any_interleaving_of_callbacks_and_polls_ends_at_the_latest_status(
        path in 0..PATHS.len(),
        deliveries in proptest::collection::vec((0usize..4, any::<bool>()), 1..24),
    ) {
        let path = PATHS[path];
        let journal = MemoryJournal::default();
        let key = created(&journal, "ORD-P", S::New, 0).key;
        let mut highest = 0;
        let mut seen_stage = 0;
        for (i, (step, by_poll)) in deliveries.iter().enumerate() {
            let status = path[step % path.len()].clone();
            highest = highest.max(step % path.len());
            let observation = if *by_poll {
                Observation::Polled(status)
            } else {
                Observation::Callback(status)
            };
            let record = block_on(journal.observe(&key, &observation, at(i as u64 + 1))).unwrap();
            let now_stage = stage(record.status.as_ref().unwrap()).unwrap();
            prop_assert!(now_stage >= seen_stage, "never backwards");
            seen_stage = now_stage;
        }
        let record = block_on(journal.get(&key)).unwrap().unwrap();
        prop_assert_eq!(record.status.as_ref(), Some(&path[highest]));
    }
}
