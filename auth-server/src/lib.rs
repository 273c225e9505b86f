//! Signet's token authority: accounts, password login, RS256 access tokens,
//! and the public keys (JWKS, OIDC discovery) that let services verify them
//! without calling back.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod client_ip;
pub mod config;
pub mod db;
pub mod entity;
pub mod guard;
pub mod keys;
pub mod keystore;
pub mod migration;
pub mod oauth;
pub mod password;
pub mod rate_limit;
pub mod retention;
pub mod routes;
pub mod sessions;
pub mod signing;
pub mod startup;
pub mod state;
pub mod tokens;

pub use routes::app;
/// Errors and logging are shared with the other services.
pub use signet_service::{error, telemetry};
pub use startup::Application;
