//! Wire models, one module per resource: the requests you build and the responses you decode.
//!
//! A request is built by `new` with its required fields (at most four; Create transfer takes
//! them by name in a [`NewTransfer`]) and a `with_<field>` setter for each optional one. A
//! response is only ever decoded. Every object keeps the fields this version does not know in
//! its `extra` field, an [`Extra`], with their exact JSON text.

pub mod agents;
pub mod auth;
pub mod callbacks;
pub mod clients;
mod extra;
pub mod fees;
pub mod transfers;

pub use extra::Extra;

pub use agents::{Agent, AgentsResponse, GetAgentsRequest};
pub use auth::{Token, TokenResponse};
pub use callbacks::{StatusUpdate, TransferReceived};
pub use clients::{
    BusinessInfoRequest, ClientCreated, ClientInfo, CreateBusiness, CreateBusinessSealed,
    CreatePerson, CreatePersonSealed, PersonInfoRequest,
};
pub use fees::{FeesRequest, FeesResponse};
pub use transfers::{
    CancelRequest, ConfirmRequest, CreateTransferRequest, InfoRequest, NewTransfer, Payout,
    PayoutConfirmRequest, PayoutSealed, PrintApplicationRequest, PrintedApplication, SearchRequest,
    SearchResponse, StatusRequest, StatusResponse, Transfer,
};
