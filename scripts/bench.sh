#!/usr/bin/env bash
# Measure the stack on this machine and write docs/BENCHMARKS.md.
# Every figure is reported next to a baseline measured in the same run
# (openssl speed for RSA, raw Argon2id for logins, the unprotected route for
# the jwt-verify layer). Servers run on one core, the load generator on the
# other. Loopback only. Reports, never asserts.
#   BENCH_DURATION (10s)  BENCH_CONNECTIONS (32)  BENCH_SERVER_CPU (0)  BENCH_LOAD_CPU (1)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-32}
server_cpu=${BENCH_SERVER_CPU:-0}
load_cpu=${BENCH_LOAD_CPU:-1}

if ! command -v wrk >/dev/null 2>&1; then
    echo "== installing wrk"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
fi
for tool in openssl taskset curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench.sh needs $tool" >&2; exit 1; }
done

echo "== building release binaries"
cargo build --release --bins -p auth-server -p blog-svc -p scraper-svc
cargo build --release -p jwt-verify --example bench_server
cargo build --release -p signet-e2e --example revocation_propagation
bin=target/release

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

on_server() { taskset -c "$server_cpu" "$@"; }
on_load() { taskset -c "$load_cpu" "$@"; }

wait_ready() {
    for _ in $(seq 1 150); do
        curl -fsS "$1" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "not ready: $1" >&2
    exit 1
}

