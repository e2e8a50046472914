#!/usr/bin/env bash
# Runs the given command (default: the end-to-end tests) the way scripts/test.sh does: on a
# private Xvfb display, inside a private D-Bus session with an unlocked gnome-keyring.
#   tests/e2e/run.sh                                  # cargo test --test e2e --test e2e_hostile
#   tests/e2e/run.sh cargo test --test e2e -- undo    # one test
#   SCREEN=1600x1000x24 tests/e2e/run.sh ...          # another screen size
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -gt 0 ] || set -- cargo test --test e2e --test e2e_hostile -- --nocapture
SCRATCH="$(mktemp -d)"
exec 3>"$SCRATCH/display"
Xvfb -displayfd 3 -screen 0 "${SCREEN:-1280x800x24}" -nolisten tcp >"$SCRATCH/xvfb.log" 2>&1 &
XVFB_PID=$!
trap 'kill "$XVFB_PID" 2>/dev/null || true; rm -rf "$SCRATCH"' EXIT
for _ in $(seq 100); do [ -s "$SCRATCH/display" ] && break; sleep 0.1; done
export DISPLAY=":$(head -n 1 "$SCRATCH/display")"
export XDG_DATA_HOME="$SCRATCH/xdg-data"
mkdir -p "$XDG_DATA_HOME"
setsid dbus-run-session -- bash -c 'echo -n so-outbox-e2e | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 90; "$@"' bash "$@" </dev/null &
pid=$!
rc=0
wait $pid || rc=$?
kill -TERM -- -$pid 2>/dev/null || true
exit $rc
