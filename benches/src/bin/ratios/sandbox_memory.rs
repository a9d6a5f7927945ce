//! The sandbox's memory per stored transfer, and that its retention limit bounds it: transfers
//! created through the blocking client against a sandbox in this process, the process's resident
//! memory (`VmRSS`) read before and after. The client's own memory does not grow with the count,
//! so the difference is the sandbox's store (and the allocator's slack around it).

use imts_core::models::CancelRequest;
use imts_sandbox::{BackgroundSandbox, SandboxConfig};

/// Transfers created per measurement.
const COUNT: usize = 20_000;
/// The retention limit of the bounded run.
const RETAINED: usize = 2_000;

/// Adds the rows and `sandbox_bytes_per_transfer`, `sandbox_bounded_bytes_per_transfer`.
pub fn cost(rows: &mut Vec<(String, f64, String)>, ratios: &mut Vec<(&'static str, f64)>) {
    if resident_bytes().is_none() {
        return; // no /proc here
    }
    let kept = grow(SandboxConfig::default(), false);
    rows.push((
        format!("sandbox memory per stored transfer ({COUNT} kept), bytes"),
        kept,
        "VmRSS difference / count".into(),
    ));
    ratios.push(("sandbox_bytes_per_transfer", kept));
    let bounded = grow(
        SandboxConfig {
            retained_transfers: RETAINED,
            ..SandboxConfig::default()
        },
        true,
    );
    rows.push((
        format!(
            "sandbox memory per created transfer, {COUNT} finished, {RETAINED} retained, bytes"
        ),
        bounded,
        "canceled at once; the oldest forgotten".into(),
    ));
    ratios.push(("sandbox_bounded_bytes_per_transfer", bounded));
}

/// Bytes of resident memory added per created transfer (each canceled at once when `finish`).
fn grow(config: SandboxConfig, finish: bool) -> f64 {
    let sandbox = BackgroundSandbox::start(config).unwrap();
    let credentials = crate::partner_of(&sandbox);
    let client = imts::ClientBuilder::new(credentials)
        .base_url(sandbox.base_url())
        .build_blocking()
        .unwrap();
    let person = client
        .create_person(&imts_sandbox::samples::create_person("Memory").unwrap())
        .unwrap();
    let create = |i: usize| {
        let order = format!("MEM-{}-{i}", std::process::id());
        let request = imts_sandbox::samples::create_transfer(&person.client_uuid, &order).unwrap();
        let transfer = client.create_transfer(&request).unwrap();
        if finish {
            client
                .cancel(&CancelRequest::new(transfer.transfer_id))
                .unwrap();
        }
    };
    // Warm up: the first calls allocate the client's and the server's buffers and pools.
    (0..200).for_each(create);
    let before = resident_bytes().unwrap_or(0);
    (200..200 + COUNT).for_each(create);
    let after = resident_bytes().unwrap_or(0);
    after.saturating_sub(before) as f64 / COUNT as f64
}

/// This process's resident memory.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
