//! Integration-test support shared by the services: every test case runs once
//! on SQLite and once on PostgreSQL.

use tempfile::TempDir;

/// Generate every listed `async fn name(backend: Backend)` once per backend.
/// The PostgreSQL copies are `#[ignore]`d (with the reason shown, so they count
/// as ignored, not passed) unless the crate's build script saw
/// `TEST_DATABASE_URL` and set `cfg(signet_postgres)`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::testing::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                #[cfg_attr(not(signet_postgres), ignore = "needs PostgreSQL: set TEST_DATABASE_URL")]
                async fn $name() {
                    super::$name($crate::testing::Backend::Postgres).await
                }
            )*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL for one test: a new SQLite file in `dir`, or a new database
/// on the `TEST_DATABASE_URL` server (whose role needs `CREATEDB`).
///
/// # Panics
/// When PostgreSQL is asked for and `TEST_DATABASE_URL` is unusable: a test
/// that cannot get its database must fail, not pass.
pub async fn fresh_database(backend: Backend, dir: &TempDir, prefix: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join(format!("{prefix}.db")).display()
        ),
        Backend::Postgres => {
            let admin_url = std::env::var("TEST_DATABASE_URL")
                .unwrap_or_else(|_| panic!("TEST_DATABASE_URL is not set"));
            let name = format!("signet_test_{prefix}_{}", uuid::Uuid::new_v4().simple());
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to TEST_DATABASE_URL: {e}"));
            sea_orm::ConnectionTrait::execute_unprepared(
                &admin,
                &format!("CREATE DATABASE \"{name}\""),
            )
            .await
            .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
            let _ = admin.close().await;
            let mut url =
                url::Url::parse(&admin_url).unwrap_or_else(|e| panic!("TEST_DATABASE_URL: {e}"));
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
    }
}
