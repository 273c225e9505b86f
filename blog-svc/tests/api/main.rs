//! blog-svc over real HTTP, on SQLite and PostgreSQL.

mod helpers;
mod posts;
