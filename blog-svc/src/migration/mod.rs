//! blog-svc's schema, the same on SQLite and PostgreSQL.

use sea_orm_migration::prelude::*;

mod m20261122_000001_create_authors_and_posts;
mod m20261123_000002_imports_by_source;
mod m20261123_000003_web_sessions;
mod m20261204_000004_session_sid;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_authors_and_posts::Migration),
            Box::new(m20261123_000002_imports_by_source::Migration),
            Box::new(m20261123_000003_web_sessions::Migration),
            Box::new(m20261204_000004_session_sid::Migration),
        ]
    }
}
