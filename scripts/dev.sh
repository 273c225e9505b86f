#!/usr/bin/env bash
# Run the whole stack locally on SQLite:
#   auth-server :8080, blog-svc :8081, scraper-svc :8082.
# First run: generates a signing key, an admin (password stored in
# data/dev-admin.txt, mode 600), the scraper's API key (data/scraper.key) and
# registers the blog's web front end as an OpenID Connect client
# (data/blog-client.json and data/blog-client.secret), and an API key with
# events:read (data/events.key) with which blog-svc and scraper-svc follow
# revocations.
# It also serves a demo feed on 127.0.0.1:${FEED_PORT:-8090} (data/demo-feed/)
# for the scraper. SKIP_BUILD=1 skips the build (use what target/ holds).
# If a service cannot start (a port in use, a bad setting), the script stops
# everything and its error is the last thing printed.
# Ctrl-C stops all three cleanly. Development only: never use these files in production.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/demo-feed.sh
. scripts/lib/demo-feed.sh

profile=${PROFILE:-debug}
data=${SIGNET_DATA_DIR:-data}
auth_addr=${AUTH_ADDR:-127.0.0.1:8080}
blog_addr=${BLOG_ADDR:-127.0.0.1:8081}
scraper_addr=${SCRAPER_ADDR:-127.0.0.1:8082}
admin_email=${ADMIN_EMAIL:-admin@signet.local}
feed_port=${FEED_PORT:-8090}
# The demo feed this script serves (below), so the scraper's first run finds it.
sources=${SCRAPER_SOURCES:-http://127.0.0.1:$feed_port/feed.xml}

if [ "${SKIP_BUILD:-0}" = 1 ]; then
    echo "== SKIP_BUILD=1: using the binaries in target/$profile"
elif [ "$profile" = release ]; then
    echo "== building ($profile)"; cargo build --release --bins
else
    echo "== building ($profile)"; cargo build --bins
fi
bin=target/$profile
mkdir -p "$data"
umask 077

export KEYS_DIR=${KEYS_DIR:-keys}
if ! ls "$KEYS_DIR"/*.pem >/dev/null 2>&1; then
    echo "== generating a development signing key"
    "$bin/auth-server" keys generate
fi

# Password logins get posts:write too, so demo.sh's user can post.
auth_env=(BIND_ADDR="$auth_addr" DATABASE_URL="sqlite://$data/auth.db?mode=rwc" JWT_ISSUER="http://$auth_addr"
          USER_TOKEN_SCOPE="openid profile email posts:write")

if [ ! -s "$data/dev-admin.txt" ]; then
    password=$(openssl rand -base64 24)
    echo "== creating admin $admin_email"
    printf '%s\n' "$password" | env "${auth_env[@]}" "$bin/auth-server" users create-admin --email "$admin_email" --display-name Admin
    printf '%s\n%s\n' "$admin_email" "$password" > "$data/dev-admin.txt"
fi
if [ ! -s "$data/scraper.key" ]; then
    echo "== creating the scraper's API key"
    env "${auth_env[@]}" "$bin/auth-server" api-keys create --name scraper --scopes posts:write,posts:import --dpop required > "$data/scraper.key"
fi

if [ ! -s "$data/events.key" ]; then
    echo "== creating the services' security-event key (events:read)"
    env "${auth_env[@]}" "$bin/auth-server" api-keys create --name verifiers --scopes events:read > "$data/events.key"
fi
if [ ! -s "$data/blog-client.secret" ]; then
    echo "== registering the blog's web front end as an OIDC client"
    env "${auth_env[@]}" "$bin/auth-server" clients create --name Blog --first-party \
        --redirect-uri "http://$blog_addr/auth/callback" \
        --post-logout-redirect-uri "http://$blog_addr/" \
        --scopes "openid profile email offline_access posts:write" > "$data/blog-client.json"
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_secret"])' \
        "$data/blog-client.json" > "$data/blog-client.secret"
fi
blog_client_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_id"])' "$data/blog-client.json")

pids=()
stop() {
    trap - INT TERM EXIT
    echo; echo "== stopping"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

# Nothing may answer on a service's address before it starts: otherwise the
# readiness check below would reach that other process.
port_free() {
    if curl -sS -o /dev/null --max-time 1 "http://$1/" 2>/dev/null; then
        echo "error: $2 cannot start: something already listens on $1 (another dev.sh?). Stop it, or set ${3} to another address." >&2
        exit 1
    fi
}

# Ready means: the process we started is alive and answers /readyz. If it
# exits first, its own error line (on stderr above) says why; stop here.
wait_ready() {
    local addr=$1 name=$2 pid=$3
    for _ in $(seq 1 150); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "error: $name exited during start-up (its error is above); stopping." >&2
            exit 1
        fi
        curl -fsS "http://$addr/readyz" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "error: $name did not become ready on $addr within 30 s; stopping." >&2
    exit 1
}

# The demo feed, served from data/demo-feed/.
port_free "127.0.0.1:$feed_port" "the demo feed" FEED_PORT
write_demo_feed "$data/demo-feed" "$feed_port"
python3 -m http.server "$feed_port" --bind 127.0.0.1 --directory "$data/demo-feed" >/dev/null 2>&1 & pids+=($!)

port_free "$auth_addr" auth-server AUTH_ADDR
port_free "$blog_addr" blog-svc BLOG_ADDR
port_free "$scraper_addr" scraper-svc SCRAPER_ADDR
env "${auth_env[@]}" "$bin/auth-server" serve & pids+=($!)
wait_ready "$auth_addr" auth-server $!
env BIND_ADDR="$blog_addr" DATABASE_URL="sqlite://$data/blog.db?mode=rwc" AUTH_ISSUER="http://$auth_addr" \
    PUBLIC_URL="http://$blog_addr" OIDC_CLIENT_ID="$blog_client_id" OIDC_CLIENT_SECRET_FILE="$data/blog-client.secret" \
    AUTH_EVENTS_API_KEY_FILE="$data/events.key" \
    "$bin/blog-svc" serve & pids+=($!)
wait_ready "$blog_addr" blog-svc $!
env BIND_ADDR="$scraper_addr" DATABASE_URL="sqlite://$data/scraper.db?mode=rwc" AUTH_ISSUER="http://$auth_addr" \
    BLOG_URL="http://$blog_addr" SCRAPER_API_KEY="$(cat "$data/scraper.key")" SCRAPER_SOURCES="$sources" AUTH_DPOP=true \
    AUTH_EVENTS_API_KEY_FILE="$data/events.key" \
    SCRAPE_INTERVAL="${SCRAPE_INTERVAL:-15m}" "$bin/scraper-svc" & pids+=($!)
wait_ready "$scraper_addr" scraper-svc $!

cat <<INFO

== Signet is running
   Open http://$blog_addr/ in a browser: sign in (or create an account) through Signet's page, write a post.
   auth-server  http://$auth_addr   (JWKS: /.well-known/jwks.json, OpenAPI: /openapi.json)
   blog-svc     http://$blog_addr   (web pages; API: GET /api/v1/posts)
   scraper-svc  http://$scraper_addr   (POST /api/v1/scrape, admin)
   admin        $admin_email (password in $data/dev-admin.txt)
   Next: scripts/demo.sh in another terminal. Ctrl-C stops everything.
INFO
wait
