//! Test support for running Signet as an operator would: each service is its
//! real binary in its own process, configured through the environment, on a
//! 127.0.0.1 port; PostgreSQL and nginx are Debian's, started privately.
//!
//! The binaries are the ones `cargo test --workspace` builds next to this
//! crate's test executables (`target/<profile>/auth-server`, …). Running this
//! crate's tests alone needs `cargo build --workspace --bins` first.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub use signet_service::testing::{
    free_port, fresh_database, running_as_root, shared_tempdir, Backend, Nginx, PrivatePostgres,
};

/// The password every test user gets: long enough for the password policy.
pub const PASSWORD: &str = "correct horse battery staple";

/// Where the workspace's binary `name` was built for this test run.
///
/// # Panics
/// When it has not been built: a test without its binary must fail loudly.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current exe: {e}"));
    // target/<profile>/deps/<test-binary> → target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("unexpected test binary location {}", exe.display()));
    let path = profile_dir.join(name);
    assert!(
        path.exists(),
        "{} is not built: `cargo test --workspace` builds it, or run `cargo build --workspace --bins`",
        path.display()
    );
    path
}

/// `name` (a workspace binary) in `work_dir` with exactly `env`, plus PATH
/// and JSON logs (one object per line, so tests can search them reliably).
fn service_command(name: &str, work_dir: &Path, env: &[(String, String)]) -> Command {
    let mut command = Command::new(binary(name));
    command
        .current_dir(work_dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LOG_FORMAT", "json")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    command
}

fn run_to_success(mut command: Command, name: &str, args: &[&str]) -> Output {
    let output = command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name} {args:?}: {e}"));
    assert!(
        output.status.success(),
        "{name} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Run a one-off command of binary `name` (`keys generate`, `migrate`, …)
/// with exactly `env`, as an operator would before starting the servers.
pub fn run_command(name: &str, work_dir: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    run_to_success(service_command(name, work_dir, &env), name, args)
}

/// One of the workspace's services running as its own process.
pub struct Service {
    name: &'static str,
    /// `http://127.0.0.1:<port>`, the same across restarts.
    pub url: String,
    port: u16,
    env: Vec<(String, String)>,
    work_dir: PathBuf,
    log_path: PathBuf,
    child: Option<Child>,
}

impl Service {
    /// Start `name` (a workspace binary) in `work_dir` with exactly `env`
    /// (plus PATH and BIND_ADDR on a free loopback port). Its stdout and
    /// stderr go to `<work_dir>/<name>.log`, kept across restarts.
    pub fn start(name: &'static str, work_dir: &Path, env: &[(&str, String)]) -> Self {
        Self::start_on(name, free_port(), work_dir, env)
    }

    /// Like [`Service::start`], on a port chosen by the caller (so other
    /// services' configuration can name it first).
    pub fn start_on(
        name: &'static str,
        port: u16,
        work_dir: &Path,
        env: &[(&str, String)],
    ) -> Self {
        let mut service = Self {
            name,
            url: format!("http://127.0.0.1:{port}"),
            port,
            env: env
                .iter()
                .map(|(key, value)| ((*key).to_owned(), value.clone()))
                .collect(),
            work_dir: work_dir.to_owned(),
            log_path: work_dir.join(format!("{name}-{port}.log")),
            child: None,
        };
        service.spawn();
        service
    }

    fn command(&self) -> Command {
        let mut command = service_command(self.name, &self.work_dir, &self.env);
        command.env("BIND_ADDR", format!("127.0.0.1:{}", self.port));
        command.env("METRICS_ADDR", "127.0.0.1:0");
        command
    }

    fn spawn(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .unwrap_or_else(|e| panic!("log file: {e}"));
        let log_err = log.try_clone().unwrap_or_else(|e| panic!("log file: {e}"));
        let child = self
            .command()
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.name));
        self.child = Some(child);
    }

    /// Run the same binary with the same environment as a one-off command
    /// (`keys rotate`, `api-keys create`, …), as an operator would.
    pub fn run(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let mut command = self.command();
        command.envs(extra_env.iter().copied());
        run_to_success(command, self.name, args)
    }

    /// Wait until `/readyz` answers 200.
    ///
    /// # Panics
    /// After 60 s, or when the process has exited, with its log.
    pub async fn wait_ready(&mut self) {
        self.wait_for("/readyz").await;
    }

    /// Wait until `/healthz` answers: started and migrated, whether or not
    /// its dependencies (the auth server's keys) are there yet.
    pub async fn wait_live(&mut self) {
        self.wait_for("/healthz").await;
    }

    async fn wait_for(&mut self, path: &str) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("{} exited with {status}:\n{}", self.name, self.log());
            }
            let ready = http
                .get(format!("{}{path}", self.url))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} never became ready:\n{}", self.name, self.log());
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM: ask for a graceful shutdown.
    pub fn terminate(&self) {
        let child = self
            .child
            .as_ref()
            .unwrap_or_else(|| panic!("{} is not running", self.name));
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("kill -TERM: {e}"));
        assert!(status.success(), "kill -TERM failed");
    }

    /// Wait for the process to exit; `None` when it is still running after `limit`.
    pub async fn wait_for_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            let child = self.child.as_mut()?;
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Start the process again on the same port with the same environment.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Everything the process (and its earlier runs) wrote.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The log lines at ERROR level (each 5xx is logged once, at ERROR, by
    /// the layer that builds it).
    pub fn errors_logged(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|line| line.contains(r#""level":"ERROR""#))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh base64 `KEY_ENCRYPTION_KEY`, as `openssl rand -base64 32` makes.
pub fn key_encryption_key() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut key = [0_u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    base64::engine::general_purpose::STANDARD.encode(key)
}

/// auth-server settings for tests: cheap Argon2 (the defaults cost ~19 MiB and
/// tens of milliseconds per hash, which adds nothing to what these tests
/// prove) and per-IP rate limits that every test client, all on 127.0.0.1,
/// would otherwise share and exhaust.
pub fn test_tuning() -> [(&'static str, String); 7] {
    [
        ("PASSWORD_HASH_QUEUE_PER_CLIENT", "100000".to_owned()),
        ("ARGON2_MEMORY_KIB", "4096".to_owned()),
        // User tokens may write blog posts (blog-svc requires posts:write).
        (
            "USER_TOKEN_SCOPE",
            "openid profile email posts:write".to_owned(),
        ),
        ("ARGON2_ITERATIONS", "1".to_owned()),
        ("RATE_LIMIT_LOGIN_PER_IP", "100000/1m".to_owned()),
        ("RATE_LIMIT_SIGNUP_PER_IP", "100000/1m".to_owned()),
        ("RATE_LIMIT_TOKEN_PER_IP", "100000/1m".to_owned()),
    ]
}

/// The JSON body of `response`, or a panic that shows what came instead.
pub async fn json_body(response: reqwest::Response) -> Value {
    let status = response.status();
    let text = response
        .text()
        .await
        .unwrap_or_else(|e| panic!("body: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"))
}

/// Sign up `email` on the auth-server at `auth` and return the status.
pub async fn sign_up(http: &reqwest::Client, auth: &str, email: &str) -> reqwest::StatusCode {
    http.post(format!("{auth}/api/v1/users"))
        .json(&json!({ "email": email, "password": PASSWORD, "display_name": email.split('@').next() }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("sign up: {e}"))
        .status()
}

/// auth-server's own account API audience (its default `ACCOUNT_AUDIENCE`).
pub const ACCOUNT_AUDIENCE: &str = "signet-account";

/// Log `email` in at `auth` for the services (the default audience); the
/// token response, or a panic with the error.
pub async fn log_in(http: &reqwest::Client, auth: &str, email: &str) -> Value {
    log_in_for(http, auth, email, None).await
}

/// Log `email` in for `audience` (e.g. [`ACCOUNT_AUDIENCE`] to call `/users/me`).
pub async fn log_in_for(
    http: &reqwest::Client,
    auth: &str,
    email: &str,
    audience: Option<&str>,
) -> Value {
    let mut body = json!({ "email": email, "password": PASSWORD });
    if let Some(audience) = audience {
        body["audience"] = json!(audience);
    }
    let response = http
        .post(format!("{auth}/api/v1/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("login: {e}"));
    assert_eq!(
        response.status(),
        reqwest::StatusCode::OK,
        "login of {email}"
    );
    json_body(response).await
}

/// The `kid` in a compact JWS's header.
pub fn kid_of(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap_or_else(|e| panic!("token header: {e}"));
    let header: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("header: {e}"));
    header["kid"].as_str().unwrap_or_default().to_owned()
}

/// auth-server on a fresh `backend` database with keys under `dir`, the
/// test tuning and `extra` variables, ready, with an admin
/// `root@example.com` (password [`PASSWORD`]) made by the CLI.
pub async fn auth_with_admin(
    backend: Backend,
    dir: &tempfile::TempDir,
    extra: &[(&'static str, String)],
) -> Service {
    let mut env = vec![
        ("DATABASE_URL", fresh_database(backend, dir, "auth").await),
        ("KEYS_DIR", dir.path().join("keys").display().to_string()),
    ];
    env.extend(test_tuning());
    env.extend_from_slice(extra);
    let mut auth = Service::start("auth-server", dir.path(), &env);
    auth.wait_ready().await;
    auth.run(
        &["users", "create-admin", "--email", "root@example.com"],
        &[("ADMIN_PASSWORD", PASSWORD)],
    );
    auth
}

/// An API key with scope `events:read` for following `auth`'s
/// security-event feed, created with the CLI as an operator would.
pub fn events_api_key(auth: &Service) -> String {
    api_key(auth, "verifiers", "events:read", &[])
}

/// An API key made with `auth-server api-keys create` (`extra`: more flags,
/// e.g. `--dpop required`), as an operator would; the key it prints once.
pub fn api_key(auth: &Service, name: &str, scopes: &str, extra: &[&str]) -> String {
    let mut args = vec!["api-keys", "create", "--name", name, "--scopes", scopes];
    args.extend_from_slice(extra);
    let output = auth.run(&args, &[]);
    String::from_utf8(output.stdout)
        .unwrap_or_else(|e| panic!("api-keys create printed non-UTF-8: {e}"))
        .trim()
        .to_owned()
}

/// An RSS feed (`feed`) served on loopback at `/feed.xml`; its base URL.
pub async fn feed_server(feed: &'static str) -> String {
    use axum::response::IntoResponse as _;
    let app = axum::Router::new().route(
        "/feed.xml",
        axum::routing::get(move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/rss+xml")],
                feed,
            )
                .into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!(
        "http://{}",
        listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"))
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Titles of every post on the blog at `blog`, with how often each appears.
pub async fn post_titles(
    http: &reqwest::Client,
    blog: &str,
) -> std::collections::HashMap<String, usize> {
    let mut titles = std::collections::HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{blog}/api/v1/posts?limit=100");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let response = http
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("list posts: {e}"));
        let page = json_body(response).await;
        for post in page["items"].as_array().into_iter().flatten() {
            *titles
                .entry(post["title"].as_str().unwrap_or_default().to_owned())
                .or_insert(0) += 1;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return titles,
        }
    }
}

/// What blog-svc at `blog` says of `token` on a protected route: a PATCH of
/// a post that does not exist is 404 for an accepted token, 401 for a
/// refused one (nothing is written either way).
pub async fn blog_answer(http: &reqwest::Client, blog: &str, token: &str) -> reqwest::StatusCode {
    http.patch(format!(
        "{blog}/api/v1/posts/01890000-0000-7000-8000-000000000000"
    ))
    .bearer_auth(token)
    .json(&json!({ "title": "x" }))
    .send()
    .await
    .unwrap_or_else(|e| panic!("blog: {e}"))
    .status()
}
