//! The whole stack end to end: auth-server, blog-svc and scraper-svc as the
//! real applications on 127.0.0.1:0, a local feed server, real HTTP between
//! them. Nothing leaves the machine.

use std::collections::HashMap;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use signet_service::backend_tests;
use signet_service::testing::{fresh_database, Backend};
use tempfile::TempDir;
use tokio::sync::oneshot;

const PASSWORD: &str = "correct horse battery staple";

const FEED: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Local news</title>
<item><title>Rust 2027 announced</title><link>/news/rust-2027</link><description>&lt;p&gt;It is &lt;b&gt;here&lt;/b&gt;.&lt;/p&gt;</description></item>
<item><title>Tokens everywhere</title><link>/news/tokens</link><description>Short-lived, signed, verified locally.</description></item>
</channel></rss>"#;

const PAGE: &str = r#"<html><head><title>About the feed</title><meta name="description" content="A page scraped as one post."></head><body></body></html>"#;

/// Serves a feed, a page, a failing source and a garbage source.
async fn feed_server() -> String {
    let app = Router::new()
        .route(
            "/feed.xml",
            get(|| async {
                ([(header::CONTENT_TYPE, "application/rss+xml")], FEED).into_response()
            }),
        )
        .route(
            "/about.html",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], PAGE).into_response() }),
        )
        .route(
            "/down.xml",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route(
            "/garbage.xml",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/rss+xml")],
                    "<rss><chan",
                )
                    .into_response()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn lookup(vars: HashMap<&'static str, String>) -> impl Fn(&str) -> Option<String> {
    move |name| vars.get(name).cloned()
}

struct Stack {
    http: reqwest::Client,
    auth: String,
    blog: String,
    scraper: String,
    scraper_metrics: String,
    feeds: String,
    api_key: String,
    api_key_id: String,
    admin_token: String,
    stop_auth: Option<oneshot::Sender<()>>,
    backend: Backend,
    _dirs: Vec<TempDir>,
}

impl Stack {
    async fn start(backend: Backend) -> Self {
        let http = reqwest::Client::new();
        let feeds = feed_server().await;
        let auth_dir = tempfile::tempdir().expect("dir");
        let keys_dir = auth_dir.path().join("keys");

        // auth-server, with a generated key, as on a fresh clone.
        let auth_config = auth_server::config::Config::from_lookup(lookup(HashMap::from([
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
            (
                "DATABASE_URL",
                fresh_database(backend, &auth_dir, "auth").await,
            ),
            ("KEYS_DIR", keys_dir.display().to_string()),
            ("ARGON2_MEMORY_KIB", "4096".to_owned()),
            // Mail as .eml files in the test's own folder.
            (
                "MAIL_OUTBOX_DIR",
                auth_dir.path().join("outbox").display().to_string(),
            ),
            // User tokens may write blog posts (blog-svc requires posts:write).
            (
                "USER_TOKEN_SCOPE",
                "openid profile email posts:write".to_owned(),
            ),
            ("ARGON2_ITERATIONS", "1".to_owned()),
        ])))
        .expect("auth config");
        let auth_app = auth_server::Application::build(auth_config)
            .await
            .expect("auth-server starts");
        let auth = format!("http://{}", auth_app.local_addr());
        let auth_state = auth_app.state().clone();
        let (stop_auth, stopped) = oneshot::channel::<()>();
        tokio::spawn(auth_app.run_until(async move {
            let _ = stopped.await;
        }));

        // Bootstrap as an operator would: an admin and the scraper's API key.
        auth_server::testing::admin(&auth_state, "root@example.com", PASSWORD)
            .await
            .expect("admin");
        let minted =
            auth_server::testing::api_key(&auth_state, "scraper", &["posts:write", "posts:import"])
                .await
                .expect("api key");

        // blog-svc, finding the keys through OIDC discovery.
        let blog_dir = tempfile::tempdir().expect("dir");
        let blog_config = blog_svc::config::Config::from_lookup(lookup(HashMap::from([
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
            (
                "DATABASE_URL",
                fresh_database(backend, &blog_dir, "blog").await,
            ),
            ("AUTH_ISSUER", auth.clone()),
        ])))
        .expect("blog config");
        let blog_app = blog_svc::Application::build(blog_config)
            .await
            .expect("blog-svc starts");
        let blog = format!("http://{}", blog_app.local_addr());
        tokio::spawn(blog_app.run_until(std::future::pending()));

        // scraper-svc, on demand only.
        let scraper_dir = tempfile::tempdir().expect("dir");
        let scraper_config = scraper_svc::config::Config::from_lookup(lookup(HashMap::from([
            ("BIND_ADDR", "127.0.0.1:0".to_owned()),
            ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
            (
                "DATABASE_URL",
                fresh_database(backend, &scraper_dir, "scraper").await,
            ),
            ("AUTH_ISSUER", auth.clone()),
            ("SCRAPER_API_KEY", minted.secret.clone()),
            ("BLOG_URL", blog.clone()),
            ("SCRAPE_INTERVAL", "0".to_owned()),
            (
                "SCRAPER_SOURCES",
                format!("{feeds}/feed.xml,{feeds}/about.html,{feeds}/down.xml,{feeds}/garbage.xml"),
            ),
        ])))
        .expect("scraper config");
        let scraper_app = scraper_svc::Application::build(scraper_config)
            .await
            .expect("scraper-svc starts");
        let scraper = format!("http://{}", scraper_app.local_addr());
        let scraper_metrics = format!("http://{}/metrics", scraper_app.metrics_addr());
        tokio::spawn(scraper_app.run_until(std::future::pending()));

        let mut stack = Self {
            http,
            auth,
            blog,
            scraper,
            scraper_metrics,
            feeds,
            api_key: minted.secret,
            api_key_id: minted.id.to_string(),
            admin_token: String::new(),
            stop_auth: Some(stop_auth),
            backend,
            _dirs: vec![auth_dir, blog_dir, scraper_dir],
        };
        stack.admin_token = stack.login("root@example.com").await;
        stack
    }

    async fn json(response: reqwest::Response) -> Value {
        let text = response.text().await.expect("body");
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }

    async fn sign_up(&self, email: &str, name: &str) {
        let response = self
            .http
            .post(format!("{}/api/v1/users", self.auth))
            .json(&json!({ "email": email, "password": PASSWORD, "display_name": name }))
            .send()
            .await
            .expect("sign up");
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }

    async fn login(&self, email: &str) -> String {
        let response = self
            .http
            .post(format!("{}/api/v1/auth/login", self.auth))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), StatusCode::OK);
        Self::json(response).await["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    async fn write_post(&self, token: &str, title: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/posts", self.blog))
            .bearer_auth(token)
            .json(&json!({ "title": title, "body": "written by hand" }))
            .send()
            .await
            .expect("post")
    }

    async fn posts(&self) -> Vec<Value> {
        let page = Self::json(
            self.http
                .get(format!("{}/api/v1/posts?limit=100", self.blog))
                .send()
                .await
                .expect("list"),
        )
        .await;
        page["items"].as_array().expect("items").clone()
    }

    async fn scrape(&self) -> Value {
        let response = self
            .http
            .post(format!("{}/api/v1/scrape", self.scraper))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .expect("scrape");
        assert_eq!(response.status(), StatusCode::OK);
        Self::json(response).await
    }

    /// The scraper's run history, newest first.
    async fn runs(&self) -> Value {
        Self::json(
            self.http
                .get(format!("{}/api/v1/scrape/runs", self.scraper))
                .bearer_auth(&self.admin_token)
                .send()
                .await
                .expect("runs"),
        )
        .await
    }

    async fn stop_auth_server(&mut self) {
        if let Some(stop) = self.stop_auth.take() {
            let _ = stop.send(());
        }
        // Wait until the port really refuses connections.
        for _ in 0..100 {
            if self
                .http
                .get(format!("{}/healthz", self.auth))
                .send()
                .await
                .is_err()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("auth-server did not stop");
    }
}

