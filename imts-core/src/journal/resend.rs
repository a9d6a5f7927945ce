//! [`Resend`]: a recorded request sent again exactly as recorded (its signature included).

use serde_json::value::RawValue;

use crate::endpoint::Route;
use crate::error::Error;
use crate::operation::{Operation, Params, SealContext, Subject};

use super::record::Record;
use super::store::JournalError;

/// The recorded body of a journal record, as an operation: the same bytes go out again (not
/// signed anew: the recorded `pg_sig` and `pg_salt` travel with them), and an uncertain answer is
/// looked up by the record's `order_id` or transfer id like any write.
#[derive(Clone)]
pub struct Resend {
    route: Route,
    body: Vec<u8>,
    subject: Subject,
}

impl std::fmt::Debug for Resend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resend")
            .field("route", &self.route.name)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Resend {
    /// The resend of `record`.
    ///
    /// # Errors
    /// [`JournalError::Corrupt`] when the record's body is not JSON or its ids are invalid
    /// (reported, never sent).
    pub fn of(record: &Record) -> Result<Self, JournalError> {
        let corrupt =
            |what: &str| JournalError::Corrupt(format!("record `{}`: {what}", record.key));
        serde_json::from_slice::<&RawValue>(&record.body)
            .map_err(|_| corrupt("the recorded body is not JSON"))?;
        let subject = match (&record.order_id, &record.transfer_id) {
            (Some(order), _) if record.op == super::MoneyOp::CreateTransfer => {
                Subject::Order(order.parse().map_err(|_| corrupt("invalid order id"))?)
            }
            (_, Some(transfer)) => Subject::Transfer(
                transfer
                    .parse()
                    .map_err(|_| corrupt("invalid transfer id"))?,
            ),
            _ => Subject::None,
        };
        let mut route = record.op.endpoint().route();
        route.signed = false; // signed when it was recorded
        Ok(Self {
            route,
            body: record.body.clone(),
            subject,
        })
    }
}

impl Operation for Resend {
    type Output = Box<RawValue>;

    fn route(&self) -> Route {
        self.route.clone()
    }

    fn params(&self, _ctx: &SealContext<'_>) -> Result<Params, Error> {
        Ok(Params::json(self.body.clone()))
    }

    fn subject(&self) -> Subject {
        self.subject.clone()
    }
}
