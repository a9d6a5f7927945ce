#!/usr/bin/env bash
# compile_vs_reqwest: how much longer a new user crate takes to build cold when it depends on
# `imts` (default features: the async client, rustls on aws-lc-rs) than when it depends on
# reqwest alone (its defaults: rustls on aws-lc-rs, http2). Two fresh crates, each in its own
# target directory, built one after the other with the same cargo and the same job count.
#
#   scripts/compile-vs-reqwest.sh [debug|release]
#
# Prints `COMPILE imts=SECONDS reqwest=SECONDS compile_vs_reqwest=RATIO`. Sources come from
# cargo's registry cache; the first run may download them (not timed: `cargo fetch` first).
set -euo pipefail
profile="${1:-debug}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

new_crate() { # name dependency-line
    mkdir -p "$work/$1/src"
    cat > "$work/$1/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$2

[workspace]
TOML
    echo 'fn main() {}' > "$work/$1/src/main.rs"
}

new_crate user-of-imts "imts = { path = \"$root/imts\" }"
new_crate user-of-reqwest 'reqwest = "0.13"'

flags=()
[ "$profile" = release ] && flags=(--release)
timed_build() { # crate -> seconds
    (cd "$work/$1" && cargo fetch -q)
    local start end
    start=$(date +%s.%N)
    (cd "$work/$1" && CARGO_TARGET_DIR="$work/$1/target" cargo build -q "${flags[@]}")
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }' 
}

imts=$(timed_build user-of-imts)
reqwest=$(timed_build user-of-reqwest)
ratio=$(awk -v a="$imts" -v b="$reqwest" 'BEGIN { printf "%.3f", a / b }')
echo "COMPILE profile=$profile imts=$imts reqwest=$reqwest compile_vs_reqwest=$ratio"
