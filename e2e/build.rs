//! Turns on the tests that need a server this machine may not have, so that
//! without it they are compiled as `#[ignore]` with the reason and counted as
//! ignored, never passed silently: PostgreSQL (a server to create test
//! databases on), nginx (the load-balancer test), and PostgreSQL's server
//! binaries (the tests that stop and restart a private instance), and a
//! Kubernetes schema validator (the manifests' test). How each is
//! found: `signet-service/src/test_tools.rs`.
include!("../signet-service/src/test_tools.rs");

fn main() {
    rerun_on_tool_variables();
    emit_cfg("signet_postgres", postgres_available());
    emit_cfg("signet_nginx", nginx_bin().is_some());
    emit_cfg("signet_pg_bin", postgres_bin_dir().is_some());
    emit_cfg(
        "signet_kubernetes_validate",
        kubernetes_validate().is_some(),
    );
}
