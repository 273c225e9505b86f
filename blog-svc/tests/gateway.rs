//! blog-svc behind a real nginx (Debian's, from `NGINX_BIN`) using the
//! deploy/nginx template, with `auth_request` to a real auth-server.

use std::collections::HashMap;

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
    auth_server_with_user_and(&[]).await
}

async fn auth_server_with_user_and(
    extra: &[(&'static str, String)],
) -> (String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("auth.db").display()),
        ),
        ("KEYS_DIR", dir.path().join("keys").display().to_string()),
        ("ARGON2_MEMORY_KIB", "4096".to_owned()),
        // Mail as .eml files in the test's own folder.
        (
            "MAIL_OUTBOX_DIR",
            dir.path().join("outbox").display().to_string(),
        ),
        // User tokens may write blog posts (blog-svc requires posts:write).
        (
            "USER_TOKEN_SCOPE",
            "openid profile email posts:write".to_owned(),
        ),
        ("ARGON2_ITERATIONS", "1".to_owned()),
    ]);
    vars.extend(extra.iter().cloned());
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
    assert_eq!(signup.status(), StatusCode::ACCEPTED);
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

#[tokio::test]
#[cfg_attr(
    not(signet_nginx),
    ignore = "needs nginx: install it (Debian: nginx) or set NGINX_BIN"
)]
async fn the_gateway_refuses_anonymous_requests_and_passes_the_verified_user_upstream() {
    let (auth, token, _auth_dir) = auth_server_with_user().await;
    let upstream = signet_service::testing::echo_identity_upstream().await;
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
    ignore = "needs nginx: install it (Debian: nginx) or set NGINX_BIN"
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

#[tokio::test]
#[cfg_attr(
    not(signet_nginx),
    ignore = "needs nginx: install it (Debian: nginx) or set NGINX_BIN"
)]
async fn a_browser_signs_in_through_the_gateway_and_reaches_the_application() {
    let port = signet_service::testing::free_port();
    let site = format!("http://127.0.0.1:{port}");
    let (auth, _, _auth_dir) =
        auth_server_with_user_and(&[("GATEWAY_PROTECTED_ORIGINS", site.clone())]).await;
    let upstream = signet_service::testing::echo_identity_upstream().await;
    let nginx = Nginx::start_at(
        "browser-gateway.conf.template",
        &[
            (
                "AUTH_UPSTREAM",
                auth.trim_start_matches("http://").to_owned(),
            ),
            (
                "APP_UPSTREAM",
                upstream.trim_start_matches("http://").to_owned(),
            ),
        ],
        port,
    )
    .await;
    assert_eq!(nginx.url, site);
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    const PAGE: &str = "text/html,application/xhtml+xml";

    // A script's request gets the 401; a page load goes to sign in.
    let api = browser
        .get(format!("{site}/data"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert!(api.headers().get("location").is_none());
    let page = browser
        .get(format!("{site}/private?x=1"))
        .header("accept", PAGE)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::FOUND);
    let sign_in = page.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        sign_in.starts_with(&format!("{site}/oauth/gateway/sign-in?rd=")),
        "{sign_in}"
    );
    let post = browser
        .post(format!("{site}/form"))
        .header("accept", PAGE)
        .form(&[("a", "b")])
        .send()
        .await
        .expect("post");
    assert_eq!(post.status(), StatusCode::SEE_OTHER, "303 for a POST");

    // The sign-in page, served on the protected origin through nginx.
    let form = browser
        .get(&sign_in)
        .header("accept", PAGE)
        .send()
        .await
        .expect("form");
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.expect("html");
    let at = html.find("name=\"csrf_token\" value=\"").expect("csrf") + 25;
    let csrf = html[at..].split('"').next().expect("value").to_owned();
    let rd = format!("{site}/private?x=1");
    let signed_in = browser
        .post(format!("{site}/oauth/gateway/sign-in"))
        .header("origin", site.as_str())
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("rd", rd.as_str()),
            ("email", "gw@example.com"),
            ("password", "correct horse battery staple"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], rd.as_str());
    let session = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("signet_session="))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned();

    // The application never sees Signet's cookies (issue 23, finding 3: it
    // could replay them elsewhere); its own cookies pass, in order.
    for cookies in [
        format!("theme=dark; {session}; lang=en"),
        format!("{session}; theme=dark; lang=en"),
        format!("theme=dark; lang=en; {session}; signet_csrf=x"),
    ] {
        let seen: Value = reqwest::Client::new()
            .get(&rd)
            .header("cookie", cookies.as_str())
            .send()
            .await
            .expect("app")
            .json()
            .await
            .expect("json");
        assert_eq!(seen["x-auth-email"], "gw@example.com", "{cookies}");
        let forwarded = seen["cookie"].as_str().unwrap_or_default();
        assert!(!forwarded.contains("signet_"), "{cookies} -> {forwarded}");
        assert!(
            forwarded.contains("theme=dark") && forwarded.contains("lang=en"),
            "{cookies} -> {forwarded}"
        );
    }

    // Back at the application, with the identity nginx set.
    let seen: Value = browser
        .get(&rd)
        .header("accept", PAGE)
        .header("x-auth-user", "spoofed")
        .send()
        .await
        .expect("app")
        .json()
        .await
        .expect("json");
    assert_eq!(seen["x-auth-email"], "gw@example.com");
    assert_ne!(seen["x-auth-user"], "spoofed");
    // Only the sign-in page of auth-server is exposed on the site: its API
    // paths reach the application.
    let other: Value = browser
        .get(format!("{site}/api/v1/users/me"))
        .send()
        .await
        .expect("other")
        .json()
        .await
        .expect("json");
    assert_eq!(other["x-auth-email"], "gw@example.com", "{other}");
}
