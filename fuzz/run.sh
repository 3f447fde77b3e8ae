#!/usr/bin/env bash
# Fuzzes the cty codecs for a bounded time: fuzz/run.sh <seconds> (default 60). See README.md.
#
# Prefers the coverage-guided libFuzzer target (cargo-fuzz, AddressSanitizer). cargo-fuzz needs
# nightly-only rustc flags; this machine has one stable toolchain, so it runs under
# RUSTC_BOOTSTRAP=1 (set FUZZ_TOOLCHAIN=nightly to use a real nightly instead). If cargo-fuzz cannot
# be installed or the target cannot be built, it falls back to the stable bounded mutation fuzzer.
# FUZZ_MODE=bounded forces the fallback. Exits non-zero when a property fails; the failing input
# is saved under fuzz/artifacts/.
set -euo pipefail

seconds="${1:-60}"
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 <seconds>" >&2; exit 2 ;;
esac
cd "$(dirname "$0")"
mode="${FUZZ_MODE:-auto}"
toolchain=()
if [[ -n "${FUZZ_TOOLCHAIN:-}" ]]; then toolchain=("+${FUZZ_TOOLCHAIN}"); fi

run_bounded() {
  echo "fuzz: bounded mutation fuzzer (stable, no libFuzzer) for ${seconds}s"
  cargo build --quiet --release --no-default-features --bin bounded
  ./target/release/bounded --seconds "$seconds"
}

if [[ "$mode" == bounded ]]; then
  run_bounded
  exit
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked >/dev/null 2>&1 || echo "fuzz: cargo-fuzz could not be installed"
fi

if cargo fuzz --version >/dev/null 2>&1 &&
  RUSTC_BOOTSTRAP=1 cargo "${toolchain[@]}" fuzz build msgpack_decode; then
  mkdir -p corpus/msgpack_decode
  echo "fuzz: libFuzzer target msgpack_decode for ${seconds}s"
  RUSTC_BOOTSTRAP=1 cargo "${toolchain[@]}" fuzz run msgpack_decode corpus/msgpack_decode seeds/msgpack_decode -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1
else
  echo "fuzz: the libFuzzer target is unavailable here; falling back"
  run_bounded
fi
