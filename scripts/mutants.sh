#!/usr/bin/env bash
# Mutation testing (cargo-mutants) of the code the conformance kit and the crates' own
# tests must guard. Not part of CI's default run: on 2 cores a scope takes 5-35 minutes,
# the whole core (about 720 mutants) about an hour.
#
#   scripts/mutants.sh            # the per-user index (default scope)
#   scripts/mutants.sh cas        # ServerSide's load/save/CAS paths and the memory store
#   scripts/mutants.sh cookie     # session-cookie's secure/, native/ and verified.rs
#   scripts/mutants.sh sqlite     # session-sqlite's record store (needs nothing running)
#   scripts/mutants.sh redis      # session-redis's record store (Redis on 127.0.0.1:6379)
#   scripts/mutants.sh postgres   # session-postgres's record store (PostgreSQL on :5432)
#   scripts/mutants.sh files-store  # session-files' native record store
#   scripts/mutants.sh core       # all of session-core
#   scripts/mutants.sh files -f session-core/src/clock/mod.rs   # any files, core's tests
#   scripts/mutants.sh core --iterate   # only what the last run of that scope did not catch
#
# Results go to $MUTANTS_OUT (default target/mutants): keep one per scope for --iterate.
# Equivalent mutants are excluded in .cargo/mutants.toml, each with its reason.
# Doc tests are left out (`--lib --tests`): a mutant only a doc example catches counts as
# missed, so what guards behaviour is a test. The Flask interop tests are left out of the
# cookie scope: they guard the Flask format, which those files do not write.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked --version 27.1.0

core_tests=(--test-package session-core,session-conformance -- --lib --tests)
scope=${1:-index}
[ $# -gt 0 ] && shift
case "$scope" in
index)
    set -- -f session-core/src/store/server_side/index.rs \
        -f session-core/src/session/index.rs \
        -f session-core/src/session/principal.rs "$@" "${core_tests[@]}" ;;
cas)
    set -- -f session-core/src/store/server_side/save.rs \
        -f session-core/src/store/server_side/mod.rs \
        -f session-core/src/store/server_side/locks.rs \
        -f session-core/src/store/memory.rs "$@" "${core_tests[@]}" ;;
cookie)
    set -- -f 'session-cookie/src/secure/**' -f 'session-cookie/src/native/**' \
        -f session-cookie/src/verified.rs "$@" --test-package session-cookie -- --lib \
        --test native_cookie --test conformance --test core_contract --test future_cookies ;;
sqlite)
    set -- -f session-sqlite/src/record_store.rs "$@" --test-package session-sqlite \
        -- --lib --tests ;;
redis)
    set -- -f session-redis/src/store/mod.rs "$@" --test-package session-redis -- --lib \
        --test conformance --test errors --test expiry --test index --test layout \
        --test processes --test hostile_input --test cluster ;;
postgres)
    set -- -f session-postgres/src/record_store.rs "$@" --test-package session-postgres \
        -- --lib --test conformance --test errors --test principal_index --test processes \
        --test schema --test fault --test pool ;;
files-store)
    set -- -f session-files/src/native/record_store.rs "$@" --test-package session-files \
        -- --lib --test conformance --test principal_index --test processes ;;
core)
    set -- -f 'session-core/src/**' "$@" "${core_tests[@]}" ;;
files)
    set -- "$@" "${core_tests[@]}" ;;
*)
    echo "unknown scope $scope: index, cas, cookie, sqlite, redis, postgres, files-store, core or files" >&2
    exit 2 ;;
esac
# cargo-mutants takes its own options before `--` and cargo test's after it.
options=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do options+=("$1"); shift; done
exec cargo mutants "${options[@]}" --timeout 300 -o "${MUTANTS_OUT:-target/mutants}" "$@"
