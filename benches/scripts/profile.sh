#!/usr/bin/env bash
# Counts the instructions one server variant spends on a fixed number of requests, with
# callgrind (instruction counts do not depend on what else the machine is doing).
#
# usage: benches/scripts/profile.sh VARIANT ROUTE [REQUESTS] [CONNECTIONS]
#   VARIANT: none, ts-memory, ours-memory, ... (see `session-bench --help`)
#   ROUTE:   show | counter
# Writes callgrind/callgrind.VARIANT.ROUTE.out under cargo's target dir and prints the top
# functions (inclusive); open the file with callgrind_annotate or kcachegrind for more.
set -euo pipefail
variant=${1:?variant}
route=${2:?route (show|counter)}
requests=${3:-20000}
connections=${4:-32}
source "$(dirname "$0")/serve.sh"
mkdir -p "$target/callgrind"
out=$target/callgrind/callgrind.$variant.$route.out
start_server "$variant" valgrind --tool=callgrind --callgrind-out-file="$out"
"$bin" drive --addr "$addr" --route "$route" --requests "$requests" \
    --connections "$connections" "${no_cookie[@]}"
stop_server
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "total instructions: $total (startup included) for $requests requests"
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | sed -n '1,/^-- Auto/p' | head -70
