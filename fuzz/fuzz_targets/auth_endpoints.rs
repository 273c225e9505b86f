//! Fuzzed request bodies and credentials against auth-server's public
//! endpoints (the real router, on a real SQLite database in a temporary
//! directory): every answer is a 2xx or a 4xx, never a 5xx, and never a panic.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt as _;

struct Server {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("dir");
        let vars = [
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            (
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join("auth.db").display()),
            ),
            ("KEYS_DIR", dir.path().join("keys").display().to_string()),
            ("ARGON2_MEMORY_KIB", "64".to_owned()),
            ("ARGON2_ITERATIONS", "1".to_owned()),
            ("RATE_LIMIT_LOGIN_PER_IP", "1000000000/1s".to_owned()),
            ("RATE_LIMIT_SIGNUP_PER_IP", "1000000000/1s".to_owned()),
            ("RATE_LIMIT_TOKEN_PER_IP", "1000000000/1s".to_owned()),
            ("PASSWORD_HASH_QUEUE_PER_CLIENT", "1000000".to_owned()),
            ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ];
        let config = auth_server::config::Config::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        })
        .expect("config");
        let application = runtime
            .block_on(auth_server::Application::build(config))
            .expect("auth-server");
        let router = auth_server::app(application.state().clone());
        Server {
            runtime,
            router,
            _dir: dir,
        }
    })
}

fuzz_target!(|input: (u8, &[u8])| {
    let (endpoint, data) = input;
    let server = server();
    let mut request = match endpoint % 5 {
        0 => Request::post("/api/v1/users")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(data.to_vec())),
        1 => Request::post("/api/v1/auth/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(data.to_vec())),
        2 => Request::post("/oauth/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(data.to_vec())),
        3 => match header::HeaderValue::from_bytes(data) {
            Ok(value) => Request::post("/api/v1/auth/login")
                .header(header::AUTHORIZATION, value)
                .body(Body::empty()),
            Err(_) => return,
        },
        _ => match header::HeaderValue::from_bytes(data) {
            Ok(value) => Request::get("/api/v1/auth/verify")
                .header(header::AUTHORIZATION, value)
                .body(Body::empty()),
            Err(_) => return,
        },
    }
    .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let response = server
        .runtime
        .block_on(server.router.clone().oneshot(request))
        .expect("infallible");
    assert!(
        !response.status().is_server_error(),
        "{} for endpoint {} and input {:?}",
        response.status(),
        endpoint % 5,
        String::from_utf8_lossy(data)
    );
});
