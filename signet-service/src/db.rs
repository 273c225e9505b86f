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

/// `url` fit for a log line: the password (if any) and the query left out.
pub fn display_url(url: &str) -> String {
    if let Some(path) = sqlite_path(url) {
        return format!("sqlite://{}", path.display());
    }
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.to_string()
        }
        Err(_) => "(unparsable DATABASE_URL)".to_owned(),
    }
}

/// How long a SQLite writer waits for the write lock before giving up (and
/// the request gets a 503).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why [`connect`] failed, in words that say what to do. The messages name
/// paths and servers, never a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    #[error("cannot create the folder {folder} for the SQLite database: {error}; create it, or point DATABASE_URL at a folder this user may write")]
    SqliteFolder {
        folder: String,
        error: std::io::Error,
    },
    #[error("cannot create the SQLite database {path}: {error}; make its folder writable by this user, or point DATABASE_URL at one that is")]
    SqliteCreate { path: String, error: std::io::Error },
    #[error("cannot write to the SQLite database {path} ({reason}); make the file and its folder writable by this user (SQLite writes {path}-wal and {path}-shm beside it)")]
    SqliteReadOnly { path: String, reason: String },
    #[error("cannot open the SQLite database {path}: {reason}; check that this user may read and write it and its folder")]
    SqliteOpen { path: String, reason: String },
    #[error("cannot reach the database server {server}: {reason}")]
    Unreachable { server: String, reason: String },
    #[error("{0}")]
    Database(#[from] DbErr),
}

/// Connect; for SQLite, create the file and its folder (so `?mode=rwc` is not
/// needed), switch to WAL so readers run beside the writer, and check that the
/// file can be written: a read-only database must fail start-up, not answer
/// "ready" and then fail every sign-up. For PostgreSQL, one direct connection
/// first, so a refused port or a wrong password is reported at once and in its
/// own words instead of as a pool timeout `acquire_timeout` later.
pub async fn connect(
    url: &str,
    max_connections: u32,
    acquire_timeout: Duration,
) -> Result<DatabaseConnection, ConnectError> {
    if let Some(path) = sqlite_path(url) {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|error| ConnectError::SqliteFolder {
                folder: parent.display().to_string(),
                error,
            })?;
        }
        create_private_file(path).map_err(|error| ConnectError::SqliteCreate {
            path: path.display().to_string(),
            error,
        })?;
    } else if url.starts_with("postgres") {
        preflight_postgres(url, acquire_timeout).await?;
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
    let db = Database::connect(options)
        .await
        .map_err(|e| match sqlite_path(url) {
            Some(path) if error_text(&e).contains("readonly") => ConnectError::SqliteReadOnly {
                path: path.display().to_string(),
                reason: error_text(&e),
            },
            Some(path) => ConnectError::SqliteOpen {
                path: path.display().to_string(),
                reason: error_text(&e),
            },
            None => ConnectError::Database(e),
        })?;
    if let Some(path) = sqlite_path(url) {
        check_sqlite_writable(&db)
            .await
            .map_err(|e| ConnectError::SqliteReadOnly {
                path: path.display().to_string(),
                reason: error_text(&e),
            })?;
    }
    Ok(db)
}

/// The innermost words of a database error ("attempt to write a readonly
/// database"), without sea-orm's and sqlx's wrappers.
fn error_text(error: &DbErr) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(next) = source.source() {
        source = next;
    }
    let text = source.to_string();
    // sqlx: "error returned from database: (code: 8) attempt to write …"
    match text.split_once(") ") {
        Some((prefix, rest)) if prefix.contains("(code: ") => rest.to_owned(),
        _ => text,
    }
}

/// A write that changes nothing: `user_version` set to its own value. SQLite
/// opens a write-protected file read-only without a word, and only the first
/// write finds out.
async fn check_sqlite_writable(db: &DatabaseConnection) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let version: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "PRAGMA user_version",
        ))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or_default();
    db.execute_unprepared(&format!("PRAGMA user_version = {version}"))
        .await
        .map(drop)
}

/// One connection to the PostgreSQL server, opened and closed.
async fn preflight_postgres(url: &str, timeout: Duration) -> Result<(), ConnectError> {
    use sea_orm::sqlx::{postgres::PgConnectOptions, ConnectOptions as _, Connection as _};
    let options: PgConnectOptions =
        url.parse()
            .map_err(|e: sea_orm::sqlx::Error| ConnectError::Unreachable {
                server: "(DATABASE_URL does not parse)".into(),
                reason: e.to_string(),
            })?;
    let server = format!("{}:{}", options.get_host(), options.get_port());
    let attempt = tokio::time::timeout(timeout, options.connect()).await;
    let reason = match attempt {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            return Ok(());
        }
        Ok(Err(e)) => postgres_reason(&e),
        Err(_) => format!("no answer within {}", humantime::format_duration(timeout)),
    };
    Err(ConnectError::Unreachable { server, reason })
}

/// What an operator needs from a failed PostgreSQL connection.
fn postgres_reason(error: &sea_orm::sqlx::Error) -> String {
    use sea_orm::sqlx::Error;
    match error {
        Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is PostgreSQL running, and on this host and port?)".into()
        }
        Error::Io(io) => io.to_string(),
        Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
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
    let txn = crate::db::begin_write(db).await?;
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [lock_id(service).into()],
    ))
    .await?;
    M::up(&txn, None).await?;
    txn.commit().await
}

/// `migrate` as a command: connect with one connection, apply `M`'s
/// migrations, say so on stdout. Errors name `DATABASE_URL`.
pub async fn migrate_command<M: MigratorTrait>(
    url: &str,
    acquire_timeout: Duration,
    service: &str,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut db = connect(url, 1, acquire_timeout)
        .await
        .context("DATABASE_URL")?;
    migrate::<M>(&mut db, service)
        .await
        .context("migrations failed")?;
    println!("migrations applied");
    Ok(())
}

/// Begin a transaction that will write: on SQLite `BEGIN IMMEDIATE`, which
/// takes the write lock at once (waiting up to the busy timeout for another
/// writer). A deferred transaction that reads first and writes later fails
/// at its first write with `SQLITE_BUSY_SNAPSHOT`, without waiting, whenever
/// another connection committed in between; this one never does. Elsewhere
/// (PostgreSQL, or nested: a savepoint) it is a plain `begin`.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
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
    fn database_urls_are_logged_without_their_password() {
        assert_eq!(
            display_url("postgres://signet:s3cret@db:5432/signet?sslmode=require"),
            "postgres://signet@db:5432/signet"
        );
        assert_eq!(
            display_url("sqlite://data/auth.db?mode=rwc"),
            "sqlite://data/auth.db"
        );
        assert!(!display_url("postgres://u:s3cret@[::1/x").contains("s3cret"));
    }

    #[tokio::test]
    async fn a_refused_postgres_port_is_named_at_once_not_after_a_pool_timeout() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        // The listener is gone: the port refuses. A long timeout shows the
        // answer does not wait for it (a pool timeout would say so instead).
        let error = connect(
            &format!("postgres://u:s3cret@127.0.0.1:{port}/x"),
            1,
            Duration::from_secs(3600),
        )
        .await
        .expect_err("refused");
        let text = error.to_string();
        assert!(text.contains("connection refused"), "{text}");
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[tokio::test]
    async fn a_sqlite_url_without_mode_rwc_creates_its_file() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}", dir.path().join("new.db").display());
        connect(&url, 1, Duration::from_secs(5))
            .await
            .expect("created");
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
