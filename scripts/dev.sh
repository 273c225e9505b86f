#!/usr/bin/env bash
# Run the whole stack locally on SQLite:
#   auth-server :8080, blog-svc :8081, scraper-svc :8082.
# First run: generates a signing key, an admin (password stored in
# data/dev-admin.txt, mode 600), the scraper's API key (data/scraper.key) and
# registers the blog's web front end as an OpenID Connect client
# (data/blog-client.json and data/blog-client.secret), and an API key with
# events:read (data/events.key) with which blog-svc and scraper-svc follow
# revocations.
# Ctrl-C stops all three cleanly. Development only: never use these files in production.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${PROFILE:-debug}
data=${SIGNET_DATA_DIR:-data}
auth_addr=${AUTH_ADDR:-127.0.0.1:8080}
blog_addr=${BLOG_ADDR:-127.0.0.1:8081}
scraper_addr=${SCRAPER_ADDR:-127.0.0.1:8082}
admin_email=${ADMIN_EMAIL:-admin@signet.local}
# demo.sh serves this feed; without it, runs record the source as failed.
sources=${SCRAPER_SOURCES:-http://127.0.0.1:8090/feed.xml}

echo "== building ($profile)"
if [ "$profile" = release ]; then cargo build --release --bins; else cargo build --bins; fi
bin=target/$profile
mkdir -p "$data"
umask 077

export KEYS_DIR=${KEYS_DIR:-keys}
if ! ls "$KEYS_DIR"/*.pem >/dev/null 2>&1; then
    echo "== generating a development signing key"
    "$bin/auth-server" keys generate
fi

auth_env=(BIND_ADDR="$auth_addr" DATABASE_URL="sqlite://$data/auth.db?mode=rwc" JWT_ISSUER="http://$auth_addr")

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
        --scopes "openid profile email offline_access" > "$data/blog-client.json"
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

wait_ready() {
    for _ in $(seq 1 100); do
        curl -fsS "http://$1/readyz" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "$2 did not become ready" >&2
    return 1
}

env "${auth_env[@]}" "$bin/auth-server" serve & pids+=($!)
wait_ready "$auth_addr" auth-server
env BIND_ADDR="$blog_addr" DATABASE_URL="sqlite://$data/blog.db?mode=rwc" AUTH_ISSUER="http://$auth_addr" \
    PUBLIC_URL="http://$blog_addr" OIDC_CLIENT_ID="$blog_client_id" OIDC_CLIENT_SECRET_FILE="$data/blog-client.secret" \
    AUTH_EVENTS_API_KEY_FILE="$data/events.key" \
    "$bin/blog-svc" serve & pids+=($!)
wait_ready "$blog_addr" blog-svc
env BIND_ADDR="$scraper_addr" DATABASE_URL="sqlite://$data/scraper.db?mode=rwc" AUTH_ISSUER="http://$auth_addr" \
    BLOG_URL="http://$blog_addr" SCRAPER_API_KEY="$(cat "$data/scraper.key")" SCRAPER_SOURCES="$sources" AUTH_DPOP=true \
    AUTH_EVENTS_API_KEY_FILE="$data/events.key" \
    SCRAPE_INTERVAL="${SCRAPE_INTERVAL:-15m}" "$bin/scraper-svc" & pids+=($!)
wait_ready "$scraper_addr" scraper-svc

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
