#!/bin/sh
# First start of the compose PostgreSQL: one role and one database per
# service, each role owning only its own database and unable to connect to the
# others'. The superuser the entrypoint created (POSTGRES_USER) is for the
# operator, never for a service. Passwords come from the secret files named by
# SIGNET_<SERVICE>_DB_PASSWORD_FILE. Each service migrates its own schema.
set -eu

for service in auth blog scraper; do
    upper=$(printf %s "$service" | tr '[:lower:]' '[:upper:]')
    eval "password_file=\${SIGNET_${upper}_DB_PASSWORD_FILE:?}"
    password=$(cat "$password_file")
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -v role="signet_$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
# The operator's own database is not a place for services either.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" <<'SQL'
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
