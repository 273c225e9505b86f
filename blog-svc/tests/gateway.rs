//! blog-svc behind a real nginx (Debian's, from `NGINX_BIN`) using the
//! deploy/nginx template, with `auth_request` to a real auth-server.

use std::collections::HashMap;

use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use reqwest::StatusCode;
use serde_json::{json, Value};
use signet_service::testing::Nginx;

/// Render deploy/nginx/nginx.conf.template as envsubst would, and start nginx.
async fn start_nginx(auth: &str, upstream: &str) -> Nginx {
    Nginx::start(
        "nginx.conf.template",
        &[
            (
                "AUTH_UPSTREAM",
                auth.trim_start_matches("http://").to_owned(),
            ),
            (
                "BLOG_UPSTREAM",
                upstream.trim_start_matches("http://").to_owned(),
            ),
        ],
    )
    .await
}

async fn auth_server_with_user() -> (String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let vars: HashMap<&str, String> = HashMap::from([
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("auth.db").display()),
        ),
        ("KEYS_DIR", dir.path().join("keys").display().to_string()),
        ("ARGON2_MEMORY_KIB", "4096".to_owned()),
        ("ARGON2_ITERATIONS", "1".to_owned()),
    ]);
    let config =
        auth_server::config::Config::from_lookup(|n| vars.get(n).cloned()).expect("config");
    let app = auth_server::Application::build(config)
        .await
        .expect("auth-server");
    let auth = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let http = reqwest::Client::new();
    let signup = http
        .post(format!("{auth}/api/v1/users"))
        .json(&json!({ "email": "gw@example.com", "password": "correct horse battery staple" }))
        .send()
        .await
        .expect("signup");
    assert_eq!(signup.status(), StatusCode::CREATED);
    let login: Value = http
        .post(format!("{auth}/api/v1/auth/login"))
        .json(&json!({ "email": "gw@example.com", "password": "correct horse battery staple" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    (
        auth,
        login["access_token"].as_str().expect("token").to_owned(),
        dir,
    )
}

/// An upstream that reports the identity headers it received.
async fn echo_upstream() -> String {
    async fn echo(headers: HeaderMap) -> Json<Value> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Json(
            json!({ "x-auth-user": get("x-auth-user"), "x-auth-email": get("x-auth-email"), "x-auth-roles": get("x-auth-roles") }),
        )
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, Router::new().fallback(get(echo))).await });
    url
}

#[tokio::test]
#[cfg_attr(
    not(signet_nginx),
    ignore = "needs nginx: set NGINX_BIN (the CI installs Debian's nginx)"
)]
async fn the_gateway_refuses_anonymous_requests_and_passes_the_verified_user_upstream() {
    let (auth, token, _auth_dir) = auth_server_with_user().await;
    let upstream = echo_upstream().await;
    let nginx = start_nginx(&auth, &upstream).await;
    let http = reqwest::Client::new();

    let anonymous = http
        .get(format!("{}/api/v1/posts", nginx.url))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"signet\""
    );

    let forged = http
        .get(format!("{}/api/v1/posts", nginx.url))
        .bearer_auth(format!("{token}x"))
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert!(forged.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .contains("invalid_token"));

    let response = http
        .get(format!("{}/anything", nginx.url))
        .bearer_auth(&token)
        .header("x-auth-user", "spoofed-admin")
        .header("x-auth-roles", "admin")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let seen: Value = response.json().await.expect("json");
    let user = seen["x-auth-user"]
        .as_str()
        .expect("the upstream sees X-Auth-User");
    assert!(
        uuid::Uuid::parse_str(user).is_ok(),
        "the verified sub, not the client's: {user}"
    );
    assert_eq!(seen["x-auth-email"], "gw@example.com");
    assert!(
        seen["x-auth-roles"].is_null(),
        "the client's X-Auth-Roles is dropped: {seen}"
    );
}

#[tokio::test]
#[cfg_attr(
    not(signet_nginx),
    ignore = "needs nginx: set NGINX_BIN (the CI installs Debian's nginx)"
)]
async fn blog_svc_serves_through_the_gateway_with_a_valid_token() {
    let (auth, token, _auth_dir) = auth_server_with_user().await;
    let blog_dir = tempfile::tempdir().expect("dir");
    let vars: HashMap<&str, String> = HashMap::from([
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            format!(
                "sqlite://{}?mode=rwc",
                blog_dir.path().join("blog.db").display()
            ),
        ),
        ("AUTH_ISSUER", auth.clone()),
    ]);
    let blog = blog_svc::Application::build(
        blog_svc::config::Config::from_lookup(|n| vars.get(n).cloned()).expect("config"),
    )
    .await
    .expect("blog-svc");
    let blog_url = format!("http://{}", blog.local_addr());
    tokio::spawn(blog.run_until(std::future::pending()));
    let nginx = start_nginx(&auth, &blog_url).await;
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{}/api/v1/posts", nginx.url))
        .bearer_auth(&token)
        .json(&json!({ "title": "Through the gateway", "body": "nginx -> auth_request -> blog" }))
        .send()
        .await
        .expect("post");
    assert_eq!(created.status(), StatusCode::CREATED);
    let listing: Value = http
        .get(format!("{}/api/v1/posts", nginx.url))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listing["items"][0]["title"], "Through the gateway");
    assert_eq!(
        http.get(format!("{}/api/v1/posts", nginx.url))
            .send()
            .await
            .expect("r")
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
