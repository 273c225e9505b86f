//! The compose PostgreSQL gives each service a role that owns only its own
//! database (issue #11, item 17): deploy/postgres/init-roles.sh, run against a
//! real server, then blog-svc migrating and serving as its role.

use sea_orm::{ConnectionTrait, Database};
use signet_e2e::{PrivatePostgres, Service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(signet_pg_bin),
    ignore = "needs PostgreSQL's server binaries (initdb, pg_ctl): install them (Debian: postgresql) or set PG_BIN_DIR"
)]
async fn each_service_role_owns_its_database_and_nothing_else() {
    let postgres = PrivatePostgres::start();
    let dir = signet_e2e::shared_tempdir();
    let mut env = Vec::new();
    for service in ["AUTH", "BLOG", "SCRAPER"] {
        let file = dir.path().join(format!("{service}.password"));
        std::fs::write(&file, format!("pw-{service}")).expect("password file");
        env.push((
            match service {
                "AUTH" => "SIGNET_AUTH_DB_PASSWORD_FILE",
                "BLOG" => "SIGNET_BLOG_DB_PASSWORD_FILE",
                _ => "SIGNET_SCRAPER_DB_PASSWORD_FILE",
            },
            file.display().to_string(),
        ));
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/postgres/init-roles.sh");
    let output = postgres.run_init_script(&script, &env);
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    // blog-svc migrates and serves as its own role, in its own database.
    let mut blog = Service::start(
        "blog-svc",
        dir.path(),
        &[
            (
                "DATABASE_URL",
                postgres.url_as("signet_blog", "signet_blog"),
            ),
            ("AUTH_ISSUER", "http://127.0.0.1:9".to_owned()),
            ("AUTH_JWKS_URL", "http://127.0.0.1:9/jwks.json".to_owned()),
            ("AUTH_LAZY_START", "true".to_owned()),
        ],
    );
    blog.wait_live().await;

    // It cannot reach another service's database, nor the operator's.
    for database in ["signet_auth", "signet_scraper", "postgres"] {
        let refused = Database::connect(postgres.url_as("signet_blog", database)).await;
        let error = match refused {
            Ok(db) => db
                .execute_unprepared("SELECT 1")
                .await
                .expect_err("must not connect")
                .to_string(),
            Err(error) => error.to_string(),
        };
        assert!(
            error.contains("permission denied") || error.contains("not permitted"),
            "signet_blog → {database}: {error}"
        );
    }
    // And it owns what it created: the posts table belongs to signet_blog.
    let admin = Database::connect(postgres.url_as("signet", "signet_blog"))
        .await
        .expect("operator");
    let owner = admin
        .query_one_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            "SELECT tableowner FROM pg_tables WHERE tablename = 'posts'",
        ))
        .await
        .expect("query")
        .expect("posts exists");
    assert_eq!(
        owner.try_get_by_index::<String>(0).expect("owner"),
        "signet_blog"
    );
}
