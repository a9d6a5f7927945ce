//! Clients sharing an in-process token store: the settings are frozen at build and shared by
//! clones, and a second client built with the same store adopts the first one's token instead
//! of logging in again.

use std::sync::Arc;

use imts::models::StatusRequest;
use imts::stores::{MemoryTokenStore, TokenStore};
use imts::types::Lookup;
use imts::ClientBuilder;
use imts_conformance::credentials;
use imts_sandbox::{BackgroundSandbox, SandboxConfig};

#[test]
fn clients_built_with_one_store_share_it_and_spare_a_login() {
    let sandbox = BackgroundSandbox::start(SandboxConfig::default()).unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let builder = ClientBuilder::new(credentials(&sandbox, 0))
        .base_url(sandbox.base_url())
        .token_store(store);
    let first = builder.clone().build_blocking().unwrap();
    let clone_of_first = first.clone();
    let second = builder.build_blocking().unwrap();
    let status = StatusRequest::new(Lookup::OrderId("shared".parse().unwrap()));
    let not_found = |r: Result<imts::models::StatusResponse, imts::Error>| {
        r.unwrap_err().code() == Some(&imts::types::ErrorCode::NotFound)
    };
    assert!(not_found(clone_of_first.status(&status)));
    assert!(not_found(second.status(&status)));
    assert_eq!(
        sandbox.stats().auth,
        1,
        "the second client adopted the first one's token"
    );
}
