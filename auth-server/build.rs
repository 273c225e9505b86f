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
    list_locales();
}

/// The languages of `locales/` (one folder each, holding `main.ftl`), as
/// `LOCALES` in `$OUT_DIR/locales.rs`: the configuration checks
/// `DEFAULT_LOCALE` against it without importing the catalogues.
fn list_locales() {
    println!("cargo::rerun-if-changed=locales");
    let mut locales: Vec<String> = std::fs::read_dir("locales")
        .expect("auth-server/locales")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            path.join("main.ftl").is_file().then(|| {
                println!(
                    "cargo::rerun-if-changed={}",
                    path.join("main.ftl").display()
                );
                path.file_name()?.to_str().map(str::to_owned)
            })?
        })
        .collect();
    locales.sort();
    let out = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("locales.rs");
    std::fs::write(
        out,
        format!("/// The languages with a catalogue in `auth-server/locales/`.\npub const LOCALES: &[&str] = &{locales:?};\n"),
    )
    .expect("write locales.rs");
}
