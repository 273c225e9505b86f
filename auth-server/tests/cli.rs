//! The binary itself: configuration errors, subcommands, key handling.

use std::io::Write;
use std::process::{Command, Stdio};

fn auth_server(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auth-server"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("ARGON2_MEMORY_KIB", "4096")
        .env("ARGON2_ITERATIONS", "1");
    command
}

#[test]
fn a_bad_value_fails_start_with_one_line_naming_the_variable() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (variable, value) in [
        ("ACCESS_TOKEN_TTL", "0"),
        ("DATABASE_URL", "mysql://nope"),
        ("JWT_ISSUER", "::not a url::"),
        ("JWT_PRIVATE_KEY_FILE", "/nonexistent/key.pem"),
        (
            "JWT_PRIVATE_KEY",
            "-----BEGIN PRIVATE KEY-----\\nnot a key\\n-----END PRIVATE KEY-----",
        ),
    ] {
        let output = auth_server(dir.path())
            .arg("serve")
            .env(variable, value)
            .output()
            .expect("run");
        assert!(!output.status.success(), "{variable}={value} must fail");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(variable), "{variable}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            !stderr.contains("not a key"),
            "the key material is not echoed: {stderr}"
        );
    }
}

#[test]
fn keys_generate_then_list_shows_the_new_key_as_active() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = auth_server(dir.path())
        .args(["keys", "generate"])
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated = String::from_utf8_lossy(&output.stdout).to_string();
    let kid = generated.trim().rsplit(' ').next().expect("kid").to_owned();
    let output = auth_server(dir.path())
        .args(["keys", "list"])
        .output()
        .expect("run");
    let listing = String::from_utf8_lossy(&output.stdout);
    assert!(
        listing.contains(&kid) && listing.contains("active"),
        "{listing}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = std::fs::read_dir(dir.path().join("keys"))
            .expect("keys")
            .next()
            .expect("one")
            .expect("entry");
        assert_eq!(
            key.metadata().expect("meta").permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn create_admin_reads_the_password_from_stdin_never_argv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = auth_server(dir.path())
        .args(["users", "create-admin", "--email", "Root@Example.com"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a long admin passphrase\n")
        .expect("write");
    let output = child.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("created admin root@example.com"));
    assert!(
        dir.path().join("data/auth.db").exists(),
        "default SQLite database created"
    );

    let again = auth_server(dir.path())
        .args(["users", "create-admin", "--email", "root@example.com"])
        .env("ADMIN_PASSWORD", "a long admin passphrase")
        .output()
        .expect("run");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn reset_mfa_removes_a_users_second_factors_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let created = auth_server(dir.path())
        .args(["users", "create-admin", "--email", "lost@example.com"])
        .env("ADMIN_PASSWORD", "a long admin passphrase")
        .output()
        .expect("run");
    assert!(created.status.success());
    let reset = auth_server(dir.path())
        .args(["users", "reset-mfa", "--email", "Lost@Example.com"])
        .output()
        .expect("run");
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let said = String::from_utf8_lossy(&reset.stdout);
    assert!(
        said.contains("second factors of lost@example.com") && said.contains("0 passkeys"),
        "{said}"
    );
    let unknown = auth_server(dir.path())
        .args(["users", "reset-mfa", "--email", "nobody@example.com"])
        .output()
        .expect("run");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user with the email"));
}

#[test]
fn api_keys_can_be_created_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = auth_server(dir.path())
        .args([
            "api-keys",
            "create",
            "--name",
            "scraper",
            "--scopes",
            "posts:write,posts:read",
        ])
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let key = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        key.starts_with("sgn_") && key.lines().count() == 1,
        "stdout is the key alone: {key}"
    );
    let client_id = jwt_verify::api_key_client_id(&key)
        .expect("well-formed key")
        .to_owned();

    let listing = auth_server(dir.path())
        .args(["api-keys", "list"])
        .output()
        .expect("run");
    let listing = String::from_utf8_lossy(&listing.stdout).to_string();
    assert!(
        listing.contains(&client_id) && listing.contains("active"),
        "{listing}"
    );
    assert!(!listing.contains(&key), "the secret is never listed");

    let revoked = auth_server(dir.path())
        .args(["api-keys", "revoke", &client_id])
        .output()
        .expect("run");
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let listing = auth_server(dir.path())
        .args(["api-keys", "list"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&listing.stdout).contains("revoked"));
    let missing = auth_server(dir.path())
        .args(["api-keys", "revoke", "sgn_nope"])
        .output()
        .expect("run");
    assert!(!missing.status.success());
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let mut child = auth_server(dir.path())
        .arg("serve")
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let up = (0..150).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    if !up {
        let _ = child.kill();
        let _ = child.wait();
        panic!("auth-server did not start listening");
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "exit status {:?}", output.status);
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(
        log.contains("shutdown requested") && log.contains("auth-server stopped"),
        "{log}"
    );
}

