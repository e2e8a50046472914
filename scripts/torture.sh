#!/usr/bin/env bash
# The long crash torture (issue 7). `cargo test` runs a short form of both tortures; this runs
# them at scale:
#   - the bulk torture: at least 200 kills (SIGKILL at a seeded random moment, or at a random
#     named crash point) while the app sends 100-message bulks, each bulk restarted until it is
#     through and then drained undisturbed;
#   - the crash-point torture: every crash point once, then seeded random rounds.
# After each, lost / auto_dup / misclassified_ambiguous / archive_dup are counted from the SMTP
# server's files, the simulator's records and the outbox database; all must be 0.
#
# Settings (environment):
#   CRASH_KILLS           kills in the bulk torture            (default 240)
#   CRASH_BULK            messages per bulk                    (default 100)
#   CRASH_SEED            the seed of both schedules; a number, or "random" (default: the fixed one)
#   CRASH_ROUNDS          crash-point torture rounds           (default 24, as many as its drafts allow)
#   CRASH_KILL_WINDOW_MS  a SIGKILL falls this long at most after the app is ready (default 400)
#   CRASH_VERBOSE=1       one line per app run (plan, exit, signal)
# The same seed gives the same schedule of kills; where a timed SIGKILL lands still depends on
# the machine's speed. Takes about 2 minutes on 2 cores for 240 kills (docs/reliability.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
if [ ! -d ui/dist ] || ! .ci-venv/bin/python -c "import aiosmtpd" 2>/dev/null; then
  source scripts/setup.sh
  setup_test
fi
export SMTP_PYTHON="$ROOT/.ci-venv/bin/python"
export CRASH_KILLS="${CRASH_KILLS:-240}" CRASH_ROUNDS="${CRASH_ROUNDS:-24}"
if [ "${CRASH_SEED:-}" = random ]; then
  CRASH_SEED="$(od -An -N6 -tu8 /dev/urandom | tr -d ' ')"
fi
[ -n "${CRASH_SEED:-}" ] && export CRASH_SEED
echo "[torture] CRASH_KILLS=$CRASH_KILLS CRASH_ROUNDS=$CRASH_ROUNDS CRASH_SEED=${CRASH_SEED:-default} CRASH_BULK=${CRASH_BULK:-100}" >&2
cargo test --test crash --no-run --quiet
T0=$(date +%s)
# The test SMTP server's own chatter (aiosmtpd warnings, TLS errors of killed clients) is noise here.
cargo test --test crash --quiet -- --nocapture --test-threads=1 2>&1 \
  | grep -v -e 'login_data is deprecated' -e 'SMTP session exception' -e 'socket.send() raised exception' -e '^Traceback' -e '^  File "' -e '^    ' \
      -e '^ConnectionResetError' -e '^BrokenPipeError' -e '^The above exception' -e '^During handling' -e '^aiosmtpd\.' -e '^ssl\.' -e '^$'
echo "[torture] done in $(( $(date +%s) - T0 )) s:" >&2
cat target/tmp/crash-summary.txt >&2
