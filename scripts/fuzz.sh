#!/usr/bin/env bash
# Bounded fuzzing of the token parser/verifier, JWKS parsing and auth-server's
# request bodies with cargo-fuzz (libFuzzer). Not part of the test command:
# run it before a release or after touching a parser.
#
#   ./scripts/fuzz.sh            # every target, 60 s each
#   ./scripts/fuzz.sh 300 token_parser signed_claims
#
# cargo-fuzz needs nightly compiler flags (-Zsanitizer=address); this machine
# has only the stable toolchain, so the script sets RUSTC_BOOTSTRAP=1, which lets
# stable rustc accept them. The exact command for one target is:
#
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz token_parser -- -max_total_time=60
#
# A crash leaves its input in fuzz/artifacts/<target>/; turn it into a
# regression test next to the code it broke, then fix the code.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then
    targets=(token_parser signed_claims jwks_parser auth_endpoints)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
# Seeds: a few shapes worth starting from (the fuzzer mutates them).
mkdir -p fuzz/corpus/token_parser fuzz/corpus/jwks_parser fuzz/corpus/auth_endpoints
printf '%s' 'eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiIxIn0.c2ln' > fuzz/corpus/token_parser/seed-rs256
printf '%s' 'eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.' > fuzz/corpus/token_parser/seed-none
printf '%s' '{"keys":[{"kty":"RSA","kid":"k","use":"sig","alg":"RS256","n":"sXch","e":"AQAB"}]}' > fuzz/corpus/jwks_parser/seed-jwks
printf '\000%s' '{"email":"a@example.com","password":"correct horse battery staple"}' > fuzz/corpus/auth_endpoints/seed-signup
printf '\002%s' 'grant_type=client_credentials&scope=posts%3Awrite' > fuzz/corpus/auth_endpoints/seed-token

status=0
for target in "${targets[@]}"; do
    echo "== fuzzing $target for ${seconds}s"
    if ! cargo fuzz run --fuzz-dir fuzz "$target" -- -max_total_time="$seconds" -rss_limit_mb=4096; then
        echo "!! $target found a crash: see fuzz/artifacts/$target/"
        status=1
    fi
done
exit $status
