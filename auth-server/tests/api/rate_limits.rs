//! 429s with Retry-After, per client IP and per account.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, backend_tests, Backend, TestApp, PASSWORD};

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

async fn logins_beyond_the_per_ip_rate_get_429_with_retry_after(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("RATE_LIMIT_LOGIN_PER_IP", "3/1m")]).await;
    for _ in 0..3 {
        assert_eq!(
            app.login("anyone@example.com", "whatever pass")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app.login("anyone@example.com", "whatever pass").await;
    let wait = retry_after(&limited);
    assert!((1..=20).contains(&wait), "{wait}");
    let body = assert_problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(body["detail"]
        .as_str()
        .expect("detail")
        .contains("retry after"));
}

async fn signups_and_token_requests_are_limited_per_ip_too(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("RATE_LIMIT_SIGNUP_PER_IP", "2/1m"),
            ("RATE_LIMIT_TOKEN_PER_IP", "2/1m"),
        ],
    )
    .await;
    for i in 0..2 {
        let response = app
            .signup(&json!({ "email": format!("s{i}@example.com"), "password": PASSWORD }))
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let response = app
        .signup(&json!({ "email": "s3@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    for _ in 0..2 {
        assert_eq!(
            app.oauth_token(&[("grant_type", "client_credentials")], None)
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.oauth_token(&[("grant_type", "client_credentials")], None)
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn repeated_failures_slow_an_account_down_the_same_whether_it_exists_or_not(
    backend: Backend,
) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("LOGIN_FAILURES_BEFORE_BACKOFF", "3"),
            ("LOGIN_MAX_BACKOFF", "2s"),
        ],
    )
    .await;
    let admin = app.admin().await;
    let user = app.user("target@example.com").await;
    for email in [user.email.as_str(), "ghost@example.com"] {
        for _ in 0..3 {
            assert_eq!(
                app.login(email, "not the password").await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
        let throttled = app.login(email, "not the password").await;
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert_eq!(retry_after(&throttled), 1);
    }
    // Even the right password waits out the back-off…
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // …but the lock is temporary, and a success clears it.
    app.state
        .clock
        .advance(std::time::Duration::from_millis(1100));
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login(&user.email, "not the password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Other accounts were never affected.
    assert_eq!(
        app.login(&admin.email, PASSWORD).await.status(),
        StatusCode::OK
    );
    let admin = crate::helpers::TestUser {
        token: app.token_for(&admin.email, PASSWORD).await,
        ..admin
    };
    let throttled = app.audit(&admin, "login.throttled").await;
    let subjects: Vec<&str> = throttled
        .iter()
        .map(|e| e["subject"].as_str().expect("subject"))
        .collect();
    assert_eq!(
        subjects,
        vec!["ghost@example.com", "target@example.com"],
        "once per account and episode"
    );
}

async fn forwarded_for_counts_only_behind_a_trusted_proxy(backend: Backend) {
    let login_from = |app: &TestApp, forwarded: &'static str| {
        let request = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({ "email": "x@example.com", "password": "wrong password" }));
        async move { request.send().await.expect("request").status() }
    };
    let untrusted = TestApp::spawn_with(backend, &[("RATE_LIMIT_LOGIN_PER_IP", "1/1m")]).await;
    assert_eq!(
        login_from(&untrusted, "198.51.100.1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&untrusted, "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a client cannot pick a new address to dodge the limit"
    );
    let proxied = TestApp::spawn_with(
        backend,
        &[
            ("RATE_LIMIT_LOGIN_PER_IP", "1/1m"),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ],
    )
    .await;
    assert_eq!(
        login_from(&proxied, "198.51.100.1").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&proxied, "198.51.100.2").await,
        StatusCode::UNAUTHORIZED,
        "distinct clients behind the proxy"
    );
    assert_eq!(
        login_from(&proxied, "198.51.100.2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Two replicas on one database. On PostgreSQL the sign-in limit is kept in
/// the database, so it holds across them: 5 a minute in all, not 5 each.
/// On SQLite (one process by design) each counts for itself.
async fn replicas_on_postgresql_share_the_sign_in_limit(backend: Backend) {
    let rate = [("RATE_LIMIT_LOGIN_PER_IP", "5/1m")];
    let first = TestApp::spawn_with(backend, &rate).await;
    let second = TestApp::spawn_on(&first.database_url, &rate).await;
    let mut statuses = Vec::new();
    for app in [&first, &first, &first, &second, &second, &second] {
        statuses.push(app.login("guess@example.com", "guess").await.status());
    }
    let expected_last = match backend {
        Backend::Postgres => StatusCode::TOO_MANY_REQUESTS,
        Backend::Sqlite => StatusCode::UNAUTHORIZED,
    };
    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5], "{statuses:?}");
    assert_eq!(statuses[5], expected_last, "{statuses:?}");
    if backend == Backend::Postgres {
        let metrics = second.metrics().await.text().await.expect("metrics");
        assert!(
            metrics.contains("rate_limited_total{limit=\"login_per_ip_shared\"} 1"),
            "{metrics}"
        );
    }
}

backend_tests!(
    replicas_on_postgresql_share_the_sign_in_limit,
    forwarded_for_counts_only_behind_a_trusted_proxy,
    logins_beyond_the_per_ip_rate_get_429_with_retry_after,
    signups_and_token_requests_are_limited_per_ip_too,
    repeated_failures_slow_an_account_down_the_same_whether_it_exists_or_not,
);
