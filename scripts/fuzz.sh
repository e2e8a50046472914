#!/usr/bin/env bash
# Runs every cargo-fuzz target (or the ones named) for a set time each, one after the other.
#   scripts/fuzz.sh [seconds per target, default 60] [target...]
#   MERGE=1 scripts/fuzz.sh 600     ... then adds the inputs that found new coverage to fuzz/corpus
#   scripts/fuzz.sh cmin [target...]  minimises fuzz/corpus/<target>: the named (hand-made and
#                                     regression) inputs stay, the generated ones (SHA-1 names)
#                                     are cut to a set with the same edge coverage
# Needs the nightly toolchain (libFuzzer, AddressSanitizer); installs cargo-fuzz when missing.
# New inputs go to fuzz/new-corpus/<target> (not committed); crashes to fuzz/artifacts/<target>.
# Exits non-zero when any target crashed. See fuzz/README.md.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODE=run
if [ "${1:-}" = cmin ]; then MODE=cmin; shift; fi
SECONDS_PER_TARGET=60
if [ "$MODE" = run ] && [ $# -gt 0 ]; then SECONDS_PER_TARGET="$1"; shift; fi
cd "$ROOT/fuzz"

rustup toolchain list | grep -q '^nightly' || { echo "needs the nightly toolchain: rustup toolchain install nightly" >&2; exit 2; }
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || mapfile -t TARGETS < <(cargo +nightly fuzz list)

cargo +nightly fuzz build

minimize() {
  local t="$1" tmp before
  tmp="$(mktemp -d)"
  mkdir "$tmp/keep" "$tmp/generated"
  before=$(find "corpus/$t" -type f | wc -l)
  # Named inputs (hand-made seeds, regression cases) always stay and count as covered;
  # of the generated ones (SHA-1 names) only those that add coverage to them are kept.
  find "corpus/$t" -type f -regextype posix-extended ! -regex '.*/[0-9a-f]{40}' -exec cp {} "$tmp/keep/" \;
  find "corpus/$t" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -exec cp {} "$tmp/generated/" \;
  ls "$tmp/keep" >"$tmp/named"
  cargo +nightly fuzz run "$t" "$tmp/keep" "$tmp/generated" -- -set_cover_merge=1 -use_counters=0 -max_len=4096 >"$tmp/log" 2>&1 \
    || { tail -n 20 "$tmp/log" >&2; rm -rf "$tmp"; return 1; }
  find "corpus/$t" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
  for f in "$tmp/keep"/*; do
    grep -qxF "$(basename "$f")" "$tmp/named" || cp "$f" "corpus/$t/"
  done
  echo "   $t: corpus $before -> $(find "corpus/$t" -type f | wc -l) files, $(du -sb "corpus/$t" | cut -f1) bytes" >&2
  rm -rf "$tmp"
}

if [ "$MODE" = cmin ]; then
  for t in "${TARGETS[@]}"; do minimize "$t"; done
  exit 0
fi

SUMMARY=()
CRASHED=()
for t in "${TARGETS[@]}"; do
  mkdir -p "new-corpus/$t" "artifacts/$t"
  log="new-corpus/$t.log"
  echo "== $t: ${SECONDS_PER_TARGET}s" >&2
  rc=0
  # new-corpus/<t> first: libFuzzer writes new inputs to the first directory only, so the
  # committed corpus is read, not changed. -max_len keeps the inputs small and quick.
  cargo +nightly fuzz run "$t" "new-corpus/$t" "corpus/$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=4096 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    >"$log" 2>&1 || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*' || echo "?")
  new=$(find "new-corpus/$t" -type f | wc -l)
  if [ "$rc" != 0 ]; then
    CRASHED+=("$t")
    grep -E 'panicked at|ERROR: (libFuzzer|AddressSanitizer)|Test unit written to' "$log" >&2 || tail -n 30 "$log" >&2
  fi
  SUMMARY+=("$(printf '%-22s %6ss %12s execs  cov %6s  new inputs %5s  %s' "$t" "$SECONDS_PER_TARGET" "$execs" "$cov" "$new" "$([ "$rc" = 0 ] && echo ok || echo CRASH)")")
  if [ "${MERGE:-}" = 1 ] && [ "$rc" = 0 ]; then
    cargo +nightly fuzz run "$t" "corpus/$t" "new-corpus/$t" -- -merge=1 -max_len=4096 >"new-corpus/$t.merge.log" 2>&1
    minimize "$t"
  fi
done
printf '%s\n' "${SUMMARY[@]}"
if [ ${#CRASHED[@]} -gt 0 ]; then
  echo "crashed: ${CRASHED[*]} (inputs in fuzz/artifacts/<target>/; replay: cargo +nightly fuzz run <target> <file>)" >&2
  exit 1
fi
