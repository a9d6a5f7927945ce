//! The journal hook's durable writes: an operation a lookup resolves is recorded already marked
//! as sending (one write before its bytes), Create person and business are recorded as intents
//! and marked when sent (two), every later attempt is marked on its own, and only the outcome
//! may be committed without waiting for the disk.

use std::sync::atomic::{AtomicUsize, Ordering};

use imts_core::error::{Error, TransportError, TransportErrorKind};
use imts_core::journal::{
    resume_plan, Intent, Journal, JournalError, JournalHook, MemoryJournal, MoneyOp, Record,
    RecordKey, ResumePlan, State, Write,
};
use imts_core::token_store::BoxFuture;
use imts_core::values::Timestamp;
use pollster::block_on;
use serde_json::value::RawValue;

/// A memory journal that counts the writes asked of it, and notes which must be flushed.
#[derive(Default)]
struct Counting {
    inner: MemoryJournal,
    writes: AtomicUsize,
    flushes: std::sync::Mutex<Vec<bool>>,
}

impl Counting {
    fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }
    fn flushes(&self) -> Vec<bool> {
        self.flushes.lock().unwrap().clone()
    }
    fn record(&self, key: &str) -> Record {
        block_on(self.inner.get(&RecordKey(key.into())))
            .unwrap()
            .expect("a record")
    }
}

impl Journal for Counting {
    fn write(&self, write: Write) -> BoxFuture<'_, Result<Record, JournalError>> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.flushes.lock().unwrap().push(write.needs_flush());
        self.inner.write(write)
    }
    fn get<'a>(
        &'a self,
        key: &'a RecordKey,
    ) -> BoxFuture<'a, Result<Option<Record>, JournalError>> {
        self.inner.get(key)
    }
    fn list(&self, open_only: bool) -> BoxFuture<'_, Result<Vec<Record>, JournalError>> {
        self.inner.list(open_only)
    }
    fn tracked(&self) -> BoxFuture<'_, Result<Vec<Record>, JournalError>> {
        self.inner.tracked()
    }
    fn claim<'a>(
        &'a self,
        key: &'a RecordKey,
        holder: &'a str,
        until: Timestamp,
        now: Timestamp,
    ) -> BoxFuture<'a, Result<bool, JournalError>> {
        self.inner.claim(key, holder, until, now)
    }
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::new(time::OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(seconds))
}

fn intent(key: &str, op: MoneyOp, order_id: Option<&str>, transfer_id: Option<&str>) -> Intent {
    Intent {
        key: RecordKey(key.into()),
        op,
        order_id: order_id.map(str::to_owned),
        transfer_id: transfer_id.map(str::to_owned),
        body: format!("{{\"key\":\"{key}\"}}").into_bytes(),
        agent: None,
    }
}

