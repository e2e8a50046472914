#!/usr/bin/env bash
# Starts the app on the demo tenant under a private Xvfb + D-Bus + gnome-keyring, waits, and
# prints its resident memory (VmRSS of the app and its WebKit children). Usage: app_memory.sh BINARY [SECONDS]
set -euo pipefail
bin=$(realpath "$1"); wait_s=${2:-15}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
exec 3> "$tmp/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 >/dev/null 2>&1 & xvfb=$!
trap 'kill $xvfb 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do [[ -s "$tmp/display" ]] && break; sleep 0.1; done
export DISPLAY=":$(head -n1 "$tmp/display")" XDG_DATA_HOME="$tmp/xdg" SO_OUTBOX_DATA_DIR="$tmp/data"
mkdir -p "$XDG_DATA_HOME"
setsid dbus-run-session -- bash -c '
  echo -n bench | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 90
  "$0" --demo >/dev/null 2>&1 & app=$!
  sleep "$1"
  total=0
  for p in $app $(pgrep -P $app) $(pgrep -f WebKitWebProcess) $(pgrep -f WebKitNetworkProcess); do
    kb=$(awk "/^VmRSS/ {print \$2}" /proc/$p/status 2>/dev/null || echo 0); total=$((total + kb))
  done
  main=$(awk "/^VmRSS/ {print \$2}" /proc/$app/status)
  echo "idle memory: app ${main} KiB RSS; with WebKit processes ${total} KiB"
  kill $app' "$bin" "$wait_s"
