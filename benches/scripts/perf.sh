#!/usr/bin/env bash
# Samples where one server variant spends its time (kernel included) with `perf`, under the
# same pinning as the benchmark: the server (and any threads it starts, such as sqlx's
# SQLite workers) on core 0, the load generator on core 1.
#
# usage: benches/scripts/perf.sh VARIANT ROUTE [REQUESTS]
#   VARIANT: none, ts-memory, ours-memory, ... (see `session-bench --help`)
#   ROUTE:   show | counter
# Writes perf/perf.VARIANT.ROUTE.data under cargo's target dir and prints the split by
# thread and object, then the top symbols. Needs `perf` (linux-perf) and permission to
# sample (perf_event_paranoid <= 1, or root).
set -euo pipefail
variant=${1:?variant}
route=${2:?route (show|counter)}
requests=${3:-300000}
source "$(dirname "$0")/serve.sh"
mkdir -p "$target/perf"
out=$target/perf/perf.$variant.$route.data
start_server "$variant" taskset -c 0
# Warm up (logins, caches) before sampling.
taskset -c 1 "$bin" drive --addr "$addr" --route "$route" --requests 20000 \
    --connections 32 "${no_cookie[@]}" >/dev/null
perf record -F 4999 -g -p "$server" -o "$out" 2>/dev/null &
perf=$!
sleep 0.5
taskset -c 1 "$bin" drive --addr "$addr" --route "$route" --requests "$requests" \
    --connections 32 "${no_cookie[@]}"
kill -INT "$perf"
wait "$perf" || true
stop_server
perf report -i "$out" --no-children --sort comm,dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -8
perf report -i "$out" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -30
