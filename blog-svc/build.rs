//! Turns on the PostgreSQL half of the integration suite when `TEST_DATABASE_URL`
//! is set, and the real-nginx gateway test when `NGINX_BIN` is, and the real-browser
//! tests when `CHROMEDRIVER_BIN` is; without them
//! those tests are compiled as `#[ignore]` with the reason, so `cargo test`
//! counts them as ignored instead of passing silently.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(signet_postgres)");
    println!("cargo::rustc-check-cfg=cfg(signet_nginx)");
    println!("cargo::rustc-check-cfg=cfg(signet_browser)");
    println!("cargo::rerun-if-env-changed=CHROMEDRIVER_BIN");
    println!("cargo::rerun-if-env-changed=TEST_DATABASE_URL");
    println!("cargo::rerun-if-env-changed=NGINX_BIN");
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=signet_postgres");
    }
    if std::env::var("NGINX_BIN").is_ok_and(|bin| !bin.trim().is_empty()) {
        println!("cargo::rustc-cfg=signet_nginx");
    }
    if std::env::var("CHROMEDRIVER_BIN").is_ok_and(|bin| !bin.trim().is_empty()) {
        println!("cargo::rustc-cfg=signet_browser");
    }
}
