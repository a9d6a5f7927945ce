//! Wire models, one module per resource. Every object keeps unknown fields in `extra`.

pub mod agents;
pub mod auth;
pub mod callbacks;
pub mod clients;
pub mod fees;
pub mod transfers;

pub use agents::{Agent, AgentsResponse, GetAgentsRequest};
pub use auth::{Token, TokenResponse};
pub use callbacks::{StatusUpdate, TransferReceived};
pub use clients::{
    BusinessInfoRequest, ClientCreated, ClientInfo, CreateBusiness, CreateBusinessRequest,
    CreatePerson, CreatePersonRequest, PersonInfoRequest,
};
pub use fees::{FeesRequest, FeesResponse};
pub use transfers::{
    CancelRequest, ConfirmRequest, CreateTransferRequest, InfoRequest, Payout,
    PayoutConfirmRequest, PayoutRequest, PrintApplicationRequest, PrintedApplication,
    SearchRequest, SearchResponse, StatusRequest, StatusResponse, Transfer,
};
