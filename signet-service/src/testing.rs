//! Integration-test support shared by the services: every test case runs once
//! on SQLite and once on PostgreSQL.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;

/// Generate every listed `async fn name(backend: Backend)` once per backend.
/// The PostgreSQL copies are `#[ignore]`d (with the reason shown, so they count
/// as ignored, not passed) unless the crate's build script found PostgreSQL
/// ([`tools::postgres_available`]) and set `cfg(signet_postgres)`.
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
                #[cfg_attr(
                    not(signet_postgres),
                    ignore = "needs PostgreSQL: install its server (initdb, pg_ctl) or set TEST_DATABASE_URL"
                )]
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
/// on the [`postgres_admin_url`] server.
///
/// # Panics
/// When PostgreSQL is asked for and cannot be had: a test that cannot get its
/// database must fail, not pass.
pub async fn fresh_database(backend: Backend, dir: &TempDir, prefix: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join(format!("{prefix}.db")).display()
        ),
        Backend::Postgres => {
            let admin_url = postgres_admin_url();
            let name = format!("signet_test_{prefix}_{}", uuid::Uuid::new_v4().simple());
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server: {e}"));
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

/// How this machine's test servers are found (shared with the build scripts).
#[path = "test_tools.rs"]
pub mod tools;

/// A real Chromium for page tests.
#[cfg(feature = "browser")]
#[path = "testing_browser.rs"]
pub mod browser;

/// The PostgreSQL server the PostgreSQL half of the suite creates its
/// databases on: `TEST_DATABASE_URL` (whose role needs `CREATEDB`) when set;
/// otherwise a private cluster this test process starts on first use, in a
/// temporary directory on a free loopback port, and that is stopped and
/// removed when the process ends (however it ends). Nothing to set up.
///
/// # Panics
/// When neither is available (the build script then compiled the
/// PostgreSQL tests as ignored, so this is only reached when asked for).
pub fn postgres_admin_url() -> String {
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        if !url.trim().is_empty() {
            return url;
        }
    }
    static PRIVATE: OnceLock<String> = OnceLock::new();
    PRIVATE
        .get_or_init(|| {
            let server = PrivatePostgres::start();
            let url = server.url();
            server.stop_when_process_exits();
            url
        })
        .clone()
}

/// Check an OpenAPI document (its JSON text) with openapi-spec-validator, a
/// validator this project did not write.
///
/// # Panics
/// When the validator is absent (callers are `#[ignore]`d without it, by the
/// `signet_openapi_validator` cfg) or the document is invalid.
pub fn assert_valid_openapi(document: &str) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, document).unwrap_or_else(|e| panic!("write: {e}"));
    let python = tools::openapi_validator()
        .unwrap_or_else(|| panic!("a python3 with openapi_spec_validator: set OPENAPI_VALIDATOR"));
    let output = Command::new(python)
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("run openapi-spec-validator: {e}"));
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every `in: path` parameter of `document` is a `{name}` of its path, and
/// every `{name}` is declared (a parameter declared `in: path` that is really
/// a query parameter made clients build wrong URLs).
///
/// # Panics
/// On the first operation where they differ.
pub fn assert_path_parameters_match(document: &serde_json::Value) {
    for (path, item) in document["paths"].as_object().expect("paths") {
        let mut want: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        want.sort_unstable();
        for (method, operation) in item.as_object().expect("path item") {
            let mut have: Vec<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().expect("name"))
                .collect();
            have.sort_unstable();
            assert_eq!(have, want, "{method} {path}");
        }
    }
}

