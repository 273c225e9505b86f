//! Turns on the tests that need a server this machine may not have: the
//! PostgreSQL half of the integration suite, and the check of the OpenAPI
//! document by openapi-spec-validator. Without them those tests are compiled
//! as `#[ignore]` with the reason, so `cargo test` counts them as ignored
//! instead of passing silently. How each is found: `signet-service/src/test_tools.rs`.
include!("../signet-service/src/test_tools.rs");

/// The pages' stylesheet is served under a path with its content's hash
/// (FNV-1a 64), so browsers may keep it for a year: a changed file is a new
/// path. `SIGNET_CSS_VERSION` carries the hash to the crate.
fn stylesheet_version() {
    let css = std::fs::read("assets/signet.css").expect("assets/signet.css");
    let hash = css.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    println!("cargo::rerun-if-changed=assets/signet.css");
    println!("cargo::rustc-env=SIGNET_CSS_VERSION={:012x}", hash >> 16);
}

fn main() {
    stylesheet_version();
    rerun_on_tool_variables();
    emit_cfg("signet_postgres", postgres_available());
    emit_cfg("signet_openapi_validator", openapi_validator().is_some());
}
