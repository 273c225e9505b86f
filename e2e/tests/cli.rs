//! Each binary as a newcomer first runs it: `--help` and `--version` answer
//! with no configuration at all, and `migrate` needs only the database.

use std::process::Command;

use signet_e2e::binary;

/// `name` with an empty environment (PATH aside) in an empty directory, so
/// no `.env` or variable of the developer's is read.
fn bare(name: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().expect("temp dir");
    Command::new(binary(name))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_binary_answers_help_and_version_without_any_configuration() {
    for name in ["auth-server", "blog-svc", "scraper-svc"] {
        let help = bare(name, &["--help"]);
        let text = String::from_utf8_lossy(&help.stdout);
        assert!(help.status.success(), "{name} --help: {help:?}");
        assert!(
            text.contains("Usage:") && text.contains("migrate"),
            "{name}: {text}"
        );
        let version = bare(name, &["--version"]);
        assert!(version.status.success(), "{name} --version: {version:?}");
        assert!(
            String::from_utf8_lossy(&version.stdout).starts_with(name),
            "{name}: {version:?}"
        );
    }
}

#[test]
fn the_scraper_migrates_with_only_a_database_and_serving_names_what_is_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("scraper.db").display()
    );
    let migrate = Command::new(binary("scraper-svc"))
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", &url)
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(migrate.status.success(), "{migrate:?}");
    assert_eq!(
        String::from_utf8_lossy(&migrate.stdout).trim(),
        "migrations applied"
    );
    let serve = bare("scraper-svc", &[]);
    assert!(!serve.status.success());
    let stderr = String::from_utf8_lossy(&serve.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("SCRAPER_API_KEY"), "{stderr}");
}
