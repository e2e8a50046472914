#!/usr/bin/env bash
# Installs whatever is missing to build, run and test so-outbox on Debian 12 / Ubuntu, and does
# nothing when everything is there. Sourced by scripts/demo.sh and scripts/test.sh.
#   setup_build   system libraries, npm modules, the built UI
#   setup_test    + Xvfb, WebKitWebDriver, gnome-keyring, tauri-driver, aiosmtpd (venv),
#                 and setup_windows unless SKIP_WINDOWS=1
#   setup_windows the Rust target x86_64-pc-windows-gnu, the MinGW-w64 cross compiler, NSIS
#                 (makensis) and Wine (64-bit) for the Windows build, setup program and tests
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "[so-outbox $(date +%T)] $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# What a desktop needs to build and run the app.
BUILD_PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev xdg-utils gnome-keyring dbus)
# What the tests add: a virtual display, the WebDriver for WebKitGTK, a Python venv for the
# SMTP server, openssl for certificates; xclip and xdotool (the X clipboard and focus, from
# outside the app) and the system Python's D-Bus and GLib (the test notification server).
TEST_PACKAGES=(xvfb xauth webkit2gtk-driver python3-venv openssl curl xclip xdotool python3-dbus python3-gi)

# What the Windows build adds (scripts/windows.sh): the MinGW-w64 C/C++ cross compiler for the
# x86_64-pc-windows-gnu target (the 64-bit half of Debian's `mingw-w64`), makensis for the setup
# program, and the 64-bit Wine that runs the Windows tests (`wine` is its launcher).
WINDOWS_PACKAGES=(gcc-mingw-w64-x86-64 g++-mingw-w64-x86-64 nsis wine wine64)
WINDOWS_TARGET=x86_64-pc-windows-gnu

check_toolchains() {
  command -v cargo >/dev/null || { log "cargo is missing: install Rust from https://rustup.rs first"; exit 1; }
  command -v npm >/dev/null || { log "npm is missing: install Node.js 20.19 or newer first"; exit 1; }
  local node_version
  node_version="$(node -p 'process.versions.node')"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || { log "Node.js $node_version is too old for the UI build (Vite 8): install Node.js 20.19 or newer"; exit 1; }
}

setup_ui() {
  if [ ! -d "$ROOT/ui/node_modules" ] || [ "$ROOT/ui/package-lock.json" -nt "$ROOT/ui/node_modules/.package-lock.json" ]; then
    log "installing npm modules (ui/)"
    # `npm install --no-save` installs the locked versions without rewriting the lock; `npm ci`
    # refuses npm 11's own lock files (it leaves out vite's Windows-only optional dependency).
    (cd "$ROOT/ui" && npm install --no-audit --no-fund --no-save --loglevel=error)
  fi
  log "building the UI"
  (cd "$ROOT/ui" && npm run --silent build >/dev/null)
}

setup_build() {
  check_toolchains
  apt_install "${BUILD_PACKAGES[@]}"
  setup_ui
}

setup_test() {
  setup_build
  apt_install "${TEST_PACKAGES[@]}"
  if ! command -v tauri-driver >/dev/null; then
    log "installing tauri-driver (about a minute)"
    cargo install tauri-driver --version "^2" --locked --quiet
  fi
  if [ ! -x "$ROOT/.ci-venv/bin/python" ] || ! "$ROOT/.ci-venv/bin/python" -c "import aiosmtpd, PIL" 2>/dev/null; then
    log "creating the Python venv for the test SMTP server"
    python3 -m venv "$ROOT/.ci-venv"
    "$ROOT/.ci-venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6" "pillow>=10"
  fi
  export SMTP_PYTHON="$ROOT/.ci-venv/bin/python"
  export PATH="$HOME/.cargo/bin:$PATH"
  if [ "${SKIP_WINDOWS:-}" != 1 ]; then setup_windows; fi
}

setup_windows() {
  apt_install "${WINDOWS_PACKAGES[@]}"
  if ! rustup target list --installed | grep -qx "$WINDOWS_TARGET"; then
    log "adding the Rust target $WINDOWS_TARGET"
    rustup target add "$WINDOWS_TARGET"
  fi
}
