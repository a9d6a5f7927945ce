//! Signing, verification and the envelope, with a bare HMAC-SHA256 over the same message bytes
//! beside signing for comparison.
//!
//! `cargo bench -p imts-crypto`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use imts_crypto::{AgentSecret, Packing, PartnerKey, Signer};
use sha2::Sha256;

const SECRET: &str = "s3cr3t-Agent-Key";
/// The values of the "create transfer, every field" vector, in canonical order.
const CREATE_TRANSFER: [&str; 9] = [
    "1000.00",
    "0f8fad5b-d9cb-469f-a165-70867728950e",
    "KZT",
    "UZS",
    "phone",
    "998901234567",
    "ORD-2026-000001",
    "KAZ",
    "Family support",
];

fn signing(c: &mut Criterion) {
    let signer = Signer::new(AgentSecret::new(SECRET).unwrap());
    let mut message = CREATE_TRANSFER.join(";");
    message.push(';');
    message.push_str(SECRET);
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    let sig = signer.sign(CREATE_TRANSFER);

    let mut group = c.benchmark_group("pg_sig");
    group.bench_function("sign/create_transfer_9_fields", |b| {
        b.iter(|| signer.sign(black_box(CREATE_TRANSFER)));
    });
    group.bench_function("hmac_bare/same_message_bytes", |b| {
        b.iter(|| {
            let mut mac = keyed.clone();
            mac.update(black_box(message.as_bytes()));
            mac.finalize().into_bytes()
        });
    });
    group.bench_function("verify/create_transfer_9_fields", |b| {
        b.iter(|| signer.verify(black_box(CREATE_TRANSFER), black_box(sig.as_str())));
    });
    group.finish();
}

fn envelope(c: &mut Criterion) {
    let key = PartnerKey::parse(&"5a".repeat(32)).unwrap();
    let mut group = c.benchmark_group("envelope");
    for size in [300usize, 1024, 16 * 1024] {
        let plaintext = vec![b'x'; size];
        let sealed = key.encrypt(&plaintext, Packing::IvCiphertext);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("encrypt", size), &plaintext, |b, p| {
            b.iter(|| key.encrypt(black_box(p), Packing::IvCiphertext));
        });
        group.bench_with_input(BenchmarkId::new("decrypt", size), &sealed, |b, s| {
            b.iter(|| key.decrypt(black_box(s), Packing::IvCiphertext));
        });
    }
    group.finish();
}

criterion_group!(benches, signing, envelope);
criterion_main!(benches);