# wrk with --latency; sets rps, p50, p99 (milliseconds).
run_wrk() {
    local out
    out=$(on_load wrk --latency -t1 -c"${WRK_CONNECTIONS:-$connections}" -d"${WRK_DURATION:-$duration}" "$@" 2>&1)
    read -r rps p50 p99 < <(python3 - "$out" <<'PY'
import re, sys
text = sys.argv[1]
def ms(value):
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", text, re.M))
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if non2xx:
    print(f"warning: {non2xx.group(1)} non-2xx responses", file=sys.stderr)
print(f"{rps:.0f} {ms(lat['50']):.2f} {ms(lat['99']):.2f}")
PY
)
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
peak_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
mib() { python3 -c "print(f'{$1/1024:.1f}')"; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

for port in 18080 18081 18082 18090 18091 18092; do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        echo "port $port is already in use on 127.0.0.1; stop what runs there first" >&2
        exit 1
    fi
done

echo "== baselines"
read -r sign_per_s verify_per_s < <(on_server openssl speed -seconds 3 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $6, $7}')
echo "openssl rsa2048 (1 core): sign/s=$sign_per_s verify/s=$verify_per_s"

export DATABASE_URL="sqlite://$work/auth.db?mode=rwc" KEYS_DIR="$work/keys" LOG_FORMAT=json RUST_LOG=warn \
    RATE_LIMIT_LOGIN_PER_IP=100000000/1s RATE_LIMIT_SIGNUP_PER_IP=100000000/1s RATE_LIMIT_TOKEN_PER_IP=100000000/1s \
    BIND_ADDR=127.0.0.1:18080 JWT_ISSUER=http://127.0.0.1:18080 PASSWORD_HASH_CONCURRENCY=1
argon2_per_s=$(on_server "$bin/auth-server" bench-hash --seconds 3)
echo "argon2id m=19456 t=2 p=1 (1 core): hashes/s=$argon2_per_s"

echo "== starting the stack on core $server_cpu"
# taskset execs the server, so $! is the server's own pid (for RSS and cleanup).
taskset -c "$server_cpu" "$bin/auth-server" serve >"$work/auth.log" 2>&1 & auth_pid=$!; pids+=("$auth_pid")
wait_ready http://127.0.0.1:18080/readyz
sleep 1
idle_auth=$(rss_kib "$auth_pid")
password="correct horse battery staple"
curl -fsS -X POST http://127.0.0.1:18080/api/v1/users -H 'content-type: application/json' \
    -d "{\"email\":\"bench@example.com\",\"password\":\"$password\"}" >/dev/null
login_body="{\"email\":\"bench@example.com\",\"password\":\"$password\"}"
token=$(curl -fsS -X POST http://127.0.0.1:18080/api/v1/auth/login -H 'content-type: application/json' -d "$login_body" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
api_key=$("$bin/auth-server" api-keys create --name bench --scopes posts:write 2>/dev/null)
client_id=$(printf %s "$api_key" | cut -d_ -f1-2)
basic=$(printf '%s:%s' "$client_id" "$api_key" | base64 -w0)

AUTH_ISSUER=http://127.0.0.1:18080 BIND_ADDR=127.0.0.1:18090 taskset -c "$server_cpu" "$bin/examples/bench_server" >"$work/bench.log" 2>&1 &
bench_pid=$!; pids+=("$bench_pid")
TOKEN_CACHE=10000 AUTH_ISSUER=http://127.0.0.1:18080 BIND_ADDR=127.0.0.1:18091 taskset -c "$server_cpu" "$bin/examples/bench_server" >"$work/bench-cached.log" 2>&1 &
pids+=("$!")
DENY_SET_SIZE=100000 RUST_LOG=error AUTH_ISSUER=http://127.0.0.1:18080 BIND_ADDR=127.0.0.1:18092 taskset -c "$server_cpu" "$bin/examples/bench_server" >"$work/bench-deny.log" 2>&1 &
pids+=("$!")
wait_ready http://127.0.0.1:18090/open
wait_ready http://127.0.0.1:18091/open
wait_ready http://127.0.0.1:18092/open
env -u DATABASE_URL BIND_ADDR=127.0.0.1:18081 DATABASE_URL="sqlite://$work/blog.db?mode=rwc" AUTH_ISSUER=http://127.0.0.1:18080 \
    taskset -c "$server_cpu" "$bin/blog-svc" serve >"$work/blog.log" 2>&1 & blog_pid=$!; pids+=("$blog_pid")
env -u DATABASE_URL BIND_ADDR=127.0.0.1:18082 DATABASE_URL="sqlite://$work/scraper.db?mode=rwc" AUTH_ISSUER=http://127.0.0.1:18080 \
    BLOG_URL=http://127.0.0.1:18081 SCRAPER_API_KEY="$api_key" SCRAPE_INTERVAL=0 \
    taskset -c "$server_cpu" "$bin/scraper-svc" >"$work/scraper.log" 2>&1 & scraper_pid=$!; pids+=("$scraper_pid")
wait_ready http://127.0.0.1:18081/readyz
wait_ready http://127.0.0.1:18082/readyz
sleep 1
idle_blog=$(rss_kib "$blog_pid"); idle_scraper=$(rss_kib "$scraper_pid"); idle_bench=$(rss_kib "$bench_pid")

echo "== 1. protected vs unprotected route (jwt-verify layer)"
run_wrk http://127.0.0.1:18090/open; open_rps=$rps; open_p50=$p50; open_p99=$p99
run_wrk -H "Authorization: Bearer $token" http://127.0.0.1:18090/protected; prot_rps=$rps; prot_p50=$p50; prot_p99=$p99
run_wrk -H "Authorization: Bearer $token" http://127.0.0.1:18091/protected; cached_rps=$rps; cached_p50=$p50; cached_p99=$p99
run_wrk -H "Authorization: Bearer $token" http://127.0.0.1:18092/protected; deny_rps=$rps; deny_p50=$p50; deny_p99=$p99
echo "open $open_rps req/s, protected $prot_rps req/s, protected with token cache $cached_rps req/s, with 100k revocations $deny_rps req/s"

echo "== 2. client_credentials issuance"
BENCH_BASIC=$basic run_wrk -s scripts/bench/token.lua http://127.0.0.1:18080/oauth/token
token_rps=$rps; token_p50=$p50; token_p99=$p99
echo "tokens $token_rps /s"

echo "== 3. password login"
BENCH_LOGIN_BODY=$login_body WRK_CONNECTIONS=8 run_wrk -s scripts/bench/login.lua http://127.0.0.1:18080/api/v1/auth/login
login_rps=$rps; login_p50=$p50; login_p99=$p99
echo "logins $login_rps /s"

echo "== 4. JWKS and forward-auth"
run_wrk http://127.0.0.1:18080/.well-known/jwks.json; jwks_rps=$rps; jwks_p99=$p99
run_wrk -H "Authorization: Bearer $token" http://127.0.0.1:18080/api/v1/auth/verify; verify_rps=$rps; verify_p50=$p50; verify_p99=$p99

echo "== 5. responsiveness under a login flood"
WRK_CONNECTIONS=4 run_wrk -H "Authorization: Bearer $token" http://127.0.0.1:18080/api/v1/auth/verify; calm_verify_p99=$p99
BENCH_BASIC=$basic WRK_CONNECTIONS=4 run_wrk -s scripts/bench/token.lua http://127.0.0.1:18080/oauth/token; calm_token_p99=$p99
flood_seconds=$(( ${duration%s} * 2 + 4 ))
BENCH_LOGIN_BODY=$login_body on_load wrk -t1 -c32 -d"${flood_seconds}s" -s scripts/bench/login.lua \
    http://127.0.0.1:18080/api/v1/auth/login >"$work/flood.log" 2>&1 & flood_pid=$!
sleep 2
WRK_CONNECTIONS=4 run_wrk -H "Authorization: Bearer $token" http://127.0.0.1:18080/api/v1/auth/verify; flood_verify_p99=$p99
BENCH_BASIC=$basic WRK_CONNECTIONS=4 run_wrk -s scripts/bench/token.lua http://127.0.0.1:18080/oauth/token; flood_token_p99=$p99
wait "$flood_pid" || true

peak_auth=$(peak_kib "$auth_pid"); peak_bench=$(peak_kib "$bench_pid")

echo "== 6. revocation propagation (its own auth-server and blog-svc, following the feed)"
revocation=$("$bin/examples/revocation_propagation" "${BENCH_REVOCATIONS:-200}" 4)
read -r rev_p50 rev_p90 rev_p99 rev_max rev_rps < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(*(round(r[k], 1) for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms", "verified_requests_per_second")))
' "$revocation")
echo "revocation → 401: p50 $rev_p50 ms, p99 $rev_p99 ms"

echo "== 7. DPoP-bound verification vs bearer, and the deny set, in-process (criterion)"
read -r ec_sign_per_s ec_verify_per_s < <(on_server openssl speed -seconds 3 ecdsap256 2>/dev/null | awk '/256 bits ecdsa \(nistp256\)/ {print $7, $8}')
criterion=$(taskset -c "$server_cpu" cargo bench -q -p jwt-verify --bench verify -- --output-format bencher 'revocation|dpop' 2>/dev/null | grep '^test ')
ns() { printf '%s\n' "$criterion" | awk -v name="$1" '$2 == name {print $5}'; }
bearer_ns=$(ns dpop/bearer); dpop_ns=$(ns dpop/dpop_bound_with_proof)
off_ns=$(ns revocation/feed_off); on_ns=$(ns revocation/feed_on_100k)
off_hit_ns=$(ns revocation/feed_off_cache_hit); on_hit_ns=$(ns revocation/feed_on_100k_cache_hit)
us() { python3 -c "print(round($1 / 1000, 1))"; }
echo "bearer $bearer_ns ns, DPoP $dpop_ns ns; deny set off/on $off_ns/$on_ns ns, cache hit $off_hit_ns/$on_hit_ns ns"

echo "== 8. two-step sign-in: each step against the password login (its own auth-server on SQLite)"
read -r mfa_pw mfa_first mfa_second < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print(r["password_login_ms"], r["password_step_ms"], r["recovery_code_step_ms"])
' "$(taskset -c "$server_cpu" python3 scripts/mfa_bench.py "$bin/auth-server")")
echo "password login $mfa_pw ms; with a factor: password step $mfa_first ms, recovery-code step $mfa_second ms"

echo "== 9. protocol reach: document clients, PAR, the device grant, SSF (its own auth-server on SQLite)"
protocol=$(taskset -c "$server_cpu" python3 scripts/protocol_bench.py "$bin/auth-server")
pr() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$protocol" "$1"; }
echo "$protocol"

echo "== 10. scaling out: 1-3 replicas on PostgreSQL behind nginx, statements per request"
replicas=$(python3 scripts/replicas_bench.py "$bin/auth-server")
rp() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$replicas" "$1"; }
echo "$replicas"

date_utc=$(date -u +%Y-%m-%dT%H:%MZ)
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || rev="$rev with uncommitted changes"
mkdir -p docs
cat > docs/BENCHMARKS.md <<MD
# Benchmarks

Generated by \`scripts/bench.sh\` on $date_utc (commit $rev). Machine: $(nproc) cores ($cpu),
$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr). Release builds; every server pinned
to core $server_cpu, wrk (\`-t1 -c$connections -d$duration --latency\`) to core $load_cpu; loopback only.
Shared, noisy machines: compare the ratios, which are measured in the same run, not the absolute figures.

## Baselines (same run, one core)

| What | Figure |
|---|---|
| openssl speed rsa2048 sign | $sign_per_s /s |
| openssl speed rsa2048 verify | $verify_per_s /s |
| openssl speed ecdsap256 verify (a DPoP proof's signature) | $ec_verify_per_s /s |
| Argon2id m=19456 KiB, t=2, p=1, raw hashes | $argon2_per_s /s |

## Results

| # | What | req/s | p50 ms | p99 ms | Ratio | Target |
|---|---|---|---|---|---|---|
| 1 | unprotected route (bench_server \`/open\`) | $open_rps | $open_p50 | $open_p99 | 1.00 | |
| 1 | same route behind \`JwtAuthLayer\` (one RS256 verify per request) | $prot_rps | $prot_p50 | $prot_p99 | $(ratio "$prot_rps" "$open_rps") of unprotected | ≥ 0.70 |
| 1 | protected route vs openssl verify/s (the RSA floor) | | | | $(ratio "$prot_rps" "$verify_per_s") of openssl verify | |
| 1 | same, with jwt-verify's verified-token cache (wrk repeats one token) | $cached_rps | $cached_p50 | $cached_p99 | $(ratio "$cached_rps" "$open_rps") of unprotected | |
| 1 | protected route following a revocation feed, 100,000 revoked sessions in the deny set | $deny_rps | $deny_p50 | $deny_p99 | $(ratio "$deny_rps" "$prot_rps") of feed off | ≥ 0.95 |
| 2 | \`client_credentials\` issuance | $token_rps | $token_p50 | $token_p99 | $(ratio "$token_rps" "$sign_per_s") of openssl sign/s | ≥ 0.70 |
| 3 | password login (8 connections) | $login_rps | $login_p50 | $login_p99 | $(ratio "$login_rps" "$argon2_per_s") of raw Argon2id | ≥ 0.90 |
| 4 | \`GET /.well-known/jwks.json\` | $jwks_rps | | $jwks_p99 | | |
| 4 | \`GET /api/v1/auth/verify\` (forward-auth) | $verify_rps | $verify_p50 | $verify_p99 | $(ratio "$verify_rps" "$verify_per_s") of openssl verify | |
| 5 | forward-auth p99, calm → during a login flood | | | $calm_verify_p99 → $flood_verify_p99 | $(ratio "$flood_verify_p99" "$calm_verify_p99")× | ≤ 2× |
| 5 | token endpoint p99, calm → during a login flood | | | $calm_token_p99 → $flood_token_p99 | $(ratio "$flood_token_p99" "$calm_token_p99")× | ≤ 2× |
| 6 | revocation (RFC 7009) answered → first 401 at blog-svc, ${BENCH_REVOCATIONS:-200} revocations while it serves $rev_rps verified req/s (p90 $rev_p90, max $rev_max ms) | | $rev_p50 | $rev_p99 | vs the feed watcher's 100 ms tick | p99 < 1000 |

## In-process verification (criterion, one core, µs per verification)

| What | Feed off / Bearer | Feed on / DPoP | Ratio (throughput) | Target |
|---|---|---|---|---|
| full path, deny set of 100,000 revoked sessions | $(us "$off_ns") | $(us "$on_ns") | $(ratio "$off_ns" "$on_ns") | ≥ 0.95 |
| verified-token cache hit, same deny set | $(us "$off_hit_ns") | $(us "$on_hit_ns") | $(ratio "$off_hit_ns" "$on_hit_ns") | |
| DPoP-bound token with a fresh ES256 proof vs the same check as Bearer | $(us "$bearer_ns") | $(us "$dpop_ns") | $(ratio "$bearer_ns" "$dpop_ns") | |
| one P-256 verify (openssl, for scale) | | $(us "$(python3 -c "print(1e9 / $ec_verify_per_s)")") | | |

## Two-step sign-in (section 8, sequential requests, median ms)

| What | ms | Ratio to the password login |
|---|---|---|
| password login, account without a factor (baseline: Argon2id dominates) | $mfa_pw | 1 |
| password step, account with a factor (a challenge instead of a session) | $mfa_first | $(python3 -c "print(round($mfa_first / $mfa_pw, 2))") |
| second step with a recovery code (audit, mail queued, session) | $mfa_second | $(python3 -c "print(round($mfa_second / $mfa_pw, 2))") |

## Protocol reach (section 9, sequential requests, median of 50, ms)

| What | ms | Ratio to its baseline |
|---|---|---|
| sign-in page, registered client (baseline) | $(pr authorize_registered_ms) | 1 |
| sign-in page, client known by its metadata document (cached) | $(pr authorize_document_cached_ms) | $(pr authorize_document_ratio) |
| the same, the one uncached fetch (document on loopback) | $(pr document_first_fetch_ms) | |
| \`client_credentials\` token (baseline) | $(pr client_credentials_ms) | 1 |
| pushed authorization request | $(pr par_ms) | $(pr par_ratio) |
| device authorization | $(pr device_authorization_ms) | $(pr device_authorization_ratio) |
| device poll, pending | $(pr device_poll_pending_ms) | $(pr device_poll_ratio) |
| security-event feed read, nothing new (baseline) | $(pr feed_read_ms) | 1 |
| SSF poll, nothing new | $(pr ssf_poll_ms) | $(pr ssf_poll_ratio) |

## Scaling out (section 10, PostgreSQL, replicas behind nginx, servers on core $server_cpu)

| What | 1 replica | 2 replicas | 3 replicas |
|---|---|---|---|
| \`client_credentials\` tokens/s (32 connections) | $(rp tokens_1) | $(rp tokens_2) ($(rp tokens_2_ratio)) | $(rp tokens_3) ($(rp tokens_3_ratio)) |
| forward-auth req/s (32 connections) | $(rp verify_1) | $(rp verify_2) ($(rp verify_2_ratio)) | $(rp verify_3) ($(rp verify_3_ratio)) |
| password logins/s (8 connections) | $(rp logins_1) | $(rp logins_2) ($(rp logins_2_ratio)) | $(rp logins_3) ($(rp logins_3_ratio)) |
| one replica straight, shared limits against \`RATE_LIMIT_SHARED=false\`: tokens/s, logins/s | $(rp tokens_shared) vs $(rp tokens_unshared) ($(rp tokens_shared_ratio)); $(rp logins_shared) vs $(rp logins_unshared) ($(rp logins_shared_ratio)) | | |
| PostgreSQL's share of the CPU during the token run | $(rp tokens_1_postgres_cpu_share) | $(rp tokens_2_postgres_cpu_share) | $(rp tokens_3_postgres_cpu_share) |

Statements sent to PostgreSQL per request (one round trip each): login
$(rp statements_per_login), refresh $(rp statements_per_refresh), \`client_credentials\`
$(rp statements_per_client_credentials), forward-auth $(rp statements_per_forward_auth); an idle
replica sends $(rp idle_statements_per_second_per_replica) a second. One of three replicas killed (SIGKILL) 2 s into
a 5 s wrk run through the balancer: forward-auth $(rp killed_verify_failed) failed of $(rp killed_verify_requests),
\`client_credentials\` $(rp killed_tokens_failed) failed of $(rp killed_tokens_requests). A logout on one replica until
forward-auth refuses the token: on another replica p50 $(rp cross_replica_logout_p50_ms) ms (max $(rp cross_replica_logout_max_ms)),
on the same replica p50 $(rp same_replica_logout_p50_ms) ms (max $(rp same_replica_logout_max_ms)).

## Memory (RSS)

| Service | Idle MiB | Peak MiB (after the load above) | Target |
|---|---|---|---|
| auth-server (idle: started, before any request) | $(mib "$idle_auth") | $(mib "$peak_auth") | < 50 idle |
| blog-svc | $(mib "$idle_blog") | | < 50 idle |
| scraper-svc | $(mib "$idle_scraper") | | < 50 idle |
| bench_server (jwt-verify layer) | $(mib "$idle_bench") | $(mib "$peak_bench") | |

Section 6 starts its own auth-server and blog-svc (unpinned): blog-svc
follows the security-event feed; each round signs in, revokes that session's
access token, and polls blog-svc every millisecond until it answers 401.

Section 5 runs a 32-connection login flood (which saturates the Argon2 pool on
the server's one core) while 4-connection probes measure the p99 of
forward-auth and of the token endpoint.
MD
# The interpretation is written by hand and kept beside the script's output.
if [ -f docs/benchmark-notes.md ]; then
    { echo; cat docs/benchmark-notes.md; } >> docs/BENCHMARKS.md
fi
echo "== wrote docs/BENCHMARKS.md"
cat docs/BENCHMARKS.md
