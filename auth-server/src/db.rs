//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use std::path::Path;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::config::Config;
use crate::migration::Migrator;

/// The file behind a `sqlite:` URL, if it names one (not `:memory:`).
fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    connect_url(
        &config.database_url,
        config.db_max_connections,
        config.db_acquire_timeout,
    )
    .await
}

pub async fn connect_url(
    url: &str,
    max_connections: u32,
    acquire_timeout: std::time::Duration,
) -> Result<DatabaseConnection, DbErr> {
    if let Some(parent) = sqlite_path(url).and_then(Path::parent) {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
        }
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .connect_timeout(acquire_timeout)
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers run beside the writer; persisted in the file.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_found_in_both_url_forms() {
        assert_eq!(
            sqlite_path("sqlite://data/auth.db?mode=rwc"),
            Some(Path::new("data/auth.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:/tmp/x.db"),
            Some(Path::new("/tmp/x.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }
}