async fn a_user_and_the_scraper_both_write_to_the_blog_through_locally_verified_tokens(
    backend: Backend,
) {
    let stack = Stack::start(backend).await;
    stack.sign_up("ada@example.com", "Ada").await;
    let token = stack.login("ada@example.com").await;
    let response = stack.write_post(&token, "Hello from Ada").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(Stack::json(response).await["author"]["display_name"], "Ada");

    let run = stack.scrape().await;
    assert_eq!(run["status"], "partial", "{run}");
    assert_eq!(run["sources_total"], 4);
    assert_eq!(
        run["sources_failed"], 2,
        "the 500 and the garbage feed fail alone: {run}"
    );
    assert_eq!(run["items_found"], 3);
    assert_eq!(run["items_pushed"], 3);
    let errors: Vec<String> = run["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["source"].as_str().expect("s").to_owned())
        .collect();
    assert!(
        errors.iter().any(|s| s.ends_with("/down.xml"))
            && errors.iter().any(|s| s.ends_with("/garbage.xml"))
    );

    let posts = stack.posts().await;
    assert_eq!(posts.len(), 4);
    let imported: Vec<&Value> = posts
        .iter()
        .filter(|p| p["author"]["kind"] == "service")
        .collect();
    assert_eq!(imported.len(), 3);
    assert!(imported
        .iter()
        .all(|p| p["author"]["display_name"] == "scraper"));
    let rust = imported
        .iter()
        .find(|p| p["title"] == "Rust 2027 announced")
        .expect("feed item");
    assert_eq!(
        rust["source_url"],
        format!("{}/news/rust-2027", stack.feeds)
    );
    assert_eq!(rust["body"], "It is here .");

    // A second run imports the same items again: updated in place, never duplicated.
    let again = stack.scrape().await;
    assert_eq!(again["items_pushed"], 3);
    assert_eq!(stack.posts().await.len(), 4);

    let runs = stack.runs().await;
    assert_eq!(runs.as_array().expect("runs").len(), 2);
    assert_eq!(runs[0]["id"], again["id"], "newest first");
    let metrics = stack
        .http
        .get(&stack.scraper_metrics)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    assert!(
        metrics.contains("scrape_runs_total{trigger=\"manual\",status=\"partial\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("scrape_items_pushed_total 6"), "{metrics}");
}

async fn the_scraper_api_is_for_admins_only(backend: Backend) {
    let stack = Stack::start(backend).await;
    stack.sign_up("eve@example.com", "Eve").await;
    let token = stack.login("eve@example.com").await;
    let url = format!("{}/api/v1/scrape", stack.scraper);
    assert_eq!(
        stack.http.post(&url).send().await.expect("req").status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        stack
            .http
            .post(&url)
            .bearer_auth(&token)
            .send()
            .await
            .expect("req")
            .status(),
        StatusCode::FORBIDDEN
    );
}

/// With a URL among its audiences the scraper is an RFC 9728 protected
/// resource: the metadata document, named by every challenge of its API.
async fn a_url_audience_makes_the_scraper_a_protected_resource(backend: Backend) {
    let stack = Stack::start(backend).await;
    let scraper = scraper_for(
        &stack,
        feed_server().await,
        &[("AUTH_AUDIENCE", "signet,https://scraper.example.com")],
    )
    .await;
    let document = stack
        .http
        .get(format!("{scraper}/.well-known/oauth-protected-resource"))
        .send()
        .await
        .expect("metadata");
    assert_eq!(document.status(), StatusCode::OK);
    let document = Stack::json(document).await;
    assert_eq!(document["resource"], "https://scraper.example.com");
    assert_eq!(document["authorization_servers"][0], stack.auth.as_str());
    let metadata =
        "resource_metadata=\"https://scraper.example.com/.well-known/oauth-protected-resource\"";
    stack.sign_up("mallory@example.com", "Mallory").await;
    let token = stack.login("mallory@example.com").await;
    let url = format!("{scraper}/api/v1/scrape");
    for (request, status) in [
        (stack.http.post(&url), StatusCode::UNAUTHORIZED),
        (
            stack.http.post(&url).bearer_auth(&token),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let response = request.send().await.expect("req");
        assert_eq!(response.status(), status);
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(challenge.contains(metadata), "{challenge}");
    }
}

/// `/openapi.json` describes the scraper's API, and passes an independent
/// validator when one is installed.
#[tokio::test]
async fn the_scraper_describes_its_api_in_openapi() {
    let stack = Stack::start(Backend::Sqlite).await;
    let response = stack
        .http
        .get(format!("{}/openapi.json", stack.scraper))
        .send()
        .await
        .expect("openapi");
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    assert!(body["openapi"]
        .as_str()
        .expect("version")
        .starts_with("3.1"));
    assert_eq!(body["servers"][0]["url"], stack.scraper);
    for (path, method) in [("/api/v1/scrape", "post"), ("/api/v1/scrape/runs", "get")] {
        let operation = &body["paths"][path][method];
        assert!(operation.is_object(), "{method} {path}");
        assert!(
            operation["security"].to_string().contains("bearer"),
            "{method} {path}"
        );
    }
    assert_eq!(
        body["paths"]["/api/v1/scrape/runs"]["get"]["parameters"][0]["in"],
        "query"
    );
    signet_service::testing::assert_path_parameters_match(&body);
    signet_service::testing::assert_docs_page(&stack.scraper, &["/api/v1/scrape/runs", "RunView"])
        .await;
}

/// The same document through a validator this project did not write.
#[cfg_attr(
    not(signet_openapi_validator),
    ignore = "needs openapi-spec-validator: install it (Debian: python3-openapi-spec-validator) or set OPENAPI_VALIDATOR to a python3 that has it"
)]
#[tokio::test]
async fn the_scrapers_openapi_document_passes_an_independent_validator() {
    let stack = Stack::start(Backend::Sqlite).await;
    let text = stack
        .http
        .get(format!("{}/openapi.json", stack.scraper))
        .send()
        .await
        .expect("openapi")
        .text()
        .await
        .expect("body");
    signet_service::testing::assert_valid_openapi(&text);
}

async fn a_token_for_another_audience_is_refused_by_the_blog(backend: Backend) {
    let stack = Stack::start(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let picky_config = blog_svc::config::Config::from_lookup(lookup(HashMap::from([
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            fresh_database(stack.backend, &dir, "picky").await,
        ),
        ("AUTH_ISSUER", stack.auth.clone()),
        (
            "AUTH_JWKS_URL",
            format!("{}/.well-known/jwks.json", stack.auth),
        ),
        ("AUTH_AUDIENCE", "blog-only".to_owned()),
    ])))
    .expect("config");
    let picky = blog_svc::Application::build(picky_config)
        .await
        .expect("starts");
    let picky_url = format!("http://{}", picky.local_addr());
    tokio::spawn(picky.run_until(std::future::pending()));

    stack.sign_up("aud@example.com", "Aud").await;
    let token = stack.login("aud@example.com").await;
    let response = stack
        .http
        .post(format!("{picky_url}/api/v1/posts"))
        .bearer_auth(&token)
        .json(&json!({ "title": "t", "body": "b" }))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.contains("invalid_token") && challenge.contains("audience"),
        "{challenge}"
    );
}

async fn a_revoked_api_key_can_no_longer_get_tokens(backend: Backend) {
    let stack = Stack::start(backend).await;
    let token_url = format!("{}/oauth/token", stack.auth);
    let source =
        jwt_verify::ServiceTokenSource::from_api_key(&token_url, &stack.api_key).expect("source");
    source.token().await.expect("the key works");
    // auth-server's admin API takes a token issued for it, not the services' one.
    let account_token = Stack::json(
        stack
            .http
            .post(format!("{}/api/v1/auth/login", stack.auth))
            .json(&json!({ "email": "root@example.com", "password": PASSWORD, "audience": "signet-account" }))
            .send()
            .await
            .expect("login"),
    )
    .await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let response = stack
        .http
        .delete(format!(
            "{}/api/v1/api-keys/{}",
            stack.auth, stack.api_key_id
        ))
        .bearer_auth(&account_token)
        .send()
        .await
        .expect("revoke");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let fresh =
        jwt_verify::ServiceTokenSource::from_api_key(&token_url, &stack.api_key).expect("source");
    let error = fresh.token().await.expect_err("revoked");
    assert!(
        matches!(&error, jwt_verify::ClientError::Rejected { status: 401, error } if error == "invalid_client"),
        "{error}"
    );

    // The scraper has no cached token yet, so its run fails cleanly and says why.
    let run = stack.scrape().await;
    assert_eq!(run["items_pushed"], 0);
    assert_eq!(run["status"], "failed");
    assert!(
        run["errors"].to_string().contains("invalid_client"),
        "{run}"
    );
}

async fn with_the_auth_server_down_the_blog_keeps_verifying_from_cached_keys(backend: Backend) {
    let mut stack = Stack::start(backend).await;
    stack.sign_up("offline@example.com", "Offline").await;
    let token = stack.login("offline@example.com").await;
    // Warm the scraper's service token while the auth server is up.
    assert_eq!(stack.scrape().await["items_pushed"], 3);

    stack.stop_auth_server().await;
    assert_eq!(
        stack
            .write_post(&token, "Written while auth is down")
            .await
            .status(),
        StatusCode::CREATED
    );
    let mut forged = token.clone();
    forged.replace_range(forged.len() - 6.., "AAAAAA");
    assert_eq!(
        stack.write_post(&forged, "forged").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        stack.write_post("not-a-token", "garbage").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The scraper still holds a valid service token: pushes keep working.
    assert_eq!(stack.scrape().await["items_pushed"], 3);
    let ready = stack
        .http
        .get(format!("{}/readyz", stack.blog))
        .send()
        .await
        .expect("readyz");
    assert_eq!(
        ready.status(),
        StatusCode::OK,
        "cached keys keep the blog ready"
    );
}

async fn with_blog_svc_down_a_run_fails_cleanly_and_the_next_one_imports_everything(
    backend: Backend,
) {
    let stack = Stack::start(backend).await;
    // A second scraper whose blog-svc is unreachable (nothing listens on port 9).
    let dir = tempfile::tempdir().expect("dir");
    let config = scraper_svc::config::Config::from_lookup(lookup(HashMap::from([
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        (
            "DATABASE_URL",
            fresh_database(backend, &dir, "scraper_down").await,
        ),
        ("AUTH_ISSUER", stack.auth.clone()),
        ("SCRAPER_API_KEY", stack.api_key.clone()),
        ("BLOG_URL", "http://127.0.0.1:9".to_owned()),
        ("SCRAPE_INTERVAL", "0".to_owned()),
        ("SCRAPER_SOURCES", format!("{}/feed.xml", stack.feeds)),
    ])))
    .expect("config");
    let app = scraper_svc::Application::build(config)
        .await
        .expect("scraper starts without its blog");
    let url = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    let response = stack
        .http
        .post(format!("{url}/api/v1/scrape"))
        .bearer_auth(&stack.admin_token)
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    let run = Stack::json(response).await;
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(run["items_found"], 2);
    assert_eq!(run["items_pushed"], 0);
    assert!(
        run["errors"].to_string().contains("will retry next run"),
        "{run}"
    );
    // Nothing was lost: the working scraper imports the same items, once.
    assert_eq!(stack.scrape().await["items_pushed"], 3);
    assert_eq!(stack.posts().await.len(), 3);
}

async fn hostile_requests_to_the_scraper_get_a_json_4xx_and_start_nothing(backend: Backend) {
    use signet_service::testing::{assert_refused, HostileRequest};
    let stack = Stack::start(backend).await;
    stack.sign_up("plain@example.com", "Plain").await;
    let user = format!("Bearer {}", stack.login("plain@example.com").await);
    let admin = format!("Bearer {}", stack.admin_token);
    let as_admin: &[(&str, &[u8])] = &[("Authorization", admin.as_bytes())];
    let huge = vec![b'x'; 2 * 1024 * 1024];
    let none_alg = "Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJyb290In0.";
    let scrape = "/api/v1/scrape";
    let cases = vec![
        HostileRequest::new("no token", "POST", scrape, &[], b"", 401),
        HostileRequest::new(
            "an unsigned token (alg none)",
            "POST",
            scrape,
            &[("Authorization", none_alg.as_bytes())],
            b"",
            401,
        ),
        HostileRequest::new(
            "a user who is not an admin",
            "POST",
            scrape,
            &[("Authorization", user.as_bytes())],
            b"",
            403,
        ),
        HostileRequest::new(
            "a bearer token of Latin-1 bytes",
            "POST",
            scrape,
            &[("Authorization", b"Bearer \xff\xfe")],
            b"",
            400,
        ),
        HostileRequest::new(
            "an admin token and a user token together",
            "POST",
            scrape,
            &[
                ("Authorization", admin.as_bytes()),
                ("Authorization", user.as_bytes()),
            ],
            b"",
            400,
        ),
        HostileRequest::new(
            "a header injected after the token",
            "POST",
            scrape,
            &[("Authorization", b"Bearer abc\r\nX-Injected: yes")],
            b"",
            401,
        ),
        HostileRequest::new(
            "a body over the limit",
            "POST",
            scrape,
            as_admin,
            &huge,
            413,
        ),
        HostileRequest::new(
            "a limit that is not a number",
            "GET",
            "/api/v1/scrape/runs?limit=abc",
            as_admin,
            b"",
            400,
        ),
        HostileRequest::new(
            "a limit with a statement after it",
            "GET",
            "/api/v1/scrape/runs?limit=1;DROP%20TABLE%20scrape_runs",
            as_admin,
            b"",
            400,
        ),
        HostileRequest::new(
            "an unknown query parameter",
            "GET",
            "/api/v1/scrape/runs?where=1%3D1",
            as_admin,
            b"",
            400,
        ),
    ];
    assert_refused(stack.scraper.trim_start_matches("http://"), &cases).await;
    let runs = stack.runs().await;
    assert_eq!(runs, json!([]), "no run was started");
    assert!(stack.posts().await.is_empty(), "nothing reached the blog");
}

/// An "internal" page (think admin console or metadata service) on another
/// loopback port, and a hostile source that redirects to it, by address and by name.
async fn internal_page_and_redirecting_source() -> (String, String) {
    let internal = Router::new().route(
        "/secret",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "text/html")],
                "<html><head><title>INTERNAL ADMIN CONSOLE</title></head></html>",
            )
                .into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let internal_port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, internal).await });
    let hostile = Router::new()
        .route(
            "/by-address",
            get(move || async move {
                axum::response::Redirect::temporary(&format!(
                    "http://127.0.0.1:{internal_port}/secret"
                ))
            }),
        )
        .route(
            "/by-name",
            get(move || async move {
                axum::response::Redirect::temporary(&format!(
                    "http://localhost:{internal_port}/secret"
                ))
            }),
        )
        .route(
            "/closed-port",
            get(|| async { axum::response::Redirect::temporary("http://127.0.0.1:9/x") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hostile_base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, hostile).await });
    (hostile_base, format!("http://127.0.0.1:{internal_port}"))
}

