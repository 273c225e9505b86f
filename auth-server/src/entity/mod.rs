//! sea-orm entities; the schema itself is defined by `migration`.

pub mod api_key;
pub mod user;
