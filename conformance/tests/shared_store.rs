//! Clients sharing an in-process token store: settings applied after cloning reach the clones,
//! and a second client adopts the first one's token instead of logging in again.

use std::sync::Arc;

use imts::models::StatusRequest;
use imts::stores::{MemoryTokenStore, TokenStore};
use imts::{BlockingClient, Config};
use imts_conformance::credentials;
use imts_sandbox::{BackgroundSandbox, SandboxConfig};

#[test]
fn a_store_set_after_cloning_is_shared_and_spares_a_login() {
    let sandbox = BackgroundSandbox::start(SandboxConfig::default()).unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::default());
    let first = BlockingClient::new(credentials(&sandbox, 0), Config::new(sandbox.base_url()));
    let clone_made_before = first.clone();
    let _first = first.with_token_store(Arc::clone(&store));
    let second = BlockingClient::new(credentials(&sandbox, 0), Config::new(sandbox.base_url()))
        .with_token_store(store);
    let status = StatusRequest::new(imts::types::Lookup::OrderId("shared".parse().unwrap()));
    let not_found = |r: Result<imts::models::StatusResponse, imts::Error>| {
        r.unwrap_err().code() == Some(&imts::types::ErrorCode::NotFound)
    };
    assert!(not_found(clone_made_before.status(&status)));
    assert!(not_found(second.status(&status)));
    assert_eq!(
        sandbox.stats().auth,
        1,
        "the second client adopted the first one's token"
    );
}
