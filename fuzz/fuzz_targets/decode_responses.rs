//! Response decoding for every endpoint: any status and body give a value or a typed error.
#![no_main]

use imts_core::endpoint::Endpoint;
use imts_core::models::*;
use imts_core::response::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&status, body)) = data.split_first() else { return };
    let status = 100 + u16::from(status) * 2;
    for endpoint in Endpoint::all() {
        let route = endpoint.route();
        let _ = match endpoint {
            Endpoint::GetToken | Endpoint::RefreshToken => decode::<TokenResponse>(&route, status, body).map(|_| ()),
            Endpoint::GetAgents => decode::<AgentsResponse>(&route, status, body).map(|_| ()),
            Endpoint::Fees => decode::<FeesResponse>(&route, status, body).map(|_| ()),
            Endpoint::CreatePerson | Endpoint::CreateBusiness => decode::<ClientCreated>(&route, status, body).map(|_| ()),
            Endpoint::PersonInfo | Endpoint::BusinessInfo => decode::<ClientInfo>(&route, status, body).map(|_| ()),
            Endpoint::PrintApplication => decode::<PrintedApplication>(&route, status, body).map(|_| ()),
            Endpoint::Search => decode::<SearchResponse>(&route, status, body).map(|_| ()),
            Endpoint::Status => decode::<StatusResponse>(&route, status, body).map(|_| ()),
            _ => decode::<Transfer>(&route, status, body).map(|t| {
                // A decoded transfer serializes back and decodes to the same value.
                let again = serde_json::to_vec(&t).expect("serializes");
                let back: Transfer = serde_json::from_slice(&again).expect("round trip");
                assert!(back == t);
            }),
        };
    }
});
