#!/usr/bin/env bash
# Mutation testing (cargo-mutants) of the code the conformance kit and the core's own tests
# must guard. Not part of CI's default run: on 2 cores one file takes minutes, the whole
# core an hour or more.
#
#   scripts/mutants.sh                                   # the per-user index (default scope)
#   scripts/mutants.sh -f session-core/src/store/server_side/save.rs   # any files
#
# Equivalent mutants are excluded in .cargo/mutants.toml, each with its reason.
# Doc tests are left out (`--lib --tests`): a mutant only a doc example catches counts as
# missed, so what guards behaviour is a test.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-mutants >/dev/null || cargo install cargo-mutants --locked --version 27.1.0
if [ $# -eq 0 ]; then
    set -- -f session-core/src/store/server_side/index.rs \
        -f session-core/src/session/index.rs \
        -f session-core/src/session/principal.rs
fi
exec cargo mutants "$@" --test-package session-core,session-conformance \
    --timeout 180 -o "${MUTANTS_OUT:-target/mutants}" -- --lib --tests
