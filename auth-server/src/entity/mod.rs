//! sea-orm entities; the schema itself is defined by `migration`.

pub mod api_key;
pub mod audit_event;
pub mod refresh_token;
pub mod session;
pub mod signing_key;
pub mod user;
