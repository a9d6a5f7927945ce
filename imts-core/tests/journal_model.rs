//! The journal's model: the transition table, the one apply logic, resume plans, and the
//! in-memory journal's key rules.

use imts_core::journal::{
    resume_plan, Event, Intent, Journal, JournalError, MemoryJournal, MoneyOp, Record, RecordKey,
    ResumePlan, State, Update, TRANSITIONS,
};
use imts_core::values::Timestamp;
use proptest::prelude::*;

const EVENTS: [Event; 4] = [
    Event::Sending,
    Event::Applied,
    Event::Refused,
    Event::Uncertain,
];

fn at(seconds: i64) -> Timestamp {
    Timestamp::new(time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(seconds))
}

fn intent(key: &str, op: MoneyOp, body: &[u8]) -> Intent {
    Intent {
        key: RecordKey(key.into()),
        op,
        order_id: (op == MoneyOp::CreateTransfer).then(|| key.to_owned()),
        transfer_id: (op != MoneyOp::CreateTransfer).then(|| "T-1".to_owned()),
        body: body.to_vec(),
        agent: None,
    }
}

#[test]
fn nothing_leaves_a_final_state_and_every_state_has_a_name() {
    for state in State::ALL {
        assert_eq!(State::parse(state.as_str()), Some(state));
        for event in EVENTS {
            if state.is_final() {
                assert_eq!(state.after(event), None, "{state} {event:?}");
            }
        }
    }
    assert!(TRANSITIONS.iter().all(|(from, _, _)| !from.is_final()));
    for op in MoneyOp::ALL {
        assert_eq!(MoneyOp::parse(op.as_str()), Some(op));
        assert_eq!(MoneyOp::of(op.endpoint()), Some(op));
    }
}

fn op_strategy() -> impl Strategy<Value = MoneyOp> {
    prop::sample::select(MoneyOp::ALL.to_vec())
}

proptest! {
    /// Any sequence of events: allowed ones move along the table, refused ones change nothing,
    /// and a final state, once reached, stays.
    #[test]
    fn events_follow_the_table(op in op_strategy(), events in prop::collection::vec(0..4usize, 0..20)) {
        let mut record = intent("ORD-1", op, b"{}").to_record(at(0));
        let mut reached_final: Option<State> = None;
        for (i, e) in events.into_iter().enumerate() {
            let event = EVENTS[e];
            let before = record.clone();
            let now = at(i64::try_from(i).unwrap() + 1);
            match record.apply(event, &Update::default(), now) {
                Ok(()) => {
                    prop_assert_eq!(before.state.after(event), Some(record.state));
                    prop_assert_eq!(record.attempts, before.attempts + u32::from(event == Event::Sending));
                }
                Err(JournalError::BadTransition { from, .. }) => {
                    prop_assert_eq!(from, before.state);
                    prop_assert_eq!(&record, &before, "a refused event changes nothing");
                }
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
            if let Some(final_state) = reached_final {
                prop_assert_eq!(record.state, final_state);
            } else if record.state.is_final() {
                reached_final = Some(record.state);
            }
        }
    }

    /// Resuming: whatever the plan and the answer, a second resume of a resolved record has
    /// nothing to do; Create person/business past their intent are never planned for a resend.
    #[test]
    fn resume_twice_is_a_no_op(op in op_strategy(), sent in 0..3usize, answer in 0..3usize) {
        let mut record = intent("ORD-2", op, b"{\"a\":1}").to_record(at(0));
        for _ in 0..sent {
            record.apply(Event::Sending, &Update::default(), at(1)).unwrap();
        }
        if sent == 2 {
            record.apply(Event::Uncertain, &Update::default(), at(2)).unwrap();
        }
        let plan = resume_plan(&record);
        match (&plan, op) {
            (ResumePlan::Send, _) => prop_assert_eq!(record.state, State::Intent),
            (ResumePlan::NeedsPerson, MoneyOp::CreatePerson | MoneyOp::CreateBusiness) => {}
            (ResumePlan::NeedsPerson, _) => prop_assert!(false, "{op:?} can be looked up"),
            (ResumePlan::LookUpOrder(order), MoneyOp::CreateTransfer) => prop_assert_eq!(order, "ORD-2"),
            (ResumePlan::ReadTransfer { transfer_id, .. }, _) => prop_assert_eq!(transfer_id, "T-1"),
            (plan, op) => prop_assert!(false, "{plan:?} for {op:?}"),
        }
        if plan == ResumePlan::NeedsPerson {
            return Ok(());
        }
        // The resume's answer: applied, refused, or (a resend) sent again then applied.
        let event = [Event::Applied, Event::Refused, Event::Sending][answer];
        record.apply(event, &Update::default(), at(3)).unwrap();
        if event == Event::Sending {
            record.apply(Event::Applied, &Update::default(), at(4)).unwrap();
        }
        prop_assert!(record.state.is_final());
        prop_assert_eq!(resume_plan(&record), ResumePlan::Nothing);
    }
}

#[test]
fn the_memory_journal_keeps_keys_to_one_request_and_claims_to_one_holder() {
    let journal = MemoryJournal::default();
    let first = intent("ORD-3", MoneyOp::CreateTransfer, b"{\"amount\":1}");
    let recorded: Record = pollster::block_on(journal.record(&first, at(0))).unwrap();
    assert_eq!(recorded.state, State::Intent);
    // The same request again: its record, not a second one.
    let again = pollster::block_on(journal.record(&first, at(5))).unwrap();
    assert_eq!(again, recorded);
    // Another body under the same key: refused, naming both hashes.
    let other = intent("ORD-3", MoneyOp::CreateTransfer, b"{\"amount\":2}");
    let error = pollster::block_on(journal.record(&other, at(6))).unwrap_err();
    let text = error.to_string();
    assert!(text.contains(&recorded.body_hash), "{text}");
    assert!(
        text.contains(&imts_core::journal::body_hash(b"{\"amount\":2}")),
        "{text}"
    );

    let key = RecordKey("ORD-3".into());
    assert!(pollster::block_on(journal.claim(&key, "a", at(60), at(0))).unwrap());
    assert!(
        !pollster::block_on(journal.claim(&key, "b", at(60), at(1))).unwrap(),
        "a holds it"
    );
    assert!(
        pollster::block_on(journal.claim(&key, "b", at(120), at(61))).unwrap(),
        "a's lease expired"
    );

    pollster::block_on(journal.advance(&key, Event::Sending, &Update::default(), at(62))).unwrap();
    let done =
        pollster::block_on(journal.advance(&key, Event::Applied, &Update::default(), at(63)))
            .unwrap();
    assert_eq!((done.state, done.attempts), (State::Applied, 1));
    assert!(
        pollster::block_on(journal.list(true)).unwrap().is_empty(),
        "nothing open"
    );
    assert_eq!(pollster::block_on(journal.list(false)).unwrap().len(), 1);
    assert!(
        matches!(
            pollster::block_on(journal.advance(&key, Event::Sending, &Update::default(), at(64))),
            Err(JournalError::BadTransition {
                from: State::Applied,
                ..
            })
        ),
        "a final record stays final"
    );
}