/// Another scraper on the stack's auth-server and blog, with these sources.
async fn scraper_for(stack: &Stack, sources: String, extra: &[(&'static str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
    // The database lives as long as the process: the temp dir is leaked on purpose.
    std::mem::forget(dir);
    scraper_on(stack, &url, sources, extra).await
}

async fn scraper_on(
    stack: &Stack,
    database_url: &str,
    sources: String,
    extra: &[(&'static str, &str)],
) -> String {
    let mut vars = HashMap::from([
        ("BIND_ADDR", "127.0.0.1:0".to_owned()),
        ("METRICS_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
        ("AUTH_ISSUER", stack.auth.clone()),
        ("SCRAPER_API_KEY", stack.api_key.clone()),
        ("BLOG_URL", stack.blog.clone()),
        ("SCRAPE_INTERVAL", "0".to_owned()),
        ("SCRAPER_SOURCES", sources),
    ]);
    for (name, value) in extra {
        vars.insert(name, (*value).to_owned());
    }
    let app = scraper_svc::Application::build(
        scraper_svc::config::Config::from_lookup(lookup(vars)).expect("config"),
    )
    .await
    .expect("scraper starts");
    let url = format!("http://{}", app.local_addr());
    tokio::spawn(app.run_until(std::future::pending()));
    url
}

async fn a_deeply_nested_page_fails_alone_and_runs_left_running_are_closed(backend: Backend) {
    let stack = Stack::start(backend).await;
    let hostile = Router::new().route(
        "/deep.html",
        get(|| async {
            (
                [(header::CONTENT_TYPE, "text/html")],
                format!("<html><body>{}</body></html>", "<div>".repeat(40_000)),
            )
                .into_response()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, hostile).await });

    let dir = tempfile::tempdir().expect("dir");
    let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
    let sources = format!("{base}/deep.html,{}/feed.xml", stack.feeds);
    let scraper = scraper_on(&stack, &database_url, sources.clone(), &[]).await;
    let run = scrape_at(&stack, &scraper).await;
    assert_eq!(run["status"], "partial", "{run}");
    assert_eq!(
        run["items_pushed"], 2,
        "the other source is imported: {run}"
    );
    assert_eq!(
        run["errors"][0]["error"], "the document is nested too deeply",
        "{run}"
    );

    // A process that died mid-run left its row `running`; the next start closes it.
    let db = sea_orm::Database::connect(&database_url).await.expect("db");
    sea_orm::ConnectionTrait::execute_unprepared(
        &db,
        "UPDATE scrape_runs SET status = 'running', finished_at = NULL",
    )
    .await
    .expect("pretend the run never finished");
    db.close().await.expect("close");
    let restarted = scraper_on(&stack, &database_url, sources, &[]).await;
    let runs = Stack::json(
        stack
            .http
            .get(format!("{restarted}/api/v1/scrape/runs"))
            .bearer_auth(&stack.admin_token)
            .send()
            .await
            .expect("runs"),
    )
    .await;
    let first = &runs[0];
    assert_eq!(first["status"], "failed", "{runs}");
    assert!(first["finished_at"].is_string(), "{runs}");
}

async fn scrape_at(stack: &Stack, scraper: &str) -> Value {
    let response = stack
        .http
        .post(format!("{scraper}/api/v1/scrape"))
        .bearer_auth(&stack.admin_token)
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    Stack::json(response).await
}

async fn a_source_cannot_redirect_the_scraper_to_internal_addresses(backend: Backend) {
    let stack = Stack::start(backend).await;
    let (hostile, _) = internal_page_and_redirecting_source().await;
    let sources = format!("{hostile}/by-address,{hostile}/by-name,{hostile}/closed-port");
    let scraper = scraper_for(&stack, sources.clone(), &[]).await;
    let run = scrape_at(&stack, &scraper).await;
    assert_eq!(run["items_pushed"], 0, "{run}");
    let errors: Vec<String> = run["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["error"].as_str().expect("error").to_owned())
        .collect();
    assert_eq!(
        errors,
        vec![
            "refused by address policy",
            "refused by address policy",
            "refused by address policy"
        ],
        "{run}"
    );
    assert!(
        !stack
            .posts()
            .await
            .iter()
            .any(|p| p["title"] == "INTERNAL ADMIN CONSOLE"),
        "nothing internal was published"
    );

    // An operator who means it can allow an address; the closed port then
    // reads as "unreachable", never as which ports are open.
    let allowed = scraper_for(
        &stack,
        sources,
        &[("FETCH_ALLOWED_ADDRESSES", "127.0.0.0/8,::1")],
    )
    .await;
    let run = scrape_at(&stack, &allowed).await;
    assert_eq!(run["items_pushed"], 2, "by address and by name: {run}");
    assert_eq!(run["errors"][0]["error"], "unreachable", "{run}");
}

backend_tests!(
    a_url_audience_makes_the_scraper_a_protected_resource,
    a_deeply_nested_page_fails_alone_and_runs_left_running_are_closed,
    a_source_cannot_redirect_the_scraper_to_internal_addresses,
    with_blog_svc_down_a_run_fails_cleanly_and_the_next_one_imports_everything,
    a_user_and_the_scraper_both_write_to_the_blog_through_locally_verified_tokens,
    the_scraper_api_is_for_admins_only,
    a_token_for_another_audience_is_refused_by_the_blog,
    a_revoked_api_key_can_no_longer_get_tokens,
    with_the_auth_server_down_the_blog_keeps_verifying_from_cached_keys,
    hostile_requests_to_the_scraper_get_a_json_4xx_and_start_nothing,
);
