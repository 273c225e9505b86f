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
        // The environment, with defaults, from docs/CONFIGURATION.md.
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
    // (what is wrong, the environment, words the one line must hold)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
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

/// A password login of `email` with `password`: the status and the body.
async fn password_login(
    http: &reqwest::Client,
    auth: &str,
    email: &str,
    password: &str,
) -> (reqwest::StatusCode, serde_json::Value) {
    let response = http
        .post(format!("{auth}/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": password, "audience": signet_e2e::ACCOUNT_AUDIENCE }))
        .send()
        .await
        .expect("login");
    let status = response.status();
    (status, response.json().await.unwrap_or_default())
}

/// The roles claim of an access token.
fn roles(token: &str) -> Vec<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("payload");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64"),
    )
    .expect("claims");
    serde_json::from_value(claims["roles"].clone()).unwrap_or_default()
}

/// The operator's way back in, with the server running: set a forgotten
/// password (which signs the holder of the old one out), make a user admin,
/// disable and enable them. Each is one command; each takes effect at once.
#[tokio::test]
async fn recovery_commands_set_a_password_promote_disable_and_enable_a_user() {
    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    let mut env = vec![(
        "DATABASE_URL",
        format!("sqlite://{}/auth.db", dir.path().display()),
    )];
    env.extend(signet_e2e::test_tuning());
    let mut auth = signet_e2e::Service::start("auth-server", dir.path(), &env);
    auth.wait_ready().await;
    let email = "ada@example.com";
    assert_eq!(
        signet_e2e::sign_up(&http, &auth.url, email).await,
        reqwest::StatusCode::ACCEPTED
    );
    let before =
        signet_e2e::log_in_for(&http, &auth.url, email, Some(signet_e2e::ACCOUNT_AUDIENCE)).await;
    let old_refresh = before["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    // The password, from a pipe as a script would give it.
    let new_password = "a brand new passphrase, typed once";
    let mut child = Command::new(binary("auth-server"))
        .args(["users", "set-password", "--email", "Ada@Example.com"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &env[0].1)
        .env("ARGON2_MEMORY_KIB", "4096")
        .env("ARGON2_ITERATIONS", "1")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{new_password}\n").as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{output:?}");
    let (status, _) = password_login(&http, &auth.url, email, signet_e2e::PASSWORD).await;
    assert_eq!(
        status,
        reqwest::StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let refreshed = http
        .post(format!("{}/oauth/token", auth.url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &old_refresh),
        ])
        .send()
        .await
        .expect("refresh");
    assert_eq!(
        refreshed.status(),
        reqwest::StatusCode::BAD_REQUEST,
        "the sessions of the old password are ended"
    );
    let (status, body) = password_login(&http, &auth.url, email, new_password).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert!(!roles(body["access_token"].as_str().expect("token")).contains(&"admin".to_owned()));

    auth.run(&["users", "promote", "--email", email], &[]);
    let (_, body) = password_login(&http, &auth.url, email, new_password).await;
    assert!(roles(body["access_token"].as_str().expect("token")).contains(&"admin".to_owned()));

    auth.run(&["users", "disable", "--email", email], &[]);
    let (status, _) = password_login(&http, &auth.url, email, new_password).await;
    assert!(status.is_client_error(), "disabled: {status}");
    auth.run(&["users", "enable", "--email", email], &[]);
    let (status, _) = password_login(&http, &auth.url, email, new_password).await;
    assert_eq!(status, reqwest::StatusCode::OK);

    // An unknown email is one line saying so.
    let missing = Command::new(binary("auth-server"))
        .args(["users", "promote", "--email", "nobody@example.com"])
        .env_clear()
        .env("DATABASE_URL", &env[0].1)
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no user with the email nobody@example.com"),
        "{stderr}"
    );
}

