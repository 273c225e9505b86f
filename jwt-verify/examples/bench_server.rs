//! Two identical routes, one behind `JwtAuthLayer`, for measuring what the
//! layer costs (used by `scripts/bench.sh`).
//!
//! `AUTH_ISSUER`, `AUTH_JWKS_URL`, `AUTH_AUDIENCE`, `BIND_ADDR`,
//! `TOKEN_CACHE` (capacity of the verified-token cache; 0 = off, the
//! default), and `DENY_SET_SIZE`: with N > 0 the verifier follows a
//! revocation feed whose deny set holds N revoked sessions (loaded directly;
//! the feed URL is a closed loopback port, so it stays as loaded), to measure
//! what a full deny set costs the route.

use axum::routing::get;
use axum::Router;
use jwt_verify::{JwtAuthLayer, KeySource, Validation, Verifier};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

async fn hello() -> &'static str {
    "ok"
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = env("AUTH_ISSUER", "http://127.0.0.1:8080");
    let verifier = Verifier::builder(
        KeySource::jwks(env(
            "AUTH_JWKS_URL",
            &format!("{issuer}/.well-known/jwks.json"),
        )),
        Validation::new(issuer)
            .audience(env("AUTH_AUDIENCE", "signet"))
            .require_type("at+jwt"),
    )
    .token_cache(env("TOKEN_CACHE", "0").parse()?);
    let deny_set_size: usize = env("DENY_SET_SIZE", "0").parse()?;
    let verifier = if deny_set_size > 0 {
        verifier.revocation_feed(jwt_verify::RevocationFeed::new(
            "http://127.0.0.1:9/api/v1/security-events",
            "sgn_bench",
            "sgn_bench_secret",
        ))
    } else {
        verifier
    }
    .build()
    .await?;
    verifier.load_revoked_sessions_for_benchmarks(deny_set_size);
    let app = Router::new()
        .route("/protected", get(hello))
        .layer(JwtAuthLayer::new(verifier))
        .merge(Router::new().route("/open", get(hello)));
    let listener = tokio::net::TcpListener::bind(env("BIND_ADDR", "127.0.0.1:8090")).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
