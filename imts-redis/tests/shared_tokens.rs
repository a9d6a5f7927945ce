//! Two client instances share one credential through a real Redis: 100 concurrent calls across
//! both on an expired token cause exactly one refresh at the sandbox, and no second login.

use std::sync::Arc;
use std::time::{Duration, Instant};

use imts::models::StatusRequest;
use imts::Credentials;
use imts_core::token_store::TokenStore;
use imts_redis::test_server::RedisServer;
use imts_redis::RedisTokenStore;
use imts_sandbox::{AgentConfig, Sandbox, SandboxConfig};

fn fleet_agent() -> AgentConfig {
    AgentConfig::parse(
        "fleet-agent:fleet-secret:603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
    )
    .unwrap()
}

/// One instance of the fleet: a client builder with its own Redis token store.
fn instance(agent: &AgentConfig, redis: &str, base_url: &str) -> imts::ClientBuilder {
    let store: Arc<dyn TokenStore> = Arc::new(RedisTokenStore::open(redis, "fleet-agent").unwrap());
    let credentials = Credentials::new("fleet-agent".parse().unwrap(), agent.agent_secret.clone());
    imts::ClientBuilder::new(credentials)
        .base_url(base_url)
        .token_store(store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_one_refresh() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let agent = fleet_agent();
    let sandbox = Sandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        access_ttl: Duration::from_secs(600),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let instance = || {
        instance(&agent, &redis.url(), sandbox.base_url())
            .build()
            .unwrap()
    };
    let (a, b) = (instance(), instance());
    let status = StatusRequest::new(imts_core::values::Lookup::OrderId(
        "fleet-order".parse().unwrap(),
    ));
    let not_found = |r: Result<imts::models::StatusResponse, imts::Error>| {
        r.unwrap_err().code() == Some(&imts::types::ErrorCode::NotFound)
    };
    assert!(not_found(a.status(&status).await));
    assert!(not_found(b.status(&status).await), "b adopts a's token");
    assert_eq!(
        (sandbox.stats().auth, sandbox.stats().refresh),
        (1, 0),
        "one login for the fleet"
    );

    sandbox.advance_clock(Duration::from_secs(601)); // every access token expires
    let mut tasks = Vec::new();
    for i in 0..100 {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        let status = status.clone();
        tasks.push(tokio::spawn(async move { client.status(&status).await }));
    }
    for task in tasks {
        assert!(not_found(task.await.unwrap()));
    }
    let stats = sandbox.stats();
    assert_eq!(
        (stats.auth, stats.refresh),
        (1, 1),
        "100 calls on two instances, one refresh"
    );

    // The added latency: an ordinary call never touches the store, a renewal does once.
    let store = RedisTokenStore::open(&redis.url(), "fleet-agent").unwrap();
    let started = Instant::now();
    for _ in 0..200 {
        let _ = store.load().await.unwrap();
    }
    println!(
        "redis token store: load {:?} per call (only on renewal)",
        started.elapsed() / 200
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_falls_back_to_the_local_session() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    redis.stop();
    let agent = fleet_agent();
    let sandbox = Sandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let store: Arc<dyn TokenStore> = Arc::new(RedisTokenStore::open(&url, "fleet-agent").unwrap());
    let credentials = Credentials::new("fleet-agent".parse().unwrap(), agent.agent_secret.clone());
    let client = imts::ClientBuilder::new(credentials)
        .base_url(sandbox.base_url())
        .token_store(store.clone())
        .build()
        .unwrap();
    let result = client
        .status(&StatusRequest::new(imts_core::values::Lookup::OrderId(
            "x".parse().unwrap(),
        )))
        .await;
    assert_eq!(
        result.unwrap_err().code(),
        Some(&imts::types::ErrorCode::NotFound),
        "the call went through without Redis"
    );
    let error = store.load().await.unwrap_err();
    assert!(
        error.to_string().contains("token store unavailable"),
        "{error}"
    );
    sandbox.shutdown().await;
}

#[test]
fn blocking_instances_share_tokens_through_the_async_store() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let agent = fleet_agent();
    let sandbox = imts_sandbox::BackgroundSandbox::start(SandboxConfig {
        agents: vec![agent.clone()],
        access_ttl: Duration::from_secs(600),
        ..SandboxConfig::default()
    })
    .unwrap();
    // No runtime on this thread: each store runs its Redis commands on a small one of its own,
    // and the blocking client drives the store's futures on the calling thread.
    let instance = || {
        instance(&agent, &redis.url(), sandbox.base_url())
            .build_blocking()
            .unwrap()
    };
    let (a, b) = (instance(), instance());
    let status = StatusRequest::new(imts_core::values::Lookup::OrderId(
        "fleet-order".parse().unwrap(),
    ));
    let not_found = |r: Result<imts::models::StatusResponse, imts::Error>| {
        r.unwrap_err().code() == Some(&imts::types::ErrorCode::NotFound)
    };
    assert!(not_found(a.status(&status)));
    assert!(not_found(b.status(&status)), "b adopts a's token");
    sandbox.advance_clock(Duration::from_secs(601));
    std::thread::scope(|scope| {
        for i in 0..16 {
            let client = if i % 2 == 0 { &a } else { &b };
            let status = &status;
            scope.spawn(move || assert!(not_found(client.status(status))));
        }
    });
    let stats = sandbox.stats();
    assert_eq!(
        (stats.auth, stats.refresh),
        (1, 1),
        "one login, one refresh"
    );
}
