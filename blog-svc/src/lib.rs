//! blog-svc: a blog that never sees a password. Writers are identified by the
//! `sub` of tokens it verifies locally with the auth server's public keys.

pub mod config;
pub mod entity;
pub mod migration;
pub mod routes;
pub mod startup;
pub mod state;
pub mod web;

pub use routes::app;
pub use signet_service::{error, telemetry};
pub use startup::Application;
