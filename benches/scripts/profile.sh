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
root=$(cd "$(dirname "$0")/../.." && pwd)
# Cargo's target dir, wherever CARGO_TARGET_DIR puts it (the project keeps it outside the
# clone).
target=${CARGO_TARGET_DIR:-$root/target}
bin=$target/release/session-bench
[ -x "$bin" ] || cargo build --release -p session-bench --manifest-path "$root/Cargo.toml"
mkdir -p "$target/callgrind"
out=$target/callgrind/callgrind.$variant.$route.out
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkfifo "$dir/stdin"
valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" serve --variant "$variant" \
    --data-dir "$dir" <"$dir/stdin" >"$dir/stdout" 2>"$dir/valgrind.log" &
server=$!
exec 3>"$dir/stdin" # held open: the server stops when it closes
for _ in $(seq 600); do grep -q listening "$dir/stdout" 2>/dev/null && break; sleep 0.1; done
addr=$(awk '/listening/ {print $2}' "$dir/stdout")
[ -n "$addr" ] || { cat "$dir/valgrind.log"; exit 1; }
no_cookie=()
[ "$variant" = none ] && no_cookie=(--no-cookie)
"$bin" drive --addr "$addr" --route "$route" --requests "$requests" \
    --connections "$connections" "${no_cookie[@]}"
exec 3>&-
wait "$server"
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "total instructions: $total (startup included) for $requests requests"
callgrind_annotate --inclusive=yes "$out" 2>/dev/null | sed -n '1,/^-- Auto/p' | head -70
