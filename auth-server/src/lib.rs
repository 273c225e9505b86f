//! Signet's token authority: accounts, password login, RS256 access tokens,
//! and the public keys (JWKS, OIDC discovery) that let services verify them
//! without calling back.
//!
//! One folder per feature, each with its domain service (`mod.rs`), its HTTP
//! handlers (`routes.rs`) and its sea-orm entities (`entity.rs`); `app/`
//! assembles them: state, router, start-up, the cross-cutting layers.

pub mod accounts;
pub mod api_keys;
pub mod app;
pub mod audit;
pub mod backchannel;
pub mod clients;
pub mod config;
pub mod device;
pub mod digest;
pub mod dpop_policy;
pub mod events;
pub mod i18n;
pub mod keys;
pub mod mail;
pub mod mfa;
pub mod migration;
pub mod oauth;
pub mod passkeys;
pub mod sessions;
pub mod ssf;
pub mod terminal;
pub mod testing;
pub mod upstream;
pub(crate) mod web;

pub use app::app;
pub use app::startup::Application;
/// Errors and logging are shared with the other services.
pub use signet_service::{error, telemetry};
