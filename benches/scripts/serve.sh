# Sourced by profile.sh and perf.sh: builds the bench if needed and starts one variant's
# server under a launcher (valgrind, taskset...), the way both profilers need it.
#
#   source "$(dirname "$0")/serve.sh"
#   start_server VARIANT LAUNCHER...   # sets $bin, $target, $server, $addr, $no_cookie
#   ...drive it...
#   stop_server

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Cargo's target dir, wherever CARGO_TARGET_DIR puts it (the project keeps it outside the
# clone).
target=${CARGO_TARGET_DIR:-$root/target}
bin=$target/release/session-bench
[ -x "$bin" ] || cargo build --release -p session-bench --manifest-path "$root/Cargo.toml"

start_server() {
    local variant=$1
    shift
    serve_dir=$(mktemp -d)
    trap 'rm -rf "$serve_dir"' EXIT
    mkfifo "$serve_dir/stdin"
    "$@" "$bin" serve --variant "$variant" --data-dir "$serve_dir" <"$serve_dir/stdin" \
        >"$serve_dir/stdout" 2>"$serve_dir/stderr" &
    server=$!
    exec 3>"$serve_dir/stdin" # held open: the server stops when it closes
    # A minute: callgrind starts the server slowly.
    for _ in $(seq 600); do grep -q listening "$serve_dir/stdout" 2>/dev/null && break; sleep 0.1; done
    addr=$(awk '/listening/ {print $2}' "$serve_dir/stdout")
    [ -n "$addr" ] || { cat "$serve_dir/stderr"; exit 1; }
    no_cookie=()
    [ "$variant" = none ] && no_cookie=(--no-cookie)
    return 0
}

stop_server() {
    exec 3>&-
    wait "$server"
}
