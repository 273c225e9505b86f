//! Verify Signet access tokens **locally**, with the issuer's public keys.
//!
//! A service that depends on `jwt-verify` never calls the auth server per
//! request: it fetches the JWKS once, caches it, refreshes it in the background
//! and on key rotation, and checks every RS256 token's signature and claims
//! in-process (RFC 8725, RFC 9068). Failures become RFC 6750 responses.
//!
//! ```no_run
//! use axum::{routing::{get, post}, Router};
//! use jwt_verify::{require_scope, Claims, JwtAuthLayer, KeySource, Validation, Verifier};
//! use serde::Deserialize;
//!
//! /// The claims this service cares about, beyond the standard ones.
//! #[derive(Deserialize)]
//! struct User {
//!     sub: String,
//!     email: Option<String>,
//! }
//!
//! async fn me(Claims { claims, .. }: Claims<User>) -> String {
//!     format!("hello {} <{}>", claims.sub, claims.email.unwrap_or_default())
//! }
//!
//! async fn create_post(claims: Claims) -> String {
//!     format!("created by {:?}", claims.sub)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let verifier = Verifier::new(
//!         KeySource::jwks("http://127.0.0.1:8080/.well-known/jwks.json"),
//!         Validation::new("http://127.0.0.1:8080")
//!             .audience("signet") // a default auth-server's JWT_AUDIENCE
//!             .require_type("at+jwt"),
//!     )
//!     .await?; // fails clearly if the JWKS cannot be fetched
//!
//!     let app = Router::new()
//!         .route("/me", get(me))
//!         .route("/posts", post(create_post).layer(require_scope("posts:write")))
//!         .layer(JwtAuthLayer::new(verifier).realm("blog"));
//!
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! # What is checked
//! In order, each failure with its own [`VerifyError`]: length; three base64url
//! segments; a JSON header whose `alg` is in the allow-list (`none`, HS*, ES* are
//! refused); no `crit`; the `typ` if required; the `kid` names a usable key
//! (`jku`, `jwk`, `x5u`, `x5c` are never consulted); the signature; then `exp`,
//! `nbf` (with leeway, of numeric type), `iss`, `aud`, and required claims.
//!
//! # Key refresh
//! With [`KeySource::jwks`] or [`KeySource::oidc_discovery`] the key set is
//! refreshed before the server's `Cache-Control: max-age` runs out (clamped to
//! [1 s, 1 h] by default). A token with an unknown `kid` triggers one refetch,
//! at most once per cooldown (1 s), shared by every request waiting on it; one
//! arriving inside the cooldown waits for the next fetch. When a refresh fails
//! the last good keys stay in use (up to `max_stale_keys`, 7 days), so
//! services keep verifying while the auth server is down.
//! [`Verifier::status`] reports the cache's health.
//!
//! # Features
//! `axum` (default): the extractors. `jwks` (default): remote key sources,
//! over reqwest. `client`: [`ServiceTokenSource`]. Without `jwks` and
//! `client` there is no HTTP client: keys are given up front.
//!
//! # Service tokens
//! With the `client` feature, [`ServiceTokenSource`] exchanges an API key for
//! service tokens and caches them until shortly before they expire.
#![deny(missing_docs, unreachable_pub)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

/// The README's examples compile (`cargo test --doc`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;

mod algorithm;
mod authorize;
mod cache;
mod claims;
mod clock;
pub mod dpop;
mod error;
#[cfg(feature = "jwks")]
mod fetch;
#[cfg(any(feature = "jwks", feature = "client"))]
mod http_client;
mod jws;
mod keys;
mod layer;
#[cfg(feature = "jwks")]
mod refresh;
mod rejection;
mod resource;
mod revocation;
mod validation;
mod verifier;

#[cfg(feature = "axum")]
mod extract;

#[cfg(feature = "client")]
mod client;

pub use authorize::{
    require_acr, require_any_role, require_scope, Require, RequireLayer, Requirement,
};
pub use claims::{Actor, Confirmation, StandardClaims};
pub use clock::{Clock, ManualClock, SystemClock};
pub use dpop::{DpopError, DpopKey, DpopSettings};
pub use error::{KeyError, VerifyError};
pub use keys::{rsa_thumbprint, KeySet};
pub use layer::{AuthContext, JwtAuth, JwtAuthLayer, ResponseFuture};
pub use rejection::AuthError;
pub use resource::{InvalidResource, ProtectedResource};
#[cfg(feature = "jwks")]
pub use revocation::RevocationFeed;
pub use revocation::{RevocationStatus, SecurityEvent};
pub use validation::Validation;
pub use verifier::{CacheStatus, KeySource, VerifiedToken, Verifier, VerifierBuilder};

#[cfg(feature = "axum")]
pub use extract::{Claims, OptionalClaims};

#[cfg(feature = "client")]
pub use client::{api_key_client_id, ClientError, ExchangedToken, ServiceTokenSource};

pub use algorithm::{Algorithm, Claim, UnknownAlgorithm};

/// The `realm` used in challenges unless a layer is given another.
pub const DEFAULT_REALM: &str = "api";