/// Begins, marks `attempts` sends, and ends applied (`sent_ok`) or failed; answers the writes before the
/// first attempt's bytes and in all.
fn run(journal: &Counting, intent: Intent, attempts: u32, sent_ok: bool) -> (usize, usize) {
    let mut hook = block_on(JournalHook::begin(journal, intent, at(1))).unwrap();
    let mut before_first_bytes = None;
    for n in 0..attempts {
        block_on(hook.before_send(at(2 + i64::from(n)))).unwrap();
        before_first_bytes.get_or_insert(journal.writes());
    }
    let result: Result<Box<RawValue>, Error> = if sent_ok {
        Ok(RawValue::from_string(r#"{"status":"new","transfer_id":"T-9"}"#.into()).unwrap())
    } else {
        Err(Error::Journal(JournalError::Unavailable("token".into())))
    };
    block_on(hook.finish(&result, at(9)));
    (before_first_bytes.unwrap_or(0), journal.writes())
}

#[test]
fn a_create_transfer_is_recorded_as_sending_in_one_write_before_its_bytes() {
    let journal = Counting::default();
    let create = intent("ORD-1", MoneyOp::CreateTransfer, Some("ORD-1"), None);
    assert!(create.sends_at_once());
    let mut hook = block_on(JournalHook::begin(&journal, create, at(1))).unwrap();
    assert_eq!(journal.writes(), 1);
    let record = journal.record("ORD-1");
    assert_eq!((record.state, record.attempts), (State::Sent, 1));
    // A crash here (before any byte went) resumes with a lookup, never a blind send.
    assert_eq!(
        resume_plan(&record),
        ResumePlan::LookUpOrder("ORD-1".into())
    );
    block_on(hook.before_send(at(2))).unwrap();
    assert_eq!(
        journal.writes(),
        1,
        "the first attempt was marked with the intent"
    );
    block_on(hook.before_send(at(3))).unwrap();
    assert_eq!(journal.writes(), 2, "a retry is marked on its own");
    assert_eq!(journal.record("ORD-1").attempts, 2);
    block_on(hook.finish(&Err::<Box<RawValue>, _>(uncertain()), at(4)));
    // The intent and the retry's mark wait for the disk; the outcome need not.
    assert_eq!(journal.flushes(), [true, true, false]);
}

fn uncertain() -> Error {
    Error::Transport {
        endpoint: "create".into(),
        error: TransportError::new(TransportErrorKind::Timeout, "no answer"),
    }
}

#[test]
fn each_operation_costs_the_writes_its_resume_plan_allows() {
    let cases = [
        (
            intent("ORD-2", MoneyOp::CreateTransfer, Some("ORD-2"), None),
            1,
        ),
        (
            intent("confirm:T-1", MoneyOp::Confirm, None, Some("T-1")),
            1,
        ),
        (intent("payout:T-1", MoneyOp::Payout, None, Some("T-1")), 1),
        (intent("cancel:T-1", MoneyOp::Cancel, None, Some("T-1")), 1),
        // Nothing to look it up by: recorded as an intent (resumed by sending), then marked.
        (intent("person-1", MoneyOp::CreatePerson, None, None), 2),
        (intent("business-1", MoneyOp::CreateBusiness, None, None), 2),
        // A transition whose transfer is not known cannot be read back either.
        (intent("confirm:?", MoneyOp::Confirm, None, None), 2),
    ];
    for (intent, before_bytes) in cases {
        let key = intent.key.0.clone();
        let journal = Counting::default();
        let (first, total) = run(&journal, intent, 1, true);
        assert_eq!(
            first, before_bytes,
            "{key}: durable writes before the bytes"
        );
        assert_eq!(total, before_bytes + 1, "{key}: and the outcome");
        let record = journal.record(&key);
        assert_eq!(
            (record.state, record.attempts),
            (State::Applied, 1),
            "{key}"
        );
    }
}

#[test]
fn a_call_that_never_sent_is_refused_as_not_sent() {
    let journal = Counting::default();
    let create = intent("ORD-3", MoneyOp::CreateTransfer, Some("ORD-3"), None);
    let (_, total) = run(&journal, create, 0, false);
    assert_eq!(total, 2);
    let record = journal.record("ORD-3");
    assert_eq!(record.state, State::Refused);
    assert_eq!(record.outcome.as_deref(), Some("not sent"));
}

#[test]
fn the_same_request_again_is_marked_on_its_record_and_a_finished_one_is_refused() {
    let journal = Counting::default();
    let create = || intent("ORD-4", MoneyOp::CreateTransfer, Some("ORD-4"), None);
    // Left uncertain (no definite answer), then called again with the same body.
    let mut hook = block_on(JournalHook::begin(&journal, create(), at(1))).unwrap();
    block_on(hook.before_send(at(2))).unwrap();
    block_on(hook.finish(&Err::<Box<RawValue>, _>(uncertain()), at(3)));
    assert_eq!(journal.record("ORD-4").state, State::Unknown);
    let (_, _) = run(&journal, create(), 1, true);
    let record = journal.record("ORD-4");
    assert_eq!((record.state, record.attempts), (State::Applied, 2));
    // Applied: the same request cannot be marked as sending again.
    let again = block_on(JournalHook::begin(&journal, create(), at(10)));
    assert!(
        matches!(
            again,
            Err(Error::Journal(JournalError::BadTransition {
                from: State::Applied,
                ..
            }))
        ),
        "{again:?}"
    );
    assert_eq!(journal.record("ORD-4").state, State::Applied);
}
