#!/usr/bin/env bash
# Regenerate docs/screenshots/*.png from the real-browser page tests
# (auth-server/tests/api/pages_browser.rs): they save a PNG of each page they
# check when SCREENSHOT_DIR is set. Needs what those tests need: Chromium,
# chromedriver and axe-core (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
shots=$(mktemp -d)
trap 'rm -rf "$shots"' EXIT
SCREENSHOT_DIR="$shots" cargo test -p auth-server --test api --locked -- --exact \
    pages_browser::chromium_finds_every_page_accessible_narrow_and_dark \
    pages_browser::chromium_speaks_german_through_a_sign_in_asked_for_with_ui_locales_de \
    pages_browser::chromium_finds_the_two_step_pages_accessible_narrow_and_dark
for page in signin account consent console-users console-audit console-api-key-made \
    console-client console-keys de-authorize-signin de-account security security-on \
    recovery-codes second-factor signin-passkey device-consent; do
    for theme in light dark 320; do
        cp "$shots/$page-$theme.png" "docs/screenshots/$page-$theme.png"
    done
done
ls -l docs/screenshots
