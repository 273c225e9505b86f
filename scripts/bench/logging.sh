#!/usr/bin/env bash
# What request logging costs: JWKS requests per second from one release
# auth-server on one core, with logs at warn (request spans off), at the
# default info (a span with the request id around every request), and at
# info with ACCESS_LOG=true (one more line per request), each measured in the
# same run and given as a ratio to the first. JSON logs go to a file, as in
# production. Needs a release build (`cargo build --release -p auth-server`).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/release/auth-server
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

rps_of() {
    local port=$1; shift
    env DATABASE_URL="sqlite://$work/auth-$port.db" KEYS_DIR="$work/keys" LOG_FORMAT=json \
        BIND_ADDR=127.0.0.1:$port METRICS_ADDR=127.0.0.1:0 "$@" \
        taskset -c "${BENCH_SERVER_CPU:-0}" "$bin" serve >"$work/auth-$port.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    taskset -c "${BENCH_LOAD_CPU:-1}" wrk -t1 -c"$connections" -d"$duration" "http://127.0.0.1:$port/.well-known/jwks.json" \
        | awk '/^Requests\/sec/ {print $2}'
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

KEYS_DIR="$work/keys" "$bin" keys generate >/dev/null
off=$(rps_of 18180 RUST_LOG=warn)
spans=$(rps_of 18181)
access=$(rps_of 18182 ACCESS_LOG=true)
python3 - "$off" "$spans" "$access" <<'PY'
import sys
off, spans, access = map(float, sys.argv[1:])
print(f"JWKS req/s  RUST_LOG=warn: {off:.0f}  default (info spans): {spans:.0f} ({spans/off:.2f}x)  +ACCESS_LOG: {access:.0f} ({access/off:.2f}x)")
PY
