//! Turns on the tests that need a server this machine may not have: the
//! PostgreSQL half of the integration suite, the check of the OpenAPI
//! document by openapi-spec-validator, and the real-browser page tests
//! (Chromium, chromedriver and axe-core). Without them those tests are compiled
//! as `#[ignore]` with the reason, so `cargo test` counts them as ignored
//! instead of passing silently. How each is found: `signet-service/src/test_tools.rs`.
include!("../signet-service/src/test_tools.rs");

fn main() {
    rerun_on_tool_variables();
    emit_cfg("signet_postgres", postgres_available());
    emit_cfg("signet_openapi_validator", openapi_validator().is_some());
    emit_cfg(
        "signet_browser",
        chromedriver_bin().is_some() && chromium_bin().is_some(),
    );
    emit_cfg("signet_axe", axe_core_js().is_some());
}
