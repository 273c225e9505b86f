//! What every Signet HTTP service shares, so auth-server, blog-svc and
//! scraper-svc answer bad input, log and shut down the same way.

#[cfg(feature = "outbound")]
pub mod address_policy;
pub mod auth;
pub mod config;
pub mod db;
#[cfg(feature = "web")]
pub mod docs;
pub mod error;
pub mod http;
pub mod metrics;
pub mod process;
pub mod retention;
#[cfg(feature = "web")]
pub mod seal;
pub mod telemetry;
#[cfg(feature = "web")]
pub mod web;

#[cfg(feature = "testing")]
pub mod testing;
