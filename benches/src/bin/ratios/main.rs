//! Measures, in one run and on the same inputs, this project next to its anchors (the two sides
//! of a ratio in interleaved batches), and prints a table and, last, `RATIOS key=value ...` (a
//! ratio above 1 means "the first is slower").
//!
//! `cargo run --release -p imts-benches --bin ratios` (`-- journal` for the journal's figures
//! alone, `-- inbox` for the inbox's, `-- concurrent` for the clients under concurrency,
//! `-- sandbox` for the sandbox's memory per stored transfer)

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use imts_benches::{create_transfer, message_of, pairs_of, wide16, SECRET};
use imts_core::signature::sign_json;
use imts_core::wire::SignFields;
use imts_core::{Config, Credentials, PreparedRequest};
use imts_crypto::{AgentSecret, Packing, PartnerKey, Signer};
use sha2::Sha256;

mod concurrent;
mod inbox;
mod journal;
mod sandbox_memory;

/// Calls per batch so that one batch of `f` takes about 60 ms.
fn batch_size<T>(f: &mut impl FnMut() -> T) -> u64 {
    let mut n = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..n {
            black_box(f());
        }
        if start.elapsed() > Duration::from_millis(60) {
            return n;
        }
        n *= 2;
    }
}

fn batch_ns<T>(f: &mut impl FnMut() -> T, n: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

pub(crate) fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Nanoseconds per call: the median of 7 batches of about 60 ms each.
fn time<T>(mut f: impl FnMut() -> T) -> f64 {
    let n = batch_size(&mut f);
    median((0..7).map(|_| batch_ns(&mut f, n)).collect())
}

/// Nanoseconds per call of `a` and of `b`, and their ratio: batches interleaved (a, b, a, b, ...)
/// so that a slow patch of this shared machine weighs on both sides alike. The times are medians
/// of 15 batches each; the ratio is the median of the 15 paired ratios (each pair ran within the
/// same ~120 ms), which a phase change of the machine between pairs does not move.
pub(crate) fn time_pair<A, B>(
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> (f64, f64, f64) {
    let (na, nb) = (batch_size(&mut a), batch_size(&mut b));
    let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..15 {
        let (x, y) = (batch_ns(&mut a, na), batch_ns(&mut b, nb));
        ta.push(x);
        tb.push(y);
        ratios.push(x / y);
    }
    (median(ta), median(tb), median(ratios))
}

fn naive_sign(params: &BTreeMap<String, String>, secret: &str) -> String {
    let mut values: Vec<String> = params.values().filter(|v| !v.is_empty()).cloned().collect();
    values.push(secret.to_owned());
    let message = values.join(";");
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn python_ns(pairs: &[(String, String)]) -> Option<f64> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/sign_reference.py");
    let params: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let out = Command::new("python3")
        .args([
            script,
            &serde_json::Value::Object(params).to_string(),
            SECRET,
            "200000",
        ])
        .output()
        .ok()?;
    String::from_utf8(out.stdout).ok()?.trim().parse().ok()
}

/// openssl's AES-256-CBC decryption throughput at 16 KiB blocks, in bytes per second.
fn openssl_decrypt_bps() -> Option<f64> {
    let out = Command::new("openssl")
        .args([
            "speed",
            "-evp",
            "aes-256-cbc",
            "-decrypt",
            "-seconds",
            "2",
            "-bytes",
            "16384",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.lines().rev().find(|l| {
        l.trim_start().starts_with("AES-256-CBC") || l.trim_start().starts_with("aes-256-cbc")
    })?;
    let value = line.split_whitespace().last()?.trim_end_matches('k');
    value.parse::<f64>().ok().map(|k| k * 1000.0)
}

fn main() {
    // The bare HTTP clients (not the SDK's, which hand their provider over explicitly) use the
    // process default; installing it twice is harmless.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // `ratios PART` runs one part alone.
    if let Some(part) = std::env::args().nth(1) {
        let (mut rows, mut ratios) = (Vec::new(), Vec::new());
        let sandbox = || {
            imts_sandbox::BackgroundSandbox::start(imts_sandbox::SandboxConfig::default()).unwrap()
        };
        match part.as_str() {
            "journal" => journal::cost(&sandbox(), &mut rows, &mut ratios),
            "concurrent" => concurrent::cost(&sandbox(), &mut rows, &mut ratios),
            "inbox" => inbox::cost(&mut rows, &mut ratios),
            "sandbox" => sandbox_memory::cost(&mut rows, &mut ratios),
            other => {
                eprintln!("unknown part `{other}`: journal, concurrent, inbox or sandbox");
                std::process::exit(2);
            }
        }
        report(&rows, &ratios);
        return;
    }
    let signer = Signer::new(AgentSecret::new(SECRET).unwrap());
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    let mut rows: Vec<(String, f64, String)> = Vec::new();
    let mut ratios: Vec<(&str, f64)> = Vec::new();

    // Signing: typed 9 and 16 fields, a JSON body, against a bare keyed HMAC of the same bytes.
    let nine = create_transfer();
    let sixteen = wide16();
    let sign_typed = |value: &dyn SignFields| {
        signer
            .try_sign_with(|m| value.sign_fields(m))
            .expect("signed field by field")
    };
    let nine_pairs = pairs_of(&nine);
    let sixteen_pairs = pairs_of(&sixteen);
    let nine_message = message_of(&nine_pairs);
    let sixteen_message = message_of(&sixteen_pairs);
    assert_eq!(sign_typed(&nine).as_str(), {
        let mut mac = keyed.clone();
        mac.update(&nine_message);
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    });

    let hmac_of = |bytes: &[u8]| {
        let mut mac = keyed.clone();
        mac.update(bytes);
        mac.finalize().into_bytes()
    };
    let (t_sign9, t_hmac9, r_sign9) = time_pair(
        || sign_typed(black_box(&nine)),
        || hmac_of(black_box(&nine_message)),
    );
    let (t_sign16, t_hmac16, r_sign16) = time_pair(
        || sign_typed(black_box(&sixteen)),
        || hmac_of(black_box(&sixteen_message)),
    );
    let body = serde_json::to_vec(&nine).unwrap();
    let (t_json, _, r_json) = time_pair(
        || sign_json(black_box(&body), &signer).unwrap(),
        || hmac_of(black_box(&nine_message)),
    );
    let naive_params: BTreeMap<String, String> = nine_pairs.iter().cloned().collect();
    assert_eq!(
        naive_sign(&naive_params, SECRET),
        sign_typed(&nine).as_str()
    );
    let t_naive = time(|| naive_sign(black_box(&naive_params), SECRET));
    rows.push((
        "sign, typed 9 fields".into(),
        t_sign9,
        format!("{} B message", nine_message.len()),
    ));
    rows.push((
        "HMAC-SHA256 alone, same bytes (9)".into(),
        t_hmac9,
        "keyed state cloned".into(),
    ));
    rows.push((
        "sign, typed 16 fields".into(),
        t_sign16,
        format!("{} B message", sixteen_message.len()),
    ));
    rows.push((
        "HMAC-SHA256 alone, same bytes (16)".into(),
        t_hmac16,
        "keyed state cloned".into(),
    ));
    rows.push((
        "sign, JSON body (9 fields)".into(),
        t_json,
        "sign_json: parse, flatten, sort, sign".into(),
    ));
    rows.push((
        "naive Rust signer (9)".into(),
        t_naive,
        "BTreeMap, join, key per call, hex".into(),
    ));
    ratios.push(("sign_vs_hmac", r_sign9));
    ratios.push(("sign16_vs_hmac", r_sign16));
    ratios.push(("sign_json_vs_hmac", r_json));
    ratios.push(("naive_vs_sign", t_naive / t_sign9));
    if let Some(python) = python_ns(&nine_pairs) {
        rows.push((
            "partner-style Python signer (9)".into(),
            python,
            "python3 hmac/hashlib".into(),
        ));
        ratios.push(("python_vs_sign", python / t_sign9));
    }

    // Allocations per signature (this thread's, counted by the `allocation-counter` crate).
    let counted = allocation_counter::measure(|| {
        for _ in 0..10_000 {
            black_box(sign_typed(black_box(&nine)));
        }
    });
    let allocs = counted.count_total as f64 / 10_000.0;
    ratios.push(("allocs_per_sign", allocs));

    // Envelope of 300 bytes against AES-CBC alone on the same bytes.
    let key = PartnerKey::parse(&"5a".repeat(32)).unwrap();
    let small = vec![b'x'; 300];
    let iv = [7u8; 16];
    let (t_envelope, t_aes300, r_envelope) = time_pair(
        || key.encrypt(black_box(&small), Packing::IvCiphertext),
        || key.cbc_encrypt(&iv, black_box(&small)),
    );
    rows.push((
        "envelope, 300 B".into(),
        t_envelope,
        "IV + CBC + Base64".into(),
    ));
    rows.push((
        "AES-256-CBC alone, 300 B".into(),
        t_aes300,
        "same key schedule".into(),
    ));
    ratios.push(("envelope_vs_aes", r_envelope));

    // Decryption against openssl at its 16 KiB blocks (and at 1 MiB); encryption against the
    // serial chain's limit.
    let medium = vec![b'y'; 16 * 1024];
    let medium_sealed = key.cbc_encrypt(&iv, &medium);
    let mut medium_out = vec![0u8; medium_sealed.len()];
    let t_decrypt16 = time(|| {
        key.cbc_decrypt_into(&iv, black_box(&medium_sealed), &mut medium_out)
            .unwrap()
            .len()
    });
    let big = vec![b'y'; 1024 * 1024];
    let sealed = key.cbc_encrypt(&iv, &big);
    let mut out = vec![0u8; sealed.len()];
    let t_decrypt = time(|| {
        key.cbc_decrypt_into(&iv, black_box(&sealed), &mut out)
            .unwrap()
            .len()
    });
    let t_decrypt_wiped = time(|| key.cbc_decrypt(&iv, black_box(&sealed)).unwrap());
    let t_encrypt = time(|| {
        key.cbc_encrypt_into(&iv, black_box(&big), &mut out)
            .unwrap()
            .len()
    });
    let t_encrypt_vec = time(|| key.cbc_encrypt(&iv, black_box(&big)));
    // The serial chain's limit on this kind of machine (an earlier measurement's anchor: 14 dependent AES rounds
    // per block, 1.16 GB/s); a software loop cannot measure it without the cipher's own overhead.
    const CHAIN_LIMIT_BPS: f64 = 1.16e9;
    let t_chain = big.len() as f64 / CHAIN_LIMIT_BPS * 1e9;
    let gbps = |bytes: usize, ns: f64| bytes as f64 / ns;
    let path = "cbc crate";
    rows.push((
        "AES-256-CBC decrypt into a buffer, 16 KiB".into(),
        t_decrypt16,
        format!("{:.2} GB/s ({path})", gbps(medium.len(), t_decrypt16)),
    ));
    rows.push((
        "AES-256-CBC decrypt into a buffer, 1 MiB".into(),
        t_decrypt,
        format!("{:.2} GB/s ({path})", gbps(big.len(), t_decrypt)),
    ));
    rows.push((
        "AES-256-CBC decrypt + zeroized Plaintext, 1 MiB".into(),
        t_decrypt_wiped,
        format!(
            "{:.2} GB/s (allocates and wipes)",
            gbps(big.len(), t_decrypt_wiped)
        ),
    ));
    rows.push((
        "AES-256-CBC encrypt into a buffer, 1 MiB".into(),
        t_encrypt,
        format!("{:.2} GB/s", gbps(big.len(), t_encrypt)),
    ));
    rows.push((
        "AES-256-CBC encrypt into a new Vec, 1 MiB".into(),
        t_encrypt_vec,
        format!("{:.2} GB/s", gbps(big.len(), t_encrypt_vec)),
    ));
    rows.push((
        "serial AES chain limit (anchor), 1 MiB".into(),
        t_chain,
        format!("{:.2} GB/s", gbps(big.len(), t_chain)),
    ));
    ratios.push(("encrypt_vs_limit", t_encrypt / t_chain));
    if let Some(bps) = openssl_decrypt_bps() {
        let t_openssl = medium.len() as f64 / bps * 1e9;
        rows.push((
            "openssl decrypt, 16 KiB blocks".into(),
            t_openssl,
            format!("{:.2} GB/s", bps / 1e9),
        ));
        ratios.push(("decrypt_vs_openssl", t_decrypt16 / t_openssl));
    }

    // One Status call through each client against a bare request of the same bytes.
    let sandbox =
        imts_sandbox::BackgroundSandbox::start(imts_sandbox::SandboxConfig::default()).unwrap();
    let credentials = partner_of(&sandbox);
    let config = Config::new(sandbox.base_url());
    let status = imts_core::models::StatusRequest::new(imts_core::values::Lookup::OrderId(
        "ratios".parse().unwrap(),
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
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
        .expect("a blocking client");
    let _ = runtime.block_on(async_client.status(&status));
    let _ = blocking_client.status(&status);
    let token = bare_token(&sandbox);
    let prepared = PreparedRequest::new(&status, &credentials, &config, 1).unwrap();
    let url = format!("{}{}", sandbox.base_url(), prepared.path_and_query());
    let bare_reqwest = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (t_async, t_bare_async, r_async) = time_pair(
        || runtime.block_on(async_client.status(&status)).unwrap_err(),
        || {
            runtime.block_on(async {
                let r = bare_reqwest
                    .get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                (status, r.bytes().await.unwrap())
            })
        },
    );
    let bare_ureq: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let (t_blocking, t_bare_blocking, r_blocking) = time_pair(
        || blocking_client.status(&status).unwrap_err(),
        || {
            let mut r = bare_ureq
                .get(&url)
                .header("authorization", &format!("Bearer {token}"))
                .call()
                .unwrap();
            r.body_mut().read_to_vec().unwrap()
        },
    );
    rows.push((
        "async client, Status".into(),
        t_async,
        "sign + driver + reqwest".into(),
    ));
    rows.push((
        "bare reqwest, same bytes".into(),
        t_bare_async,
        String::new(),
    ));
    rows.push((
        "blocking client, Status".into(),
        t_blocking,
        "sign + driver + ureq".into(),
    ));
    rows.push((
        "bare ureq, same bytes".into(),
        t_bare_blocking,
        String::new(),
    ));
    ratios.push(("client_vs_bare_http_async", r_async));
    ratios.push(("client_vs_bare_http_blocking", r_blocking));
    ratios.push(("client_vs_bare_http", r_async.max(r_blocking)));

    concurrent::cost(&sandbox, &mut rows, &mut ratios);
    journal::cost(&sandbox, &mut rows, &mut ratios);
    inbox::cost(&mut rows, &mut ratios);
    sandbox_memory::cost(&mut rows, &mut ratios);

    report(&rows, &ratios);
}

/// The credentials of a sandbox's first partner, its partner key included.
pub(crate) fn partner_of(sandbox: &imts_sandbox::BackgroundSandbox) -> Credentials {
    let agent = &sandbox.agents()[0];
    Credentials::new(agent.agent_id.parse().unwrap(), agent.agent_secret.clone())
        .with_partner_key(agent.partner_key.clone())
}

/// An access token of that partner taken without the SDK, for the bare clients.
pub(crate) fn bare_token(sandbox: &imts_sandbox::BackgroundSandbox) -> String {
    let agent = &sandbox.agents()[0];
    let body = serde_json::json!({
        "agent_id": agent.agent_id,
        "agent_secret": String::from_utf8_lossy(agent.agent_secret.expose_secret()),
    });
    let mut answer = ureq::post(format!(
        "{}/v5/partner/transfer/agent/auth",
        sandbox.base_url()
    ))
    .header("content-type", "application/json")
    .send(body.to_string())
    .unwrap();
    let tokens: serde_json::Value =
        serde_json::from_slice(&answer.body_mut().read_to_vec().unwrap()).unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// Ratio keys built at run time (one per level or backend) live as long as the run.
pub(crate) fn leak(key: String) -> &'static str {
    Box::leak(key.into_boxed_str())
}

/// Prints the table, the guards' verdicts and, last, the `RATIOS` line.
fn report(rows: &[(String, f64, String)], ratios: &[(&str, f64)]) {
    println!("| measurement | ns per op | note |");
    println!("|---|---:|---|");
    for (name, ns, note) in rows {
        println!("| {name} | {ns:.1} | {note} |");
    }
    // Regression guards: the bounds a change must keep (BENCHMARKS.md explains each).
    // (key, bound, whether the ratio must stay at or below the bound)
    let guards = [
        ("sign_vs_hmac", 1.5, true),
        ("sign16_vs_hmac", 1.5, true),
        ("sign_json_vs_hmac", 5.0, true),
        ("naive_vs_sign", 4.0, false),
        ("python_vs_sign", 8.0, false),
        ("envelope_vs_aes", 1.8, true),
    ];
    for (key, bound, at_most) in guards {
        if let Some((_, value)) = ratios.iter().find(|(k, _)| *k == key) {
            let holds = if at_most {
                *value <= bound
            } else {
                *value >= bound
            };
            let verdict = if holds { "holds" } else { "BROKEN" };
            let op = if at_most { "<=" } else { ">=" };
            println!("guard {key} {op} {bound}: {value:.3} {verdict}");
        }
    }
    if let Some((_, allocs)) = ratios.iter().find(|(k, _)| *k == "allocs_per_sign") {
        if *allocs > 0.0 {
            println!("guard allocs_per_sign == 0: {allocs:.3} BROKEN");
        }
    }
    let line: Vec<String> = ratios.iter().map(|(k, v)| format!("{k}={v:.3}")).collect();
    println!("RATIOS {}", line.join(" "));
}
