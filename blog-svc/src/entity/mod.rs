//! sea-orm entities; the schema itself is defined by `migration`.

pub mod author;
pub mod post;
