#!/usr/bin/env bash
# The README's test command. Runs the whole workspace's tests: unit, integration,
# end-to-end and doc tests. PostgreSQL tests run when TEST_DATABASE_URL is set
# (`.ci/run` sets it); otherwise they are reported as ignored, with the reason.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --workspace --all-features --locked "$@"
