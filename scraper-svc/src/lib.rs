//! scraper-svc: signs in to the auth server with its API key (through
//! jwt-verify's `ServiceTokenSource`), scrapes feeds and pages, and pushes
//! them into blog-svc. Its own API is protected by jwt-verify (role `admin`).

pub mod config;
pub mod entity;
pub mod extract;
pub mod migration;
pub mod routes;
pub mod scrape;
pub mod startup;
pub mod state;

pub use routes::app;
pub use signet_service::{error, telemetry};
pub use startup::Application;
