//! A shared store that does not answer never blocks the runtime: on a single-threaded runtime,
//! a call whose token store is stuck waits (its future is pending), while other calls on the
//! same thread, and the sandbox serving them, go on. When the store answers, the stuck call
//! finishes.

use std::sync::Arc;

use imts::models::StatusRequest;
use imts::stores::{BoxFuture, MemoryTokenStore, SharedTokens, TokenStore, TokenStoreError};
use imts::types::{ErrorCode, Lookup};
use imts::{ClientBuilder, Credentials};
use imts_sandbox::{AgentConfig, Sandbox, SandboxConfig};
use tokio::sync::Notify;

/// A memory store whose every call waits until the test opens the gate.
struct GatedStore {
    inner: MemoryTokenStore,
    entered: Notify,
    gate: Notify,
}

impl GatedStore {
    fn pass<'a, T: Send + 'a>(&'a self, answer: BoxFuture<'a, T>) -> BoxFuture<'a, T> {
        Box::pin(async move {
            self.entered.notify_one();
            self.gate.notified().await;
            answer.await
        })
    }
}

impl TokenStore for GatedStore {
    fn load(&self) -> BoxFuture<'_, Result<Option<SharedTokens>, TokenStoreError>> {
        self.pass(self.inner.load())
    }
    fn compare_and_set<'a>(
        &'a self,
        expected: u64,
        tokens: &'a SharedTokens,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>> {
        self.pass(self.inner.compare_and_set(expected, tokens))
    }
    fn try_lease<'a>(
        &'a self,
        holder: &'a str,
        ttl: std::time::Duration,
        now: time::OffsetDateTime,
    ) -> BoxFuture<'a, Result<bool, TokenStoreError>> {
        self.pass(self.inner.try_lease(holder, ttl, now))
    }
    fn release_lease<'a>(&'a self, holder: &'a str) -> BoxFuture<'a, Result<(), TokenStoreError>> {
        self.pass(self.inner.release_lease(holder))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_stuck_store_leaves_the_runtime_serving_other_calls() {
    let agent = AgentConfig::parse(
        "gated-agent:gated-secret:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
    )
    .unwrap();
    // The sandbox runs on this same single thread: if anything blocked it, nothing would answer.
    let sandbox = Sandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let credentials =
        || Credentials::new("gated-agent".parse().unwrap(), agent.agent_secret.clone());
    let store = Arc::new(GatedStore {
        inner: MemoryTokenStore::default(),
        entered: Notify::new(),
        gate: Notify::new(),
    });
    let gated = ClientBuilder::new(credentials())
        .base_url(sandbox.base_url())
        .token_store(store.clone())
        .build()
        .unwrap();
    let free = ClientBuilder::new(credentials())
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    let status = StatusRequest::new(Lookup::OrderId("gated".parse().unwrap()));
    let not_found = |r: Result<imts::models::StatusResponse, imts::Error>| {
        r.unwrap_err().code() == Some(&ErrorCode::NotFound)
    };

    let stuck = tokio::spawn({
        let (client, status) = (gated.clone(), status.clone());
        async move { client.status(&status).await }
    });
    store.entered.notified().await; // the gated call is now waiting on its store

    for _ in 0..5 {
        assert!(
            not_found(free.status(&status).await),
            "the runtime still serves calls"
        );
    }
    assert!(
        !stuck.is_finished(),
        "the gated call still waits for its store"
    );

    // Open the gate for every store call the acquisition makes (load, lease, load, publish,
    // release), one at a time as each arrives.
    let opener = tokio::spawn({
        let store = Arc::clone(&store);
        async move {
            loop {
                store.gate.notify_one();
                store.entered.notified().await;
            }
        }
    });
    assert!(
        not_found(stuck.await.unwrap()),
        "the gated call finishes once the store answers"
    );
    opener.abort();
    assert_eq!(sandbox.stats().auth, 2, "one login per client");
    sandbox.shutdown().await;
}
