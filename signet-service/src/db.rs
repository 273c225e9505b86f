//! Connecting to SQLite or PostgreSQL the same way in every service.

use std::path::Path;
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, DbErr,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

/// The file behind a `sqlite:` URL, if it names one (not `:memory:`).
pub fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

/// How long a SQLite writer waits for the write lock before giving up (and
/// the request gets a 503).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect; for SQLite, create the file's folder and switch to WAL so readers
/// run beside the writer.
pub async fn connect(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_path(url) {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
        }
        create_private_file(path)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", path.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .connect_timeout(acquire_timeout)
        .sqlx_logging(false);
    // WAL lets readers run beside the writer; with WAL, synchronous=NORMAL is
    // the documented safe setting (no corruption; a power cut can lose the last
    // commits) and spares an fsync per commit. Set per connection.
    options.map_sqlx_sqlite_opts(|sqlite| {
        sqlite
            .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            // SQLite has one writer at a time: a writer waits this long for
            // the lock instead of failing at once with "database is locked".
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
    });
    Database::connect(options).await
}

/// Create the database file readable by its owner alone (0600) before SQLite
/// opens it: it holds password hashes, sessions and the audit trail. SQLite
/// gives its `-wal` and `-shm` files the database file's permissions. An
/// existing file is left as it is.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Apply `M`'s pending migrations. Safe when several replicas start at once:
/// on PostgreSQL the migrations run in one transaction holding an advisory
/// lock named after `service`, so a second replica waits, then finds nothing
/// left to do (and a failed migration leaves the schema as it was, since
/// PostgreSQL's DDL is transactional). SQLite has one writer by construction.
pub async fn migrate<M: MigratorTrait>(
    db: &mut DatabaseConnection,
    service: &str,
) -> Result<(), DbErr> {
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        M::up(&*db, None).await?;
        // A pooled SQLite connection that read the schema before a migration
        // added a column can describe a later statement with the old columns
        // (an UPDATE … RETURNING answered NULL for the new one, while the row
        // held the value: `scraper-svc`'s run test). Fresh connections read
        // the new schema.
        let pool = db.get_sqlite_connection_pool();
        let fresh = pool
            .options()
            .clone()
            .connect_with((*pool.connect_options()).clone())
            .await
            .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?;
        pool.close().await;
        *db = sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(fresh);
        return Ok(());
    }
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return M::up(&*db, None).await;
    }
    let txn = db.begin().await?;
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [lock_id(service).into()],
    ))
    .await?;
    M::up(&txn, None).await?;
    txn.commit().await
}

/// A stable 64-bit lock id per service (FNV-1a of its name): replicas of one
/// service contend, different services sharing a server do not.
/// A PostgreSQL advisory-lock key for `name` (FNV-1a, stable across builds).
pub fn lock_id(name: &str) -> i64 {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_use_wal_with_normal_sync() {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = tempfile::tempdir().expect("dir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("nested/x.db").display()
        );
        let db = connect(&url, 2, Duration::from_secs(5))
            .await
            .expect("connect");
        let pragma = |name: &'static str| {
            let db = db.clone();
            async move {
                let row = db
                    .query_one_raw(Statement::from_string(
                        db.get_database_backend(),
                        format!("PRAGMA {name}"),
                    ))
                    .await
                    .expect("query")
                    .expect("row");
                row.try_get_by_index::<String>(0)
                    .or_else(|_| row.try_get_by_index::<i32>(0).map(|v| v.to_string()))
                    .expect("value")
            }
        };
        assert_eq!(pragma("journal_mode").await, "wal");
        assert_eq!(pragma("synchronous").await, "1", "1 = NORMAL");
        // Written to: the -wal file exists now. Neither file is readable by others.
        db.execute_unprepared("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
            .await
            .expect("write");
        #[cfg(unix)]
        for name in ["nested/x.db", "nested/x.db-wal"] {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(name))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{name} is {mode:o}");
        }
    }

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
