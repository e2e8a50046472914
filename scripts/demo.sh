#!/usr/bin/env bash
# Installs what is missing, builds, and starts SuperOffice Outbox on the built-in demo tenant.
# On a machine without a display or a desktop session it starts a virtual display and a
# private keychain, and saves a screenshot instead.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
setup_build
log "building the app"
(cd "$ROOT" && cargo build --quiet)
APP="$ROOT/target/debug/so-outbox"

if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  log "starting the app on the demo tenant"
  exec "$APP" --demo "$@"
fi

log "no desktop session found: using a virtual display and a private keychain"
apt_install xvfb xauth imagemagick
SCRATCH="$(mktemp -d)"
export XDG_DATA_HOME="$SCRATCH/data" SO_OUTBOX_DATA_DIR="${SO_OUTBOX_DATA_DIR:-$SCRATCH/app}"
SHOT="$ROOT/target/demo-screenshot.png"
xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
  echo -n demo | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  "$0" --demo & APP_PID=$!
  sleep 10
  import -window root "$1" && echo "screenshot of the running app: $1"
  echo "the app is running on a virtual display; press Ctrl-C to stop it"
  wait $APP_PID
' "$APP" "$SHOT"