#[test]
fn clients_are_registered_listed_and_deleted_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let output = auth_server(dir.path()).args(args).output().expect("run");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let confidential: serde_json::Value = serde_json::from_str(&run(&[
        "clients",
        "create",
        "--name",
        "Blog",
        "--redirect-uri",
        "http://127.0.0.1:8081/auth/callback",
        "--post-logout-redirect-uri",
        "http://127.0.0.1:8081/",
        "--first-party",
    ]))
    .expect("stdout is one JSON object");
    let client_id = confidential["client_id"].as_str().expect("client_id");
    assert!(confidential["client_secret"]
        .as_str()
        .is_some_and(|s| s.starts_with("sgcs_")));
    let public: serde_json::Value = serde_json::from_str(&run(&[
        "clients",
        "create",
        "--name",
        "CLI tool",
        "--public",
        "--redirect-uri",
        "http://127.0.0.1:53682/",
        "--scopes",
        "openid,email",
    ]))
    .expect("json");
    assert!(public.get("client_secret").is_none(), "{public}");

    let listed = run(&["clients", "list"]);
    assert_eq!(listed.lines().count(), 2, "{listed}");
    assert!(
        listed.contains(client_id) && !listed.contains("sgcs_"),
        "{listed}"
    );

    let refused = auth_server(dir.path())
        .args([
            "clients",
            "create",
            "--name",
            "Bad",
            "--redirect-uri",
            "http://example.com/cb",
        ])
        .output()
        .expect("run");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("redirect_uris") && stderr.contains("loopback"),
        "{stderr}"
    );

    run(&["clients", "delete", client_id]);
    let again = auth_server(dir.path())
        .args(["clients", "delete", client_id])
        .output()
        .expect("run");
    assert!(!again.status.success());
    assert_eq!(run(&["clients", "list"]).lines().count(), 1);
}

#[test]
fn a_compromised_key_file_is_announced_and_an_unknown_kid_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = auth_server(dir.path())
        .args(["keys", "generate"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let kid = String::from_utf8_lossy(&output.stdout)
        .trim()
        .rsplit(' ')
        .next()
        .expect("kid")
        .to_owned();
    let unknown = auth_server(dir.path())
        .args(["keys", "compromise", "no-such-kid"])
        .output()
        .expect("run");
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no key no-such-kid"));
    // A thumbprint may start with '-' (one kid in 64): a kid, not a flag.
    let hyphen = auth_server(dir.path())
        .args(["keys", "compromise", "-8no-such-kid"])
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&hyphen.stderr).contains("no key -8no-such-kid"),
        "{}",
        String::from_utf8_lossy(&hyphen.stderr)
    );
    let output = auth_server(dir.path())
        .args(["keys", "compromise", &kid])
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        said.contains("announced") && said.contains(".pem"),
        "{said}"
    );
}

#[test]
fn upstream_list_prints_each_provider_with_the_redirect_uri_to_register() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Nothing listens there: discovery is reported unavailable, not fatal.
    let down = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let issuer = format!("http://{}", down.local_addr().expect("addr"));
    drop(down);
    let output = auth_server(dir.path())
        .args(["upstream", "list"])
        .env("JWT_ISSUER", "https://auth.example.com")
        .env("UPSTREAM_PROVIDERS", "corp")
        .env("UPSTREAM_CORP_ISSUER", &issuer)
        .env("UPSTREAM_CORP_CLIENT_ID", "signet")
        .env("UPSTREAM_CORP_CLIENT_SECRET", "a-hidden-secret")
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("a-hidden-secret"), "{stdout}");
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(
        line["redirect_uri"],
        "https://auth.example.com/oauth/upstream/corp/callback"
    );
    assert_eq!(line["display_name"], "Corp");
    assert!(line["discovery"]
        .as_str()
        .is_some_and(|d| d.starts_with("unavailable")));

    // Half-configured: one line naming the variable, at once.
    let output = auth_server(dir.path())
        .args(["upstream", "list"])
        .env("UPSTREAM_PROVIDERS", "corp")
        .env("UPSTREAM_CORP_ISSUER", &issuer)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("UPSTREAM_CORP_CLIENT_ID"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}
