//! What a successful answer teaches a journal record: the transfer's id and status, so the
//! journal knows each transfer it created and where it last stood (the reconciler polls from
//! there).

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::enums::TransferStatus;
use crate::models::{
    AgentsResponse, ClientCreated, ClientInfo, FeesResponse, PrintedApplication, SearchResponse,
    StatusResponse, Transfer,
};

use super::store::Update;

/// An operation's answer, as far as the journal cares.
pub trait Learnt {
    /// The id and status this answer carries (none by default).
    fn learnt(&self) -> Update {
        Update::default()
    }

    /// The partner's order id this answer names, if any (a transition's answer points back at
    /// the transfer's Create record).
    fn order_id(&self) -> Option<String> {
        None
    }
}

impl Learnt for Transfer {
    fn learnt(&self) -> Update {
        Update {
            outcome: None,
            status: Some(self.status.clone()),
            transfer_id: Some(self.transfer_id.to_string()),
        }
    }

    fn order_id(&self) -> Option<String> {
        self.order_id.as_ref().map(ToString::to_string)
    }
}

impl Learnt for StatusResponse {
    fn learnt(&self) -> Update {
        Update {
            outcome: None,
            status: Some(self.status.clone()),
            transfer_id: Some(self.transfer_id.to_string()),
        }
    }
}

/// A raw answer (a resent body's, a raw call's): the id and status when it has them.
impl Learnt for Box<RawValue> {
    fn learnt(&self) -> Update {
        #[derive(Deserialize)]
        struct Facts {
            transfer_id: Option<serde_json::Value>,
            status: Option<String>,
        }
        let Ok(facts) = serde_json::from_str::<Facts>(self.get()) else {
            return Update::default();
        };
        let transfer_id = facts.transfer_id.and_then(|id| match id {
            serde_json::Value::String(text) => Some(text),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => None,
        });
        Update {
            outcome: None,
            status: facts.status.as_deref().map(TransferStatus::from),
            transfer_id,
        }
    }
}

impl Learnt for AgentsResponse {}
impl Learnt for ClientCreated {}
impl Learnt for ClientInfo {}
impl Learnt for FeesResponse {}
impl Learnt for PrintedApplication {}
impl Learnt for SearchResponse {}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn a_raw_answer_gives_its_id_and_status_and_nothing_else_is_guessed() {
        let learnt = raw(r#"{"transfer_id":12,"status":"process","other":[1]}"#).learnt();
        assert_eq!(learnt.transfer_id.as_deref(), Some("12"));
        assert_eq!(
            learnt.status.as_ref().map(TransferStatus::as_str),
            Some("process")
        );
        let learnt = raw(r#"{"transfer_id":"T-9"}"#).learnt();
        assert_eq!(
            (learnt.transfer_id.as_deref(), learnt.status),
            (Some("T-9"), None)
        );
        assert_eq!(raw("[1,2]").learnt(), Update::default());
        assert_eq!(
            raw(r#"{"transfer_id":{"x":1}}"#).learnt(),
            Update::default()
        );
    }
}
