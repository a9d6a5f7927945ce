//! Many Status calls at once against the sandbox: each client of the SDK next to a bare HTTP
//! client of the same kind (reqwest for the async client, ureq on threads for the blocking one)
//! sending the same bytes with the same bearer and decoding the same answer with serde into a
//! plain struct. One batch is `tasks` concurrent tasks (or threads) of [`CALLS_PER_TASK`] calls
//! each; the two sides' batches are interleaved (`time_pair`) and the ratio is per call.

use std::sync::Arc;

use imts_core::models::StatusRequest;
use imts_core::values::Lookup;
use imts_core::{Config, PreparedRequest};

use crate::time_pair;

/// The concurrency levels of the issue: tasks (async) or threads (blocking) at once.
pub const LEVELS: [usize; 3] = [16, 64, 256];
/// Calls each task makes per batch: enough to amortize spawning a task or a thread.
const CALLS_PER_TASK: usize = 4;

/// What a careful user without the SDK would decode Status into: the fields the SDK's `Transfer`
/// reads, as plain serde types.
#[derive(serde::Deserialize)]
#[allow(dead_code)] // read by serde only: decoding is what is measured
struct PlainTransfer {
    transfer_id: String,
    order_id: Option<String>,
    status: String,
    client_uuid: Option<String>,
    destination_type: Option<String>,
    destination_identifier: Option<String>,
    target_country: Option<String>,
    amount_source: Option<serde_json::Number>,
    currency_source: Option<String>,
    fee: Option<serde_json::Number>,
    total_amount: Option<serde_json::Number>,
    amount_target: Option<serde_json::Number>,
    currency_target: Option<String>,
    rate: Option<serde_json::Number>,
    transfer_code: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

/// Adds a row per side and level, and `client_concurrent_vs_bare_{async,blocking}_{N}`.
pub fn cost(
    sandbox: &imts_sandbox::BackgroundSandbox,
    rows: &mut Vec<(String, f64, String)>,
    ratios: &mut Vec<(&'static str, f64)>,
) {
    let credentials = crate::partner_of(sandbox);
    let config = Config::new(sandbox.base_url());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let async_client = imts::ClientBuilder::new(credentials.clone())
        .config(config.clone())
        .build()
        .unwrap();
    let blocking_client = imts::ClientBuilder::new(credentials.clone())
        .config(config.clone())
        .build_blocking()
        .unwrap();

    // A real transfer, so that Status answers 200 with a whole transfer to decode.
    let person = blocking_client
        .create_person(&imts_sandbox::samples::create_person("Concurrent").unwrap())
        .unwrap();
    let order = format!("CONC-{}", std::process::id());
    let created = blocking_client
        .create_transfer(
            &imts_sandbox::samples::create_transfer(&person.client_uuid, &order).unwrap(),
        )
        .unwrap();
    let status = StatusRequest::new(Lookup::TransferId(created.transfer_id.clone()));
    let token = crate::bare_token(sandbox);
    let prepared = PreparedRequest::new(&status, &credentials, &config, 1).unwrap();
    let url: Arc<str> = format!("{}{}", sandbox.base_url(), prepared.path_and_query()).into();
    let bearer: Arc<str> = format!("Bearer {token}").into();

    // Warm both sides: tokens, connection pools.
    runtime.block_on(async_client.status(&status)).unwrap();
    blocking_client.status(&status).unwrap();
    let bare_reqwest = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let bare_ureq: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();

    // Allocations per call on each side, counted on this thread: a current-thread runtime
    // runs the whole call here (the sandbox's threads are not counted).
    let local = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local_client = imts::ClientBuilder::new(credentials.clone())
        .config(config.clone())
        .build()
        .unwrap();
    local.block_on(local_client.status(&status)).unwrap();
    let local_bare = reqwest::Client::new();
    let bare_call = || async {
        let answer = local_bare
            .get(&*url)
            .header("authorization", &*bearer)
            .send()
            .await
            .unwrap();
        let body = answer.bytes().await.unwrap();
        let _: PlainTransfer = serde_json::from_slice(&body).unwrap();
    };
    local.block_on(bare_call());
    const COUNTED: u64 = 200;
    let client_allocs = allocation_counter::measure(|| {
        for _ in 0..COUNTED {
            local.block_on(local_client.status(&status)).unwrap();
        }
    });
    let bare_allocs = allocation_counter::measure(|| {
        for _ in 0..COUNTED {
            local.block_on(bare_call());
        }
    });
    for (name, counted) in [
        ("async client", client_allocs),
        ("bare reqwest + serde", bare_allocs),
    ] {
        rows.push((
            format!("{name}, Status: allocations per call"),
            counted.count_total as f64 / COUNTED as f64,
            format!(
                "{:.0} bytes allocated per call",
                counted.bytes_total as f64 / COUNTED as f64
            ),
        ));
    }

    // The sans-IO parts of that: building and signing the request, and decoding the answer.
    let body = local.block_on(async {
        local_bare
            .get(&*url)
            .header("authorization", &*bearer)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    });
    let route = imts_core::Endpoint::Status.route();
    let build = allocation_counter::measure(|| {
        for seed in 0..COUNTED {
            let prepared = PreparedRequest::new(&status, &credentials, &config, seed).unwrap();
            std::hint::black_box(prepared.to_http(&config.base_url, None).unwrap());
        }
    });
    let decode = allocation_counter::measure(|| {
        for _ in 0..COUNTED {
            std::hint::black_box(
                imts_core::response::decode::<imts_core::models::Transfer>(&route, 200, &body)
                    .unwrap(),
            );
        }
    });
    let plain = allocation_counter::measure(|| {
        for _ in 0..COUNTED {
            std::hint::black_box(serde_json::from_slice::<PlainTransfer>(&body).unwrap());
        }
    });
    for (name, counted) in [
        ("  of which: build and sign the request", build),
        ("  of which: decode the answer into Transfer", decode),
        ("  bare: decode into the plain struct", plain),
    ] {
        rows.push((
            format!("{name}: allocations per call"),
            counted.count_total as f64 / COUNTED as f64,
            format!("{:.0} bytes", counted.bytes_total as f64 / COUNTED as f64),
        ));
    }

    for tasks in LEVELS {
        // CPU of the whole process (both sides share it with the sandbox, which does the same
        // work for each): whether the gap is work or waiting.
        let (cpu_client, cpu_bare) = (CpuMeter::default(), CpuMeter::default());
        let calls = (tasks * CALLS_PER_TASK) as u64;
        let (t_client, t_bare, ratio) = time_pair(
            || {
                cpu_client.measure(calls, || {
                    runtime.block_on(async {
                        let mut set = tokio::task::JoinSet::new();
                        for _ in 0..tasks {
                            let (client, status) = (async_client.clone(), status.clone());
                            set.spawn(async move {
                                for _ in 0..CALLS_PER_TASK {
                                    client.status(&status).await.unwrap();
                                }
                            });
                        }
                        while let Some(done) = set.join_next().await {
                            done.unwrap();
                        }
                    })
                })
            },
            || {
                cpu_bare.measure(calls, || {
                    runtime.block_on(async {
                        let mut set = tokio::task::JoinSet::new();
                        for _ in 0..tasks {
                            let (client, url, bearer) =
                                (bare_reqwest.clone(), Arc::clone(&url), Arc::clone(&bearer));
                            set.spawn(async move {
                                for _ in 0..CALLS_PER_TASK {
                                    let answer = client
                                        .get(&*url)
                                        .header("authorization", &*bearer)
                                        .send()
                                        .await
                                        .unwrap();
                                    assert_eq!(answer.status(), 200);
                                    let body = answer.bytes().await.unwrap();
                                    let _: PlainTransfer = serde_json::from_slice(&body).unwrap();
                                }
                            });
                        }
                        while let Some(done) = set.join_next().await {
                            done.unwrap();
                        }
                    })
                })
            },
        );
        let per_call = (tasks * CALLS_PER_TASK) as f64;
        if let (Some(client), Some(bare)) = (cpu_client.per_call_ns(), cpu_bare.per_call_ns()) {
            rows.push((
                format!("async client, {tasks} tasks: process CPU per call"),
                client,
                "client and sandbox".into(),
            ));
            rows.push((
                format!("bare reqwest + serde, {tasks} tasks: process CPU per call"),
                bare,
                "bare client and sandbox".into(),
            ));
        }
        rows.push((
            format!("async client, Status, {tasks} tasks, per call"),
            t_client / per_call,
            format!("{:.0} calls/s", 1e9 * per_call / t_client),
        ));
        rows.push((
            format!("bare reqwest + serde, {tasks} tasks, per call"),
            t_bare / per_call,
            format!("{:.0} calls/s", 1e9 * per_call / t_bare),
        ));
        ratios.push((
            crate::leak(format!("client_concurrent_vs_bare_async_{tasks}")),
            ratio,
        ));

        let (t_client, t_bare, ratio) = time_pair(
            || {
                std::thread::scope(|scope| {
                    for _ in 0..tasks {
                        scope.spawn(|| {
                            for _ in 0..CALLS_PER_TASK {
                                blocking_client.status(&status).unwrap();
                            }
                        });
                    }
                });
            },
            || {
                std::thread::scope(|scope| {
                    for _ in 0..tasks {
                        scope.spawn(|| {
                            for _ in 0..CALLS_PER_TASK {
                                let mut answer = bare_ureq
                                    .get(&*url)
                                    .header("authorization", &*bearer)
                                    .call()
                                    .unwrap();
                                assert_eq!(answer.status(), 200);
                                let body = answer.body_mut().read_to_vec().unwrap();
                                let _: PlainTransfer = serde_json::from_slice(&body).unwrap();
                            }
                        });
                    }
                });
            },
        );
        rows.push((
            format!("blocking client, Status, {tasks} threads, per call"),
            t_client / per_call,
            format!("{:.0} calls/s", 1e9 * per_call / t_client),
        ));
        rows.push((
            format!("bare ureq + serde, {tasks} threads, per call"),
            t_bare / per_call,
            format!("{:.0} calls/s", 1e9 * per_call / t_bare),
        ));
        ratios.push((
            crate::leak(format!("client_concurrent_vs_bare_blocking_{tasks}")),
            ratio,
        ));
    }
}

/// Process CPU time (user and system, all threads) spent inside [`measure`](Self::measure), per
/// call, from `/proc/self/stat` (Linux; clock ticks of 10 ms, so only sums over many batches
/// mean anything).
#[derive(Default)]
struct CpuMeter {
    ticks: std::cell::Cell<u64>,
    calls: std::cell::Cell<u64>,
    unreadable: std::cell::Cell<bool>,
}

impl CpuMeter {
    /// Runs `f` (which makes `calls` calls) and adds the CPU it took.
    fn measure<T>(&self, calls: u64, f: impl FnOnce() -> T) -> T {
        let before = process_ticks();
        let result = f();
        match (before, process_ticks()) {
            (Some(before), Some(after)) => {
                self.ticks
                    .set(self.ticks.get() + after.saturating_sub(before));
                self.calls.set(self.calls.get() + calls);
            }
            _ => self.unreadable.set(true),
        }
        result
    }

    /// Nanoseconds of CPU per call (`None` off Linux or before any call).
    fn per_call_ns(&self) -> Option<f64> {
        const NS_PER_TICK: f64 = 1e7; // USER_HZ is 100 on Linux
        (!self.unreadable.get() && self.calls.get() > 0)
            .then(|| self.ticks.get() as f64 * NS_PER_TICK / self.calls.get() as f64)
    }
}

/// utime + stime of this process, in clock ticks.
fn process_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from field 3 on.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}
