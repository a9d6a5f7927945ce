//! The endpoint methods every client has, declared once. The transports expand this list into
//! their `async` or blocking methods, so the two clients cannot drift apart.

/// Expands into one method per endpoint, each forwarding to `self.call(request)`.
/// `async` or `blocking` picks the flavour.
#[doc(hidden)]
#[macro_export]
macro_rules! endpoint_methods {
    ($flavour:ident) => {
        $crate::endpoint_methods!(@each $flavour
            /// Get agents: receiving agents, optionally filtered.
            agents(GetAgentsRequest) -> AgentsResponse;
            /// Fees: what a transfer would cost.
            fees(FeesRequest) -> FeesResponse;
            /// Create person: registers a sender (personal data sealed with the partner key).
            create_person(CreatePerson) -> ClientCreated;
            /// Create business: registers a company (sealed with the partner key).
            create_business(CreateBusiness) -> ClientCreated;
            /// Get person info: the stored profile, encrypted (`PersonData::open`).
            person_info(PersonInfoRequest) -> ClientInfo;
            /// Get business info: the stored profile, encrypted (`BusinessData::open`).
            business_info(BusinessInfoRequest) -> ClientInfo;
            /// Create transfer. Safe to call again with the same `order_id`: after an uncertain
            /// failure the client looks the transfer up before it would ever send twice.
            create_transfer(CreateTransferRequest) -> Transfer;
            /// Print application: the PDF the sender signs.
            print_application(PrintApplicationRequest) -> PrintedApplication;
            /// Confirm: `new` to `process` (or `error` on AML rejection).
            confirm(ConfirmRequest) -> Transfer;
            /// Search, as receiving agent.
            search(SearchRequest) -> SearchResponse;
            /// Payout, as receiving agent: `process` to `waiting` (recipient sealed).
            payout(Payout) -> Transfer;
            /// Payout confirm: `waiting` to `success`.
            payout_confirm(PayoutConfirmRequest) -> Transfer;
            /// Cancel: from `new`, `process` or `waiting` to `canceled`.
            cancel(CancelRequest) -> Transfer;
            /// Status by `transfer_id` or `order_id`.
            status(StatusRequest) -> StatusResponse;
            /// Info: the full transfer by `transfer_id` or `order_id`.
            info(InfoRequest) -> Transfer;
        );
    };
    (@each async $( $(#[$doc:meta])* $name:ident($request:ident) -> $output:ident; )*) => {$(
        $(#[$doc])*
        ///
        /// # Errors
        /// The call's [`Error`](imts_core::Error): API error, transport failure, exhausted
        /// budget, or (for writes) `OutcomeUnknown`.
        pub async fn $name(&self, request: &imts_core::models::$request) -> Result<imts_core::models::$output, imts_core::Error> {
            self.call(request).await
        }
    )*};
    (@each blocking $( $(#[$doc:meta])* $name:ident($request:ident) -> $output:ident; )*) => {$(
        $(#[$doc])*
        ///
        /// # Errors
        /// The call's [`Error`](imts_core::Error): API error, transport failure, exhausted
        /// budget, or (for writes) `OutcomeUnknown`.
        pub fn $name(&self, request: &imts_core::models::$request) -> Result<imts_core::models::$output, imts_core::Error> {
            self.call(request)
        }
    )*};
}
