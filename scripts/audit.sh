#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (policy in deny.toml):
#   licenses  every dependency under a permissive license
#   bans      no wildcard versions; duplicate versions reported
#   sources   crates from crates.io only, no git dependencies
#   advisories  no known vulnerability (RustSec), except those listed in
#             deny.toml with the reason they do not apply
# and with cargo-machete: no dependency a crate declares but never uses.
# The first three work offline; advisories needs the RustSec database from
# github.com. Where it cannot be fetched, the script says so and fails: a
# check that could not run is not a pass.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deny --version >/dev/null 2>&1; then
    echo "== installing cargo-deny"
    cargo install cargo-deny --locked
fi

if ! cargo machete --version >/dev/null 2>&1; then
    echo "== installing cargo-machete"
    cargo install cargo-machete --locked
fi
echo "== unused dependencies"
cargo machete

echo "== licenses, bans, sources"
cargo deny --all-features check licenses bans sources

echo "== advisories (RustSec database)"
if ! cargo deny --all-features check advisories; then
    if ! git ls-remote --exit-code https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
        echo "!! the RustSec advisory database (github.com/rustsec/advisory-db) is unreachable from here;" >&2
        echo "!! advisories were NOT checked. Run this script where github.com is reachable." >&2
    fi
    exit 1
fi
