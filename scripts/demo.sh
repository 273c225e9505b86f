#!/usr/bin/env bash
# Walk through Signet against a running stack (scripts/dev.sh):
# sign-up -> login -> write a post -> scraper run (against a feed this script
# serves on 127.0.0.1:8090) -> list posts. Prints every request and response.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/demo-feed.sh
. scripts/lib/demo-feed.sh

auth=http://${AUTH_ADDR:-127.0.0.1:8080}
blog=http://${BLOG_ADDR:-127.0.0.1:8081}
scraper=http://${SCRAPER_ADDR:-127.0.0.1:8082}
data=${SIGNET_DATA_DIR:-data}
feed_port=${FEED_PORT:-8090}

json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval("d"+sys.argv[1]))' "$1"; }
pretty() { python3 -m json.tool 2>/dev/null || cat; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; }

# The feed dev.sh serves for the scraper; served here from a temporary folder
# only when nothing answers on its port (a stack started some other way).
if curl -fsS -o /dev/null "http://127.0.0.1:$feed_port/feed.xml" 2>/dev/null; then
    feed_dir=
else
feed_dir=$(mktemp -d)
write_demo_feed "$feed_dir" "$feed_port"
python3 -m http.server "$feed_port" --bind 127.0.0.1 --directory "$feed_dir" >/dev/null 2>&1 &
feed_pid=$!
trap 'kill $feed_pid 2>/dev/null || true; rm -rf "$feed_dir"' EXIT
for _ in $(seq 1 25); do curl -fsS -o /dev/null "http://127.0.0.1:$feed_port/feed.xml" 2>/dev/null && break; sleep 0.2; done
fi

email="demo-$(date +%s)@example.com"
password="correct horse battery staple"

step "1. Sign up $email"
show "curl -X POST $auth/api/v1/users -d '{\"email\":\"$email\",\"password\":\"…\",\"display_name\":\"Demo\"}'"
curl -fsS -X POST "$auth/api/v1/users" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\",\"display_name\":\"Demo\"}" | pretty

step "2. Log in"
show "curl -X POST $auth/api/v1/auth/login -d '{\"email\":\"$email\",\"password\":\"…\"}'"
login=$(curl -fsS -X POST "$auth/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\"}")
# Live credentials are shown shortened, never whole (terminal scrollback and
# screen shares keep them).
echo "$login" | python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in ("access_token", "refresh_token", "id_token"):
    if k in d: d[k] = d[k][:12] + "… (shortened)"
print(json.dumps(d, indent=2, ensure_ascii=False))'
token=$(echo "$login" | json '["access_token"]')

step "3. Write a post on the blog (verified locally by blog-svc with the JWKS)"
show "curl -X POST $blog/api/v1/posts -H 'Authorization: Bearer …'"
curl -fsS -X POST "$blog/api/v1/posts" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"title":"Hello from the demo","body":"Written with a token the blog verified without calling the auth server."}' | pretty

step "4. Run the scraper (admin); it signs in with its API key and pushes the feed"
admin_email=$(sed -n 1p "$data/dev-admin.txt")
admin_password=$(sed -n 2p "$data/dev-admin.txt")
admin_token=$(curl -fsS -X POST "$auth/api/v1/auth/login" -u "$admin_email:$admin_password" | json '["access_token"]')
show "curl -X POST $scraper/api/v1/scrape -H 'Authorization: Bearer <admin>'"
curl -fsS -X POST "$scraper/api/v1/scrape" -H "authorization: Bearer $admin_token" | pretty

step "5. List the blog's posts (public)"
show "curl $blog/api/v1/posts"
curl -fsS "$blog/api/v1/posts?limit=10" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["items"]:
    author = p["author"] or {}
    origin = " from " + p["source_url"] if p["source_url"] else ""
    print("- %r by %s (%s)%s" % (p["title"], author.get("display_name"), author.get("kind"), origin))'

step "Done"
