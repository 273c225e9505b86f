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
        // The environment, with defaults, from the README's table.
        for variable in ["BIND_ADDR", "DATABASE_URL", "METRICS_ADDR"] {
            assert!(
                text.contains(&format!("  {variable}")),
                "{name}: {variable} in {text}"
            );
        }
        assert!(text.contains("default: "), "{name}: {text}");
        let serve = bare(name, &["serve", "--help"]);
        let serve = String::from_utf8_lossy(&serve.stdout);
        assert!(
            serve.contains("BIND_ADDR") && serve.contains("SIGTERM"),
            "{name} serve --help: {serve}"
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

/// Run auth-server with `env` as a user that is not root (permissions mean
/// nothing to root): `nobody` through runuser when the tests run as root.
fn auth_server_as_user(dir: &std::path::Path, env: &[(&str, String)]) -> std::process::Output {
    let mut command = if signet_e2e::running_as_root() {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "nobody", "--"])
            .arg(binary("auth-server"));
        command
    } else {
        Command::new(binary("auth-server"))
    };
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(dir)
        .output()
        .expect("run auth-server")
}

/// Each mistake a newcomer makes with the database or key folder ends
/// start-up with one line that names the path or server and what to do, says
/// nothing twice, and never shows the password.
#[test]
fn database_and_key_mistakes_fail_start_up_with_one_clear_line() {
    use std::os::unix::fs::PermissionsExt;
    let dir = signet_e2e::shared_tempdir();
    let root = dir.path();
    let read_only_dir = root.join("locked");
    std::fs::create_dir(&read_only_dir).expect("dir");
    std::fs::set_permissions(&read_only_dir, std::fs::Permissions::from_mode(0o555))
        .expect("chmod");
    // A database this user may read but not write.
    let read_only_db = root.join("read-only.db");
    let made = Command::new(binary("auth-server"))
        .arg("migrate")
        .env_clear()
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", read_only_db.display()),
        )
        .current_dir(root)
        .output()
        .expect("migrate");
    assert!(made.status.success(), "{made:?}");
    std::fs::set_permissions(&read_only_db, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let refused_port = signet_e2e::free_port();
    let refused_server = format!("127.0.0.1:{refused_port}");
    let keys = root.join("keys").display().to_string();
    let cases: Vec<(&str, Vec<(&str, String)>, Vec<&str>)> = vec![
        (
            "a PostgreSQL port nobody listens on",
            vec![
                (
                    "DATABASE_URL",
                    format!("postgres://signet:s3cret@127.0.0.1:{refused_port}/signet"),
                ),
                // Long: the answer must not wait for it.
                ("DB_ACQUIRE_TIMEOUT", "1h".into()),
                ("KEYS_DIR", keys.clone()),
            ],
            vec!["connection refused", &refused_server],
        ),
        (
            "a SQLite file in a folder this user cannot write",
            vec![
                (
                    "DATABASE_URL",
                    format!("sqlite://{}/auth.db", read_only_dir.display()),
                ),
                ("KEYS_DIR", keys.clone()),
            ],
            vec![
                "cannot create the SQLite database",
                "locked/auth.db",
                "writable",
            ],
        ),
        (
            "a read-only SQLite file",
            vec![
                (
                    "DATABASE_URL",
                    format!("sqlite://{}", read_only_db.display()),
                ),
                ("KEYS_DIR", keys.clone()),
            ],
            vec!["read-only.db", "write"],
        ),
        (
            "a key folder this user cannot write",
            vec![
                ("DATABASE_URL", format!("sqlite://{}/ok.db", root.display())),
                ("KEYS_DIR", read_only_dir.display().to_string()),
            ],
            vec!["KEYS_DIR", "locked"],
        ),
    ];
    for (name, mut env, expected) in cases {
        env.push(("BIND_ADDR", "127.0.0.1:0".into()));
        env.push(("METRICS_ADDR", "127.0.0.1:0".into()));
        let output = auth_server_as_user(root, &env);
        assert!(!output.status.success(), "{name}: started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{name}: one line: {stderr}");
        for words in expected {
            assert!(stderr.contains(words), "{name}: {words:?} in {stderr}");
        }
        assert!(!stderr.contains("s3cret"), "{name}: {stderr}");
        // Nothing said twice: no clause of the line appears in it again.
        for clause in stderr.trim().split(": ").filter(|c| c.len() > 12) {
            assert_eq!(
                stderr.matches(clause).count(),
                1,
                "{name}: {clause:?} twice in {stderr}"
            );
        }
    }
}
