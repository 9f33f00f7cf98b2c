#!/usr/bin/env bash
# Runs the whole suite (scripts/test.sh) again and again on one commit, to find the tests
# that fail only now and then. Not part of CI: the load is yours to add beside it
# (`stress-ng --cpu 2`, a parallel build, `scripts/mutants.sh ...`).
#
#   scripts/loaded.sh            # 20 runs of HEAD
#   scripts/loaded.sh 5 efc02a2  # 5 runs of a given commit
#
# The commit is cloned into its own directory with its own target dir, so you can go on
# working (and building) in this checkout meanwhile. Stops at the first failing run and
# keeps its log; the summary has one line per run, with its duration.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
rev=$(git rev-parse --short "${2:-HEAD}")
work=${LOADED_DIR:-$HOME/.cache/rust-sessions/loaded}
clone=$work/$rev
summary=$work/$rev.summary
mkdir -p "$work"
[ -d "$clone" ] || git clone -q "$PWD" "$clone"
git -C "$clone" checkout -q --detach "$rev"
export CARGO_TARGET_DIR=$work/target
echo "building $rev into $CARGO_TARGET_DIR" >&2
bash "$clone/scripts/test.sh" --no-run >"$work/$rev.build.log" 2>&1

: >"$summary"
for run in $(seq 1 "$runs"); do
    log=$work/$rev.run$run.log
    start=$(date +%s)
    if bash "$clone/scripts/test.sh" >"$log" 2>&1; then verdict=passed; else verdict=FAILED; fi
    passed=$(grep -o '[0-9]* passed' "$log" | awk '{n += $1} END {print n + 0}')
    line="run $run/$runs: $verdict, $passed tests passed, $(($(date +%s) - start)) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "$line" | tee -a "$summary"
    if [ "$verdict" = FAILED ]; then
        echo "the failing run's log: $log" | tee -a "$summary"
        exit 1
    fi
done
echo "$runs runs of $rev in a row passed" | tee -a "$summary"
