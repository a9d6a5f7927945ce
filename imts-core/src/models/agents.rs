//! Get agents.

use crate::enums::DestinationType;
use crate::values::{AgentId, Country, Currency};
use crate::wire::optional_setters;
use crate::wire_object;

wire_object! {
    /// Get agents: both filters are optional (sent as a signed query string).
    pub struct GetAgentsRequest {
        /// Only agents serving this country.
        pub target_country: Option<Country>,
        /// Only agents paying out to this kind of destination.
        pub destination_type: Option<DestinationType>,
    }
}

impl GetAgentsRequest {
    /// Every agent; narrow the list with the setters.
    #[must_use]
    pub fn new() -> Self {
        Self {
            target_country: None,
            destination_type: None,
            extra: crate::models::Extra::default(),
        }
    }
}

impl Default for GetAgentsRequest {
    fn default() -> Self {
        Self::new()
    }
}

optional_setters! {
    GetAgentsRequest {
        /// Only agents serving this country.
        with_target_country => target_country: Country;
        /// Only agents paying out to this kind of destination.
        with_destination_type => destination_type: DestinationType;
    }
}

wire_object! {
    /// A receiving agent.
    pub struct Agent {
        /// The id to pass as `target_agent_id`.
        pub agent_id: AgentId,
        /// Display name.
        pub name: String,
        /// The country the agent pays out in.
        pub country: Option<Country>,
        /// Destination kinds the agent pays out to.
        pub destination_types: Option<Vec<DestinationType>>,
        /// Currencies the agent pays out in.
        pub currencies: Option<Vec<Currency>>,
    }
}

wire_object! {
    /// The answer of Get agents.
    pub struct AgentsResponse {
        /// The agents.
        pub agents: Vec<Agent>,
    }
}
