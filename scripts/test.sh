#!/usr/bin/env bash
# Installs what is missing and runs every test: UI checks, all Rust tests (unit, integration
# against the simulator and a real SMTP server, the Secret Service keychain, and the end-to-end
# test in the real app window under Xvfb), then builds the .deb, installs it and smoke-tests
# the installed app on the demo tenant. The Windows build (scripts/windows.sh) is linted,
# tested under Wine, and packaged as a setup program beside the .deb. SKIP_DEB=1 leaves out the
# package steps, SKIP_WINDOWS=1 the Windows ones.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
T0=$(date +%s)
stamp() { echo "$(( $(date +%s) - T0 ))s"; }
setup_test
cd "$ROOT"
log "setup done after $(stamp)"

log "UI: type check, unit tests, lint (ESLint) and formatting (Prettier)"
(cd ui && npx --no-install svelte-check --tsconfig ./tsconfig.json --fail-on-warnings --output machine | tail -n 1 && npx --no-install vitest run)
(cd ui && npm run --silent lint)

log "Rust: formatting and lints (clippy, warnings are errors)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
if [ "${SKIP_WINDOWS:-}" != 1 ]; then
  log "Rust: clippy for Windows (x86_64-pc-windows-gnu), warnings are errors"
  scripts/windows.sh clippy
fi

log "building every test target"
cargo test --workspace --no-run --quiet
log "build done after $(stamp)"

SCRATCH="$(mktemp -d)"
exec 3>"$SCRATCH/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp >"$SCRATCH/xvfb.log" 2>&1 &
XVFB_PID=$!
cleanup() { kill "$XVFB_PID" 2>/dev/null || true; rm -rf "$SCRATCH"; }
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$SCRATCH/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -n 1 "$SCRATCH/display")"
export XDG_DATA_HOME="$SCRATCH/xdg-data"
mkdir -p "$XDG_DATA_HOME"

# Inside a private D-Bus session with an unlocked gnome-keyring (the Secret Service), in a
# process group of its own so that no stray daemon (at-spi, WebKitWebDriver) outlives it.
in_desktop_session() {
  setsid dbus-run-session -- bash -c 'echo -n so-outbox-ci | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 90; "$@"' bash "$@" \
    </dev/null >"$SCRATCH/session.log" 2>&1 &
  local pid=$! rc=0
  wait $pid || rc=$?
  kill -TERM -- -$pid 2>/dev/null || true
  grep -v -e '^dbus-daemon\[' -e 'SpiRegistry daemon' "$SCRATCH/session.log" || true
  return $rc
}

log "running the Rust tests (display $DISPLAY)"
in_desktop_session cargo test --workspace
log "tests done after $(stamp)"
if [ "${SKIP_WINDOWS:-}" != 1 ]; then
  log "Windows: the tests that run under Wine"
  scripts/windows.sh test
  log "Windows tests done after $(stamp)"
fi
log "benchmark: diagnostics wall time vs. critical path (run alone)"
cargo test -q -p diagnostics --test seed benchmark -- --ignored --nocapture | grep '^diagnostics:' || true
# The figures the tests measured (printed, never asserted).
for f in crash-summary canary-summary canary-app-summary diagnostics-bench ui-perf; do
  if [ -s "target/tmp/$f.txt" ]; then log "$f: $(cat "target/tmp/$f.txt")"; fi
done

if [ "${SKIP_DEB:-}" = 1 ]; then
  log "SKIP_DEB=1: not building the package"
  exit 0
fi
log "building the .deb with the tauri bundler (release)"
ui/node_modules/.bin/tauri build --bundles deb
DEB="$(ls -t target/release/bundle/deb/*.deb | head -n 1)"
log "built $DEB ($(du -h "$DEB" | cut -f1)) after $(stamp); installing it"
as_root apt-get install -y -qq --reinstall "./$DEB" >/dev/null
# The simulator's control API (`/__sim/`: system-user secrets, all mail, fault injection) is
# compiled only into test builds; the shipped binary must not contain it.
if grep -aq "__sim/records" /usr/bin/so-outbox; then
  log "FAIL: the installed /usr/bin/so-outbox contains the simulator's control API"
  exit 1
fi
log "the installed binary has no /__sim/ control API"
log "smoke test: the installed /usr/bin/so-outbox on the demo tenant"
export SO_OUTBOX_DATA_DIR="$SCRATCH/smoke"
in_desktop_session timeout 120 /usr/bin/so-outbox --smoke-test
log "smoke test passed after $(stamp)"
unset SO_OUTBOX_DATA_DIR
if [ "${SKIP_WINDOWS:-}" != 1 ]; then
  log "building the Windows setup program (release so-outbox.exe, makensis) and trying it under Wine"
  scripts/windows.sh exe
  scripts/windows.sh installer
  SETUP="$(ls -t target/x86_64-pc-windows-gnu/release/bundle/nsis/*-setup.exe | head -n 1)"
  log "packages: $DEB ($(du -h "$DEB" | cut -f1)), $SETUP ($(du -h "$SETUP" | cut -f1))"
fi
log "everything done after $(stamp)"