/// `GET /docs` of the service at `base`: an HTML page under the strict CSP,
/// with no script and nothing loaded from elsewhere, that lists `operations`
/// (e.g. `"/oauth/token"`), and its stylesheet served by the service itself.
///
/// # Panics
/// On the first thing that is not so.
pub async fn assert_docs_page(base: &str, operations: &[&str]) {
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{base}/docs"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("/docs: {e}"));
    assert_eq!(page.status(), 200);
    let header = |name: &str| {
        page.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        header("content-type").starts_with("text/html"),
        "{}",
        header("content-type")
    );
    let csp = header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("style-src 'self'"),
        "{csp}"
    );
    let html = page.text().await.unwrap_or_else(|e| panic!("body: {e}"));
    assert!(!html.to_ascii_lowercase().contains("<script"), "no script");
    for attribute in ["href=\"", "src=\""] {
        for value in html.split(attribute).skip(1) {
            let target = value.split('"').next().unwrap_or_default();
            assert!(
                target.starts_with('/') && !target.starts_with("//") || target.starts_with('#'),
                "{attribute}{target}\" leaves the service"
            );
        }
    }
    for operation in operations {
        assert!(html.contains(operation), "{operation} missing from /docs");
    }
    let css = http
        .get(format!("{base}/docs/docs.css"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("stylesheet: {e}"));
    assert_eq!(css.status(), 200);
    assert!(css
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/css")));
}

/// Whether this process runs as root (PostgreSQL refuses to; nginx drops privileges).
pub fn running_as_root() -> bool {
    tools::tool_running_as_root()
}

/// One hostile request, written byte for byte (so it can carry what an HTTP
/// client library refuses to send: invalid UTF-8, CR/LF in odd places,
/// duplicate headers), and what the service must answer.
#[derive(Debug, Clone)]
pub struct HostileRequest {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    /// The 4xx status the service must answer with.
    pub status: u16,
    /// Whether the answer must carry a JSON body: false only for requests
    /// that are not HTTP at all, which hyper refuses with a bodiless 400
    /// before any of the service's code runs.
    pub json_body: bool,
}

impl HostileRequest {
    /// A request with `Host`, `Content-Length` and `Connection: close` added.
    pub fn new(
        name: &'static str,
        method: &str,
        target: &str,
        headers: &[(&str, &[u8])],
        body: &[u8],
        status: u16,
    ) -> Self {
        let mut bytes = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n").into_bytes();
        for (name, value) in headers {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value);
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(
            format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        bytes.extend_from_slice(body);
        Self {
            name,
            bytes,
            status,
            json_body: true,
        }
    }

    /// A request with a header name containing a space: not HTTP, so it is
    /// hyper that answers (400, no body), whatever the service.
    pub fn not_http(target: &str) -> Self {
        Self {
            json_body: false,
            ..Self::new(
                "a header name with a space (not HTTP)",
                "GET",
                target,
                &[("Bad Header", b"x")],
                b"",
                400,
            )
        }
    }

    /// A JSON `POST` (the body may be anything: that is the point).
    pub fn post_json(
        name: &'static str,
        target: &str,
        extra_headers: &[(&str, &[u8])],
        body: impl AsRef<[u8]>,
        status: u16,
    ) -> Self {
        let mut headers: Vec<(&str, &[u8])> = vec![("Content-Type", b"application/json")];
        headers.extend_from_slice(extra_headers);
        Self::new(name, "POST", target, &headers, body.as_ref(), status)
    }
}

/// What came back for a [`HostileRequest`].
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// The status line and headers, as received.
    pub head: String,
    pub body: Vec<u8>,
}

/// Send `bytes` on a new connection to `addr` (`127.0.0.1:port`) and read the
/// whole response (the request asks the server to close the connection).
///
/// # Panics
/// When the server does not answer within 10 s or answers something that is
/// not HTTP/1.1.
pub async fn send_raw(addr: &str, bytes: &[u8]) -> RawResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(bytes).await?;
        let mut received = Vec::new();
        stream.read_to_end(&mut received).await?;
        Ok::<_, std::io::Error>(received)
    };
    let received = tokio::time::timeout(std::time::Duration::from_secs(10), exchange)
        .await
        .unwrap_or_else(|_| panic!("no answer within 10 s"))
        .unwrap_or_else(|e| panic!("exchange failed: {e}"));
    let split = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(&received)));
    let head = String::from_utf8_lossy(&received[..split]).into_owned();
    let mut body = received[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head}"));
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    RawResponse { status, head, body }
}

fn dechunk(mut chunked: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(line_end) = chunked.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&chunked[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        let end = (start + size).min(chunked.len());
        body.extend_from_slice(&chunked[start..end]);
        chunked = chunked.get(end + 2..).unwrap_or_default();
    }
    body
}

