use sea_orm_migration::prelude::*;

mod m20261122_000001_create_scrape_runs;
mod m20261123_000002_run_requesters;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_scrape_runs::Migration),
            Box::new(m20261123_000002_run_requesters::Migration),
        ]
    }
}
