//! Turns on the PostgreSQL half of the integration suite when PostgreSQL is
//! here; without it those tests are compiled as `#[ignore]` with the reason,
//! so `cargo test` counts them as ignored instead of passing silently. How it
//! is found: `signet-service/src/test_tools.rs`.
include!("../signet-service/src/test_tools.rs");

fn main() {
    rerun_on_tool_variables();
    emit_cfg("signet_postgres", postgres_available());
    emit_cfg("signet_openapi_validator", openapi_validator().is_some());
}
