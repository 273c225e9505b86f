//! blog-svc over real HTTP, on SQLite and PostgreSQL.

mod helpers;
mod hostile_input;
mod posts;