/// At a terminal, `users create-admin` asks twice with the input hidden and
/// Enter finishes each answer. Run on a real pseudo-terminal: the prompt is
/// answered only once it is shown, and nothing typed comes back on the screen.
#[test]
fn create_admin_at_a_terminal_hides_the_password_and_enter_finishes_it() {
    use std::io::{Read as _, Write as _};
    use std::sync::mpsc;
    use std::time::Duration;

    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};

    let dir = tempfile::tempdir().expect("temp dir");
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let terminal = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().expect("utf-8 name"))
        .expect("open the terminal");
    let mut child = Command::new(binary("auth-server"))
        .args(["users", "create-admin", "--email", "root@example.com"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/auth.db", dir.path().display()),
        )
        .env("ARGON2_MEMORY_KIB", "4096")
        .env("ARGON2_ITERATIONS", "1")
        .current_dir(dir.path())
        .stdin(terminal.try_clone().expect("clone"))
        .stdout(terminal.try_clone().expect("clone"))
        .stderr(terminal)
        .spawn()
        .expect("spawn");
    let mut screen = std::fs::File::from(master);
    let mut keyboard = screen.try_clone().expect("clone");
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 1024];
        // Ends with an error (EIO) once the child has closed the terminal.
        while let Ok(n @ 1..) = screen.read(&mut buffer) {
            if tx.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = String::new();
    let wait_for = |text: &str, shown: &mut String| {
        while !shown.contains(text) {
            let chunk = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no {text:?} on the terminal; it shows {shown:?}"));
            shown.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    let password = "hidden admin passphrase";
    wait_for("New password", &mut shown);
    keyboard
        .write_all(format!("{password}\n").as_bytes())
        .expect("type");
    wait_for("The same again", &mut shown);
    keyboard
        .write_all(format!("{password}\n").as_bytes())
        .expect("type");
    wait_for("created admin root@example.com", &mut shown);
    let status = child.wait().expect("wait");
    assert!(status.success(), "{shown}");
    assert!(
        !shown.contains(password),
        "the password was echoed: {shown:?}"
    );
}

/// blog-svc pointed at the wrong issuer, lazy start or not: a running auth
/// server that calls itself something else, or a path that is not an issuer,
/// is a configuration error that stops start-up with one line saying what to
/// set; only an auth server that is away lets a lazy start go on.
#[tokio::test]
async fn a_wrong_auth_issuer_is_a_configuration_error_not_an_outage() {
    let dir = signet_e2e::shared_tempdir();
    let mut auth = signet_e2e::Service::start(
        "auth-server",
        dir.path(),
        &[(
            "DATABASE_URL",
            format!("sqlite://{}/auth.db", dir.path().display()),
        )],
    );
    auth.wait_ready().await;
    let port = auth.url.rsplit(':').next().expect("port").to_owned();
    let cases = [
        (
            // The same server by another name than its JWT_ISSUER.
            format!("http://localhost:{port}"),
            vec![
                "AUTH_ISSUER: configuration error",
                &auth.url as &str,
                "set AUTH_ISSUER to exactly that",
            ],
        ),
        (
            format!("{}/not-the-issuer", auth.url),
            vec!["AUTH_ISSUER: configuration error", "404"],
        ),
    ];
    for (issuer, expected) in cases {
        let mut blog = signet_e2e::Service::start(
            "blog-svc",
            dir.path(),
            &[
                (
                    "DATABASE_URL",
                    format!("sqlite://{}/blog.db", dir.path().display()),
                ),
                ("AUTH_ISSUER", issuer.clone()),
                ("AUTH_LAZY_START", "true".into()),
            ],
        );
        let status = blog
            .wait_for_exit(std::time::Duration::from_secs(60))
            .await
            .unwrap_or_else(|| panic!("{issuer}: blog-svc kept running: {}", blog.log()));
        assert!(!status.success());
        let log = blog.log();
        let last = log.lines().last().unwrap_or_default();
        assert!(last.starts_with("error: "), "{issuer}: {log}");
        for words in expected {
            assert!(last.contains(words), "{issuer}: {words:?} in {last}");
        }
        assert_eq!(
            log.lines().filter(|l| l.starts_with("error: ")).count(),
            1,
            "{issuer}: {log}"
        );
        assert!(
            !log.contains("keeping the last good key set"),
            "there were never keys: {log}"
        );
    }
}
