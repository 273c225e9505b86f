#!/usr/bin/env bash
# Generate an RSA signing key with openssl (an alternative to
# `auth-server keys generate`). Writes PKCS#8 PEM, readable by the owner only.
#   scripts/gen-keys.sh [KEYS_DIR] [BITS]
set -euo pipefail
dir=${1:-${KEYS_DIR:-keys}}
bits=${2:-2048}
case "$bits" in 2048|3072|4096) ;; *) echo "BITS must be 2048, 3072 or 4096" >&2; exit 2 ;; esac
mkdir -p "$dir"
name="signet-$(date -u +%Y%m%dT%H%M%S.%3NZ).pem"
umask 077
openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$dir/$name" 2>/dev/null
echo "generated $dir/$name ($bits bits)"
echo "public key (for services given a static PEM):"
openssl pkey -in "$dir/$name" -pubout
