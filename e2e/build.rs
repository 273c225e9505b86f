//! Turns on the tests that need a server this machine may not have, so that
//! without it they are compiled as `#[ignore]` with the reason and counted as
//! ignored, never passed silently:
//! - `TEST_DATABASE_URL`: a PostgreSQL server to create test databases on;
//! - `NGINX_BIN`: Debian's nginx, for the load-balancer test;
//! - `PG_BIN_DIR`: PostgreSQL's server binaries (initdb, pg_ctl), for the test
//!   that stops and restarts a private PostgreSQL instance.
fn main() {
    for (variable, cfg) in [
        ("TEST_DATABASE_URL", "signet_postgres"),
        ("NGINX_BIN", "signet_nginx"),
        ("PG_BIN_DIR", "signet_pg_bin"),
    ] {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        println!("cargo::rerun-if-env-changed={variable}");
        if std::env::var(variable).is_ok_and(|value| !value.trim().is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
