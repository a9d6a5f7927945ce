//! The journal's cost per Create transfer: one at a time, and in bursts of concurrent creates
//! (where group commit shares each fsync among the writes that arrived while the last one ran).

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use imts_core::journal::Journal;
use imts_core::Credentials;

use crate::{leak, median, time_pair};

/// Concurrent creates in one burst.
const BURST: usize = 64;
/// Bursts timed per side.
const BURSTS: usize = 9;
/// Durable writes a journaled Create makes: its intent, recorded already marked as sending
/// (`JournalHook::begin`), and its outcome (`imts-core/tests/journal_hook.rs` counts them).
const WRITES_PER_CREATE: usize = 2;

/// Adds the rows and ratios of the journal's cost: SQLite (WAL, `synchronous=FULL`) and, when a
/// cluster can be started here, PostgreSQL (`synchronous_commit=on`).
pub fn cost(
    sandbox: &imts_sandbox::BackgroundSandbox,
    rows: &mut Vec<(String, f64, String)>,
    ratios: &mut Vec<(&'static str, f64)>,
) {
    let bench = Bench::new(sandbox.base_url(), crate::partner_of(sandbox));
    let dir = std::env::temp_dir().join(format!("imts-ratios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = Arc::new(imts_sqlite::SqliteJournal::open(dir.join("journal.db")).unwrap());
    let commits = {
        let sqlite = Arc::clone(&sqlite);
        move || sqlite.commits()
    };
    bench.measure(
        sqlite,
        &commits,
        "SQLite",
        "WAL, synchronous=FULL",
        rows,
        ratios,
    );
    let _ = std::fs::remove_dir_all(&dir);

    let Some(server) = imts_postgres::test_server::PostgresServer::start() else {
        return;
    };
    let runtime = bench.runtime.clone();
    let postgres = Arc::new(
        runtime
            .block_on(imts_postgres::PostgresJournal::connect(&server.url()))
            .unwrap(),
    );
    let commits = {
        let postgres = Arc::clone(&postgres);
        move || postgres.commits()
    };
    bench.measure(
        postgres,
        &commits,
        "PostgreSQL",
        "synchronous_commit=on, loopback",
        rows,
        ratios,
    );
}

/// Clients with and without a journal on one sandbox, and a person to send from.
struct Bench {
    base_url: String,
    credentials: Credentials,
    runtime: Arc<tokio::runtime::Runtime>,
    client_uuid: imts_core::values::ClientUuid,
    orders: AtomicU64,
}

impl Bench {
    fn new(base_url: &str, credentials: Credentials) -> Self {
        let runtime = Arc::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
        );
        let plain = imts::ClientBuilder::new(credentials.clone())
            .base_url(base_url)
            .build_blocking()
            .unwrap();
        let person = plain
            .create_person(&imts_sandbox::samples::create_person("Ratios").unwrap())
            .unwrap();
        Self {
            base_url: base_url.to_owned(),
            credentials,
            runtime,
            client_uuid: person.client_uuid,
            orders: AtomicU64::new(0),
        }
    }

    fn order(&self, tag: &str) -> String {
        let n = self.orders.fetch_add(1, Ordering::Relaxed);
        format!("R{tag}-{}-{n}", std::process::id())
    }

    fn builder(&self) -> imts::ClientBuilder {
        imts::ClientBuilder::new(self.credentials.clone()).base_url(&self.base_url)
    }

    /// One blocking create at a time, and bursts of [`BURST`] async creates, with `journal`
    /// against without.
    fn measure(
        &self,
        journal: Arc<dyn Journal>,
        commits: &dyn Fn() -> u64,
        name: &str,
        durability: &str,
        rows: &mut Vec<(String, f64, String)>,
        ratios: &mut Vec<(&'static str, f64)>,
    ) {
        let plain = self.builder().build_blocking().unwrap();
        let journaled = self
            .builder()
            .journal(Arc::clone(&journal))
            .build_blocking()
            .unwrap();
        let calls = Cell::new(0u64);
        let create = |client: &imts::BlockingClient, tag: &str| {
            calls.set(calls.get() + 1);
            let request =
                imts_sandbox::samples::create_transfer(&self.client_uuid, &self.order(tag))
                    .unwrap();
            client.create_transfer(&request).unwrap()
        };
        let (t_journaled, t_plain, ratio) =
            time_pair(|| create(&journaled, "j"), || create(&plain, "p"));
        rows.push((
            format!("Create transfer, {name} journal"),
            t_journaled,
            format!("{durability}, {WRITES_PER_CREATE} durable writes"),
        ));
        rows.push((
            format!("Create transfer, no journal (next to {name})"),
            t_plain,
            String::new(),
        ));
        ratios.push((
            leak(format!("journaled_create_vs_plain_{}", key(name))),
            ratio,
        ));

        let plain = self.builder().build().unwrap();
        let journaled = self.builder().journal(journal).build().unwrap();
        let (mut t_burst_j, mut t_burst_p) = (Vec::new(), Vec::new());
        let before = commits();
        for _ in 0..BURSTS {
            t_burst_j.push(self.burst(&journaled, "bj"));
            t_burst_p.push(self.burst(&plain, "bp"));
        }
        let commits_per_burst = (commits() - before) as f64 / BURSTS as f64;
        let (t_burst_j, t_burst_p) = (median(t_burst_j), median(t_burst_p));
        rows.push((
            format!("{BURST} concurrent creates, {name} journal, per create"),
            t_burst_j / BURST as f64,
            format!(
                "{durability}, {commits_per_burst:.1} commits for {} writes",
                WRITES_PER_CREATE * BURST
            ),
        ));
        rows.push((
            format!("{BURST} concurrent creates, no journal (next to {name}), per create"),
            t_burst_p / BURST as f64,
            String::new(),
        ));
        // The rate of 64 concurrent journaled creates as a share of the unjournaled rate (the
        // issue's goal: at least 0.5).
        ratios.push((
            leak(format!(
                "journaled_create{BURST}_rate_vs_plain_{}",
                key(name)
            )),
            t_burst_p / t_burst_j,
        ));
        // The journal's added time per create in a burst, as a share of what it adds to a lone
        // create: 1 would mean every write waits for its own fsync; group commit keeps it small.
        let added_alone = t_journaled - t_plain;
        let added_in_burst = (t_burst_j - t_burst_p) / BURST as f64;
        ratios.push((
            leak(format!("burst{BURST}_added_vs_alone_{}", key(name))),
            added_in_burst / added_alone,
        ));
    }

    /// Nanoseconds for [`BURST`] creates sent at once through `client`.
    fn burst(&self, client: &imts::AsyncClient, tag: &str) -> f64 {
        let requests: Vec<_> = (0..BURST)
            .map(|_| {
                imts_sandbox::samples::create_transfer(&self.client_uuid, &self.order(tag)).unwrap()
            })
            .collect();
        self.runtime.block_on(async {
            let start = Instant::now();
            let mut tasks = tokio::task::JoinSet::new();
            for request in requests {
                let client = client.clone();
                tasks.spawn(async move { client.create_transfer(&request).await });
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap().unwrap();
            }
            start.elapsed().as_nanos() as f64
        })
    }
}

fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}
