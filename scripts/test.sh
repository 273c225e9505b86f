#!/usr/bin/env bash
# The README's test command. Runs the whole workspace's tests: unit,
# integration, end-to-end and doc tests. Tests that need a server this machine
# lacks (PostgreSQL, nginx, Chromium) are reported as ignored, with the reason;
# with PostgreSQL's server installed the suite starts a private cluster of its
# own (or uses TEST_DATABASE_URL when set). See the README's "The two commands".
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --workspace --all-features --locked "$@"