/// Send every case and check each is answered with its 4xx status and a JSON
/// body (problem+json, or an RFC 6750 error object), and never reflects a
/// header the request tried to inject. Reports every failing case at once.
/// Cases made with [`HostileRequest::not_http`] are checked for their status
/// only.
pub async fn assert_refused(addr: &str, cases: &[HostileRequest]) {
    let mut failures = Vec::new();
    for case in cases {
        let response = send_raw(addr, &case.bytes).await;
        let head = response.head.to_ascii_lowercase();
        let problem = if response.status != case.status {
            Some(format!(
                "status {} (wanted {})",
                response.status, case.status
            ))
        } else if head.contains("injected") {
            Some(format!("an injected header came back: {}", response.head))
        } else if !case.json_body {
            None
        } else if !head.contains("content-type: application/problem+json")
            && !head.contains("content-type: application/json")
        {
            Some(format!("not JSON: {}", response.head))
        } else if serde_json::from_slice::<serde_json::Value>(&response.body).is_err() {
            Some(format!(
                "body is not JSON: {}",
                String::from_utf8_lossy(&response.body)
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            failures.push(format!("{}: {problem}", case.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A port nothing listens on right now (the OS's pick for port 0).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// A directory other users may enter: nginx workers and a `postgres` server
/// started from root need to reach the files the test puts in it.
pub fn shared_tempdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
        .unwrap_or_else(|e| panic!("chmod temp dir: {e}"));
    dir
}

/// Debian's nginx (`NGINX_BIN`) with one of `deploy/nginx/`'s templates,
/// rendered as envsubst would.
pub struct Nginx {
    child: Child,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Render `deploy/nginx/<template>` with `vars` (plus `LISTEN` and
    /// `PREFIX`) and start nginx in the foreground.
    ///
    /// # Panics
    /// When `NGINX_BIN` is unset or nginx does not start listening.
    pub async fn start(template: &str, vars: &[(&str, String)]) -> Self {
        Self::start_at(template, vars, free_port()).await
    }

    /// The same on a port the test chose beforehand (from [`free_port`]),
    /// for configurations that must name nginx's own origin.
    ///
    /// # Panics
    /// As [`Nginx::start`].
    pub async fn start_at(template: &str, vars: &[(&str, String)], port: u16) -> Self {
        let bin = tools::nginx_bin()
            .unwrap_or_else(|| panic!("nginx is not here: install it or set NGINX_BIN"));
        let dir = shared_tempdir();
        let listen = format!("127.0.0.1:{port}");
        let prefix = dir.path().display().to_string();
        let template_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../deploy/nginx")
            .join(template);
        let mut config = std::fs::read_to_string(&template_path)
            .unwrap_or_else(|e| panic!("{}: {e}", template_path.display()));
        for (name, value) in vars
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .chain([("LISTEN", listen.as_str()), ("PREFIX", prefix.as_str())])
        {
            config = config.replace(&format!("${{{name}}}"), value);
        }
        let config_path = dir.path().join("nginx.conf");
        std::fs::write(&config_path, config).unwrap_or_else(|e| panic!("write config: {e}"));
        let mut child = Command::new(bin)
            .args(["-p", &prefix, "-c"])
            .arg(&config_path)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start nginx: {e}"));
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(&listen).await.is_ok() {
                return Self {
                    child,
                    url: format!("http://{listen}"),
                    _dir: dir,
                };
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        let errors = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
        panic!("nginx did not start:\n{errors}");
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The hidden inputs of an HTML page's forms, as a browser would submit
/// them (attribute values unescaped the way askama escapes them).
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let raw = tag[start..].split('"').next()?;
        Some(
            raw.replace("&quot;", "\"")
                .replace("&#34;", "\"")
                .replace("&#x27;", "'")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&#60;", "<")
                .replace("&gt;", ">")
                .replace("&#62;", ">")
                .replace("&amp;", "&")
                .replace("&#38;", "&"),
        )
    };
    html.split("<input")
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .collect()
}

/// An application on a loopback port that answers every request with the
/// identity headers a gateway set (`x-auth-user`, `x-auth-email`,
/// `x-auth-roles`) and the `cookie` header it received, as JSON; its base URL.
pub async fn echo_identity_upstream() -> String {
    async fn echo(headers: axum::http::HeaderMap) -> axum::Json<serde_json::Value> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        axum::Json(serde_json::json!({
            "x-auth-user": get("x-auth-user"),
            "x-auth-email": get("x-auth-email"),
            "x-auth-roles": get("x-auth-roles"),
            "cookie": get("cookie"),
        }))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!(
        "http://{}",
        listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"))
    );
    let app = axum::Router::new().fallback(axum::routing::get(echo));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// A PostgreSQL server of the test's own (initdb into a temporary directory,
/// a free port on 127.0.0.1), so a test can stop and start it without
/// touching the shared server other tests use. Needs PostgreSQL's server
/// binaries (found as [`tools::postgres_bin_dir`] says).
pub struct PrivatePostgres {
    /// `None` once a watcher process owns the server.
    dir: Option<tempfile::TempDir>,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

impl PrivatePostgres {
    /// initdb and start.
    ///
    /// # Panics
    /// When the binaries are absent or the server cannot be created.
    pub fn start() -> Self {
        let bin = tools::postgres_bin_dir().unwrap_or_else(|| {
            panic!("PostgreSQL's server binaries (initdb, pg_ctl) are not here: set PG_BIN_DIR")
        });
        let server = Self {
            dir: Some(shared_tempdir()),
            bin,
            port: free_port(),
            as_postgres_user: running_as_root(),
        };
        let data = server.data_dir();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "signet",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        server.resume();
        server
    }

    fn data_dir(&self) -> String {
        self.root().join("data").display().to_string()
    }

    /// `program` from PG_BIN_DIR, as the `postgres` user when we are root
    /// (the server refuses to run as root).
    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Hand the server to a watcher process that stops it and removes its
    /// directory once this process has exited, for a server shared by a whole
    /// test binary (no destructor runs for a `static`). The watcher has its
    /// own process group, so a Ctrl-C at the terminal still lets it clean up.
    fn stop_when_process_exits(mut self) {
        use std::os::unix::process::CommandExt;
        let stop = self.command("pg_ctl");
        // Kept (not deleted when `self` drops): the watcher removes it.
        let dir = self
            .dir
            .take()
            .map(tempfile::TempDir::keep)
            .unwrap_or_else(|| panic!("the PostgreSQL server already has a watcher"));
        let mut watcher = Command::new("sh");
        watcher
            .arg("-c")
            .arg(
                r#"pid=$1; dir=$2; shift 2
while kill -0 "$pid" 2>/dev/null; do sleep 1; done
"$@" >/dev/null 2>&1
rm -rf "$dir""#,
            )
            .arg("signet-test-postgres-watcher")
            .arg(std::process::id().to_string())
            .arg(&dir)
            .arg(stop.get_program())
            .args(stop.get_args())
            .args([
                "-D",
                &dir.join("data").display().to_string(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        // Never waited for: it outlives this process by design (it waits for
        // this process to end), and init reaps it.
        #[allow(clippy::zombie_processes)]
        let _watcher = watcher
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the PostgreSQL watcher: {e}"));
    }

    /// The server's directory (data, socket, log).
    fn root(&self) -> &Path {
        self.dir
            .as_ref()
            .map(tempfile::TempDir::path)
            .unwrap_or_else(|| panic!("the PostgreSQL server is owned by its watcher"))
    }

    /// Start (again), waiting until it accepts connections.
    pub fn resume(&self) {
        let socket_dir = self.root().display().to_string();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={socket_dir} -c fsync=off",
            self.port
        );
        let log = self.root().join("postgres.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// Stop with `-m fast`: open sessions are ended, as when an operator
    /// restarts the server or it fails over.
    pub fn halt(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "fast", "-w", "stop"],
        );
    }

    /// A URL for the server's `postgres` database as the `signet` superuser.
    pub fn url(&self) -> String {
        format!("postgres://signet@127.0.0.1:{}/postgres", self.port)
    }

    /// A URL for `database` as `role`.
    pub fn url_as(&self, role: &str, database: &str) -> String {
        format!("postgres://{role}@127.0.0.1:{}/{database}", self.port)
    }

    /// Run `script` (a shell script that calls `psql`, as the compose image's
    /// init scripts do) against this server as the `signet` superuser.
    pub fn run_init_script(&self, script: &Path, env: &[(&str, String)]) -> Output {
        let mut command = Command::new("sh");
        command
            .arg(script)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("PGHOST", "127.0.0.1")
            .env("PGPORT", self.port.to_string())
            .env("POSTGRES_USER", "signet")
            .env("POSTGRES_DB", "postgres");
        for (name, value) in env {
            command.env(name, value);
        }
        command
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()))
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        if self.dir.is_none() {
            return; // the watcher stops it
        }
        let data = self.data_dir();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// One message an [`SmtpSink`] received: the envelope and the whole DATA.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-unstuffed), with CRLF line ends.
    pub data: String,
}

impl ReceivedMail {
    /// A header's value (the first of that name), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = value.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if value.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                if n.eq_ignore_ascii_case(name) {
                    value = Some(v.trim().to_owned());
                }
            }
        }
        value
    }

    /// The `Subject`, its RFC 2047 encoded words (`=?utf-8?b?…?=`, as a
    /// mailer writes text that is not ASCII) decoded.
    pub fn subject(&self) -> Option<String> {
        use base64::Engine as _;
        let raw = self.header("Subject")?;
        let mut out = String::new();
        for word in raw.split_whitespace() {
            let decoded = word
                .strip_prefix("=?")
                .and_then(|w| w.strip_suffix("?="))
                .and_then(|w| {
                    let mut parts = w.splitn(3, '?');
                    let (_charset, encoding, text) = (parts.next()?, parts.next()?, parts.next()?);
                    let bytes = match encoding {
                        "b" | "B" => base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .ok()?,
                        "q" | "Q" => {
                            let text = text.replace('_', " ");
                            let mut bytes = Vec::new();
                            let mut rest = text.as_bytes();
                            while let Some((&first, tail)) = rest.split_first() {
                                if first == b'=' && tail.len() >= 2 {
                                    let hex = std::str::from_utf8(&tail[..2]).ok()?;
                                    bytes.push(u8::from_str_radix(hex, 16).ok()?);
                                    rest = &tail[2..];
                                } else {
                                    bytes.push(first);
                                    rest = tail;
                                }
                            }
                            bytes
                        }
                        _ => return None,
                    };
                    String::from_utf8(bytes).ok()
                });
            match decoded {
                // Adjacent encoded words join without the space between.
                Some(text) => out.push_str(&text),
                None => {
                    if !out.is_empty() {
                        out.push(' ');
                    }
                    out.push_str(word);
                }
            }
        }
        Some(out)
    }

    /// The body, with quoted-printable soft line breaks and `=XX` undone.
    pub fn body(&self) -> String {
        let raw = self.data.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        let quoted = self
            .header("Content-Transfer-Encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("quoted-printable"));
        if !quoted {
            return raw.replace("\r\n", "\n");
        }
        let joined = raw.replace("=\r\n", "");
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    out.push(high * 16 + low);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).replace("\r\n", "\n")
    }
}

/// An SMTP server on a loopback port that accepts every message (a real
/// SMTP conversation: greeting, EHLO, MAIL, RCPT, DATA, QUIT; no TLS, no
/// AUTH) and keeps what it received, for tests of outgoing mail.
pub struct SmtpSink {
    pub addr: std::net::SocketAddr,
    received: std::sync::Arc<std::sync::Mutex<Vec<ReceivedMail>>>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// On `addr` (to come back on the port of a sink that was stopped).
    pub async fn start_on(addr: &str) -> Self {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("bind the SMTP sink: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("address: {e}"));
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = smtp_session(stream, store).await;
                });
            }
        });
        Self {
            addr,
            received,
            task,
        }
    }

    /// `smtp://127.0.0.1:PORT`, for `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The messages to `to`, waiting (up to 10 s) until there are at least
    /// `count`; panics with what arrived otherwise.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<ReceivedMail> {
        for _ in 0..1000 {
            let mine: Vec<ReceivedMail> = self
                .received()
                .into_iter()
                .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
                .collect();
            if mine.len() >= count {
                return mine;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!(
            "expected {count} mail(s) to {to}; the sink has {:?}",
            self.received()
                .iter()
                .map(|m| (m.to.clone(), m.header("Subject")))
                .collect::<Vec<_>>()
        );
    }

    /// Stop listening (connections refused from now on); the address, to
    /// start a sink there again.
    pub async fn stop(self) -> std::net::SocketAddr {
        self.task.abort();
        let _ = self.task.await;
        self.addr
    }
}

async fn smtp_session(
    stream: tokio::net::TcpStream,
    store: std::sync::Arc<std::sync::Mutex<Vec<ReceivedMail>>>,
) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            write
                .write_all(b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                .await?;
        } else if upper.starts_with("MAIL FROM:") {
            from = command[10..].trim().trim_matches(['<', '>']).to_owned();
            to.clear();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            to.push(command[8..].trim().trim_matches(['<', '>']).to_owned());
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 end with .\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(unstuffed);
            }
            if let Ok(mut received) = store.lock() {
                received.push(ReceivedMail {
                    from: from.clone(),
                    to: to.clone(),
                    data,
                });
            }
            write.write_all(b"250 OK queued\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            write.write_all(b"250 OK\r\n").await?;
        } else {
            write.write_all(b"502 not implemented\r\n").await?;
        }
    }
}
