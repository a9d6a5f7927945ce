//! Criterion benches across the crates: signing (typed 9 and 16 fields, a dynamic JSON body),
//! verification, canonicalization, the envelope, a complete signed Create transfer request,
//! decoding a transfer, callback verification, and one Status call through each client against
//! the in-process sandbox.
//!
//! `cargo bench -p imts-benches`

use std::future::Future as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use imts_benches::{create_transfer, pairs_of, wide16, SECRET};
use imts_core::signature::{sign_json, CanonicalParams};
use imts_core::wire::SignFields;
use imts_core::{Config, Credentials, PreparedRequest};
use imts_crypto::{AgentSecret, Packing, PartnerKey, Signer};

fn signing(c: &mut Criterion) {
    let signer = Signer::new(AgentSecret::new(SECRET).unwrap());
    let nine = create_transfer();
    let sixteen = wide16();
    let body = serde_json::to_vec(&nine).unwrap();
    let pairs = pairs_of(&nine);
    let mut group = c.benchmark_group("sign");
    group.bench_function("typed_9_fields", |b| {
        b.iter(|| signer.try_sign_with(|m| black_box(&nine).sign_fields(m)))
    });
    group.bench_function("typed_16_fields", |b| {
        b.iter(|| signer.try_sign_with(|m| black_box(&sixteen).sign_fields(m)))
    });
    group.bench_function("json_body_9_fields", |b| {
        b.iter(|| sign_json(black_box(&body), &signer).unwrap())
    });
    let sig = CanonicalParams::from_json(&body).unwrap().sign(&signer);
    group.bench_function("verify_9_values", |b| {
        b.iter(|| {
            signer.verify(
                pairs.iter().map(|(_, v)| v.as_bytes()),
                black_box(sig.as_str()),
            )
        })
    });
    group.bench_function("canonicalize_json_9_fields", |b| {
        b.iter(|| CanonicalParams::from_json(black_box(&body)).unwrap())
    });
    group.finish();
}

fn envelope(c: &mut Criterion) {
    let key = PartnerKey::parse(&"5a".repeat(32)).unwrap();
    let mut group = c.benchmark_group("envelope");
    for size in [300usize, 1024, 16 * 1024, 1024 * 1024] {
        let plaintext = vec![b'x'; size];
        let sealed = key.encrypt(&plaintext, Packing::IvCiphertext);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("encrypt", size), &plaintext, |b, p| {
            b.iter(|| key.encrypt(black_box(p), Packing::IvCiphertext))
        });
        group.bench_with_input(BenchmarkId::new("decrypt", size), &sealed, |b, s| {
            b.iter(|| key.decrypt(black_box(s), Packing::IvCiphertext))
        });
        let iv = [7u8; 16];
        let ciphertext = key.cbc_encrypt(&iv, &plaintext);
        let mut out = vec![0u8; ciphertext.len()];
        group.bench_with_input(
            BenchmarkId::new("cbc_decrypt_into", size),
            &ciphertext,
            |b, c| {
                b.iter(|| {
                    key.cbc_decrypt_into(&iv, black_box(c), &mut out)
                        .map(<[u8]>::len)
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("cbc_encrypt_into", size),
            &plaintext,
            |b, p| {
                b.iter(|| {
                    key.cbc_encrypt_into(&iv, black_box(p), &mut out)
                        .map(<[u8]>::len)
                })
            },
        );
    }
    group.finish();
}

fn requests_and_responses(c: &mut Criterion) {
    let credentials = Credentials::new(
        "agent-1".parse().unwrap(),
        AgentSecret::new(SECRET).unwrap(),
    );
    let config = Config::new("http://127.0.0.1:8080");
    let request = create_transfer();
    let mut group = c.benchmark_group("http");
    group.bench_function("build_signed_create_transfer", |b| {
        b.iter(|| {
            PreparedRequest::new(black_box(&request), &credentials, &config, 1)
                .unwrap()
                .to_http(&config.base_url, None)
                .unwrap()
        })
    });
    let transfer = br#"{"transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","order_id":"ORD-1","status":"process","client_uuid":"7c9e6679-7425-40de-944b-e07fc1f90ae7","destination_type":"phone","destination_identifier":"********4567","target_country":"UZB","amount_source":1000.00,"currency_source":"KZT","fee":10.00,"total_amount":1010.00,"amount_target":24350.00,"currency_target":"UZS","rate":24.35,"transfer_code":"48392011","created_at":"2026-11-22T10:00:00.000000Z","updated_at":"2026-11-22T10:01:00.000000Z"}"#;
    let route = imts_core::Endpoint::Info.route();
    group.bench_function("decode_transfer", |b| {
        b.iter(|| {
            imts_core::response::decode::<imts_core::models::Transfer>(
                &route,
                200,
                black_box(transfer),
            )
            .unwrap()
        })
    });
    let fields = r#""type":"status_update","notification_id":"n-1","transfer_id":"0f8fad5b-d9cb-469f-a165-70867728950e","order_id":"ORD-1","status":"process","previous_status":"new","updated_at":"2026-11-22T10:00:00.000000Z""#;
    let sig = CanonicalParams::from_json(format!("{{{fields}}}").as_bytes())
        .unwrap()
        .sign(&Signer::new(AgentSecret::new(SECRET).unwrap()));
    let notification = format!("{{{fields},\"pg_sig\":\"{sig}\"}}");
    let verifier = imts_callbacks::Verifier::new(AgentSecret::new(SECRET).unwrap());
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_callback", |b| {
        b.iter(|| verifier.verify(black_box(notification.as_bytes())).unwrap())
    });
    // The whole receiver path of a replayed delivery (verify, parse, de-duplicate, answer), what
    // `imts listen` does per request besides HTTP. The memory stores answer at once, so the
    // future completes on its first poll.
    let processor = imts_callbacks::Processor::new(verifier.clone(), |_| async { Ok(()) });
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    let method = http::Method::POST;
    let mut process = || {
        let future = std::pin::pin!(processor.process(&method, black_box(notification.as_bytes())));
        match future.poll(&mut context) {
            std::task::Poll::Ready(answer) => answer,
            std::task::Poll::Pending => unreachable!("the memory stores do not wait"),
        }
    };
    assert_eq!(process().status, 200);
    group.bench_function("process_duplicate_callback", |b| b.iter(&mut process));
    group.finish();
}

fn clients(c: &mut Criterion) {
    let sandbox =
        imts_sandbox::BackgroundSandbox::start(imts_sandbox::SandboxConfig::default()).unwrap();
    let agent = sandbox.agents()[0].clone();
    let credentials = Credentials::new(agent.agent_id.parse().unwrap(), agent.agent_secret.clone());
    let status = imts_core::models::StatusRequest::new(imts_core::values::Lookup::OrderId(
        "bench".parse().unwrap(),
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let async_client = imts::ClientBuilder::new(credentials.clone())
        .config(Config::new(sandbox.base_url()))
        .build()
        .unwrap();
    let blocking_client = imts::ClientBuilder::new(credentials)
        .config(Config::new(sandbox.base_url()))
        .build_blocking()
        .expect("a blocking client");
    let mut group = c.benchmark_group("status_call");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("async_client", |b| {
        b.iter(|| runtime.block_on(async_client.status(&status)).unwrap_err())
    });
    group.bench_function("blocking_client", |b| {
        b.iter(|| blocking_client.status(&status).unwrap_err())
    });
    group.finish();
}

criterion_group!(benches, signing, envelope, requests_and_responses, clients);
criterion_main!(benches);
