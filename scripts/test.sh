#!/usr/bin/env bash
# Sets up what the tests need on a fresh machine, then runs every test.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -p session-core # extra arguments go to `cargo test`
#
# Installs (when missing) Redis, PostgreSQL, Chromium and chromedriver from Debian's
# packages and a Python venv with Flask and Flask-Session from PyPI, starts Redis and
# PostgreSQL if they are not answering, then runs `cargo test --workspace`.
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

# --- PostgreSQL ------------------------------------------------------------------
# The tests connect to 127.0.0.1:5432 as `postgres` without a password (trust auth, as on
# the project's machines), to the database `test`; each test works in a schema of its own
# and drops it. The fault test also runs a private cluster of its own with the server's
# initdb and pg_ctl.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    fresh=
    if ! ls -d /etc/postgresql/*/main >/dev/null 2>&1; then
        fresh=1
        say "installing postgresql"
        sudo_if_needed apt-get update -q
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql
        # A fresh cluster asks for passwords over TCP: let the tests in from 127.0.0.1.
        hba=$(ls -d /etc/postgresql/*/main | sort -V | tail -n1)/pg_hba.conf
        say "trusting 127.0.0.1 in $hba (a test machine's setting)"
        sudo_if_needed sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    fi
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    say "starting PostgreSQL $version on 127.0.0.1:5432"
    # (Already running but not yet answering is fine: the wait below decides.)
    sudo_if_needed pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    # The package may have started the new cluster before pg_hba.conf was changed.
    [ -z "$fresh" ] || sudo_if_needed pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    for _ in $(seq 1 100); do
        pg_isready -h 127.0.0.1 -p 5432 -q && break
        sleep 0.1
    done
    pg_isready -h 127.0.0.1 -p 5432
fi
if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
    say "creating the PostgreSQL database test"
    createdb -h 127.0.0.1 -U postgres test
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
