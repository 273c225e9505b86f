#!/usr/bin/env bash
# Make the secret files docker-compose.yml mounts, once, under ./secrets
# (git-ignored, mode 600). Existing files are kept: re-running never rotates a
# secret behind a running stack's back. See docs/OPERATIONS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077
mkdir -p secrets

write_once() { # name, command producing the value
    local file="secrets/$1"
    if [[ -s "$file" ]]; then
        echo "kept     $file"
    else
        eval "$2" > "$file"
        echo "created  $file"
    fi
}

# The superuser's password is for the operator; each service gets a role of
# its own that owns only its own database (deploy/postgres/init-roles.sh).
write_once postgres_password "openssl rand -hex 24"
write_once auth_db_password "openssl rand -hex 24"
write_once blog_db_password "openssl rand -hex 24"
write_once scraper_db_password "openssl rand -hex 24"
url() { # service
    echo "postgres://signet_$1:$(cat "secrets/$1_db_password")@postgres:5432/signet_$1"
}
write_once auth_database_url "url auth"
write_once blog_database_url "url blog"
write_once scraper_database_url "url scraper"
write_once key_encryption_key "openssl rand -base64 32"
write_once jwt_private_key "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 2>/dev/null"
# Minted by auth-server once it runs (docs/OPERATIONS.md); until then empty,
# and scraper-svc refuses to start with a message saying so.
[[ -e secrets/scraper_api_key ]] || : > secrets/scraper_api_key
chmod 600 secrets/*
echo "secrets are in ./secrets; next: docker compose up -d postgres auth-server"
