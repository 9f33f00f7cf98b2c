#!/usr/bin/env bash
# Sets up what the tests need on a fresh machine, then runs every test.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -p session-core # extra arguments go to `cargo test`
#
# Installs (when missing) Redis, Chromium and chromedriver from Debian's packages and a
# Python venv with Flask and Flask-Session from PyPI, starts Redis if it is not
# answering, then runs `cargo test --workspace`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Debian packages -------------------------------------------------------------
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    sudo_if_needed apt-get update -q
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- Redis -----------------------------------------------------------------------
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting redis-server on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 50); do
        redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
fi

# --- Python venv with Flask ------------------------------------------------------
venv="$root/.venv"
requirements="$root/tests/python/requirements.txt"
stamp="$venv/.requirements.sha256"
if [ -f "$requirements" ]; then
    want=$(sha256sum "$requirements" | cut -d' ' -f1)
    if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "creating the Flask venv in .venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
        echo "$want" >"$stamp"
    fi
    export SESSION_TEST_PYTHON="$venv/bin/python"
fi

# --- the tests -------------------------------------------------------------------
say "cargo test --workspace $*"
exec cargo test --workspace "$@"
