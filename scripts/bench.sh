#!/usr/bin/env bash
# Every benchmark in one command; prints measured figures and ratios (nothing is asserted).
# Results and their interpretation: docs/benchmarks.md.
#   scripts/bench.sh            # full sizes (bulk send 1,000; intake 5,000)
#   QUICK=1 scripts/bench.sh    # small sizes, a smoke run
set -euo pipefail
cd "$(dirname "$0")/.."
N_SEND=${N_SEND:-1000}; N_INTAKE=${N_INTAKE:-5000}
if [[ -n "${QUICK:-}" ]]; then N_SEND=100; N_INTAKE=500; fi
echo "== diagnostics: wall time vs. critical path (200 ms per simulated call)"
cargo test -q -p diagnostics --test seed benchmark -- --ignored --nocapture 2>&1 | grep '^diagnostics:'
echo "== bulk send of $N_SEND vs. the raw-protocol baseline"
cargo run -q --release -p outbox --example bench_send -- --n "$N_SEND" 2>&1 | tail -n 12
echo "== intake of $N_INTAKE tasks vs. raw paging; list first page at 10,000 vs. 100 drafts"
cargo run -q --release -p outbox --example bench_intake -- --n "$N_INTAKE"
echo "== the rep's mailbox: a bulk of 100 through Graph under 30 a minute vs. the limit's minimum (about 3 minutes)"
cargo run -q --release -p outbox --example bench_pacing -- --n 100 2>&1 | grep '^pacing:'
echo "== per-message SMTP latency before/after TCP_NODELAY (needs SMTP_PYTHON with aiosmtpd)"
SMTP_PYTHON="${SMTP_PYTHON:-$PWD/.ci-venv/bin/python}" cargo run -q --release -p outbox --example bench_latency -- --n 100 2>&1 | grep '^latency:'
echo "== sizes"
cargo build -q --release
printf 'release binary: %s bytes\n' "$(stat -c %s target/release/so-outbox)"
deb=$(ls -t target/release/bundle/deb/*.deb 2>/dev/null | head -n 1 || true)
if [[ -n "$deb" ]]; then printf '.deb (%s): %s bytes\n' "$(basename "$deb")" "$(stat -c %s "$deb")"; else echo ".deb: not built (scripts/test.sh builds it)"; fi
echo "== idle memory of the app (demo tenant, after 15 s, under Xvfb)"
scripts/app_memory.sh target/release/so-outbox || echo "idle memory: could not measure (needs Xvfb and a Secret Service)"
