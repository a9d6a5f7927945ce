#!/usr/bin/env python3
"""Time from starting `imts sandbox` to its "listening" line, 10 runs (build with
`cargo build --release -p imts-cli` first)."""
import subprocess, sys, time

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/imts"
times = []
for _ in range(10):
    start = time.perf_counter()
    process = subprocess.Popen([binary, "sandbox", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = process.stdout.readline().decode()
    times.append((time.perf_counter() - start) * 1000)
    process.kill()
    process.wait()
    assert "listening" in line, line
times.sort()
print(f"imts sandbox startup: median {times[len(times) // 2]:.1f} ms, max {times[-1]:.1f} ms over {len(times)} runs")
