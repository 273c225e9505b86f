//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use sea_orm::{DatabaseConnection, DbErr};

use crate::config::Config;
use crate::migration::Migrator;

pub async fn connect(
    config: &Config,
) -> Result<DatabaseConnection, signet_service::db::ConnectError> {
    signet_service::db::connect(
        secrecy::ExposeSecret::expose_secret(&config.database_url),
        config.db_max_connections,
        config.db_acquire_timeout,
    )
    .await
}

pub async fn migrate(db: &mut DatabaseConnection) -> Result<(), DbErr> {
    signet_service::db::migrate::<Migrator>(db, "auth-server").await
}
