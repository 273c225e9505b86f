//! A protected API in ~40 lines. Run against a live auth server:
//!
//! ```sh
//! AUTH_JWKS_URL=http://127.0.0.1:8080/.well-known/jwks.json \
//! AUTH_ISSUER=http://127.0.0.1:8080 AUTH_AUDIENCE=signet \
//! cargo run -p jwt-verify --example protected_api
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/me
//! ```

use axum::routing::get;
use axum::{Json, Router};
use jwt_verify::{
    require_any_role, Claims, JwtAuthLayer, KeySource, OptionalClaims, Validation, Verifier,
};

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

async fn me(claims: Claims) -> Json<jwt_verify::StandardClaims> {
    Json(claims.claims)
}

async fn hello(OptionalClaims(claims): OptionalClaims) -> String {
    match claims.and_then(|c| c.email.clone()) {
        Some(email) => format!("hello {email}\n"),
        None => "hello, anonymous\n".to_owned(),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter("info,jwt_verify=debug")
        .init();
    let issuer = env("AUTH_ISSUER", "http://127.0.0.1:8080");
    let jwks_url = env("AUTH_JWKS_URL", &format!("{issuer}/.well-known/jwks.json"));
    let verifier = Verifier::new(
        KeySource::jwks(jwks_url),
        Validation::new(issuer)
            .audience(env("AUTH_AUDIENCE", "signet"))
            .require_type("at+jwt"),
    )
    .await?;

    let app = Router::new()
        .route("/me", get(me))
        .route(
            "/admin",
            get(|| async { "admins only\n" }).route_layer(require_any_role(["admin"])),
        )
        .layer(JwtAuthLayer::new(verifier.clone()))
        .merge(
            Router::new()
                .route("/hello", get(hello))
                .layer(JwtAuthLayer::optional(verifier)),
        );

    let addr = env("BIND_ADDR", "127.0.0.1:3000");
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!(%addr, "protected_api listening");
    axum::serve(listener, app).await?;
    Ok(())
}
