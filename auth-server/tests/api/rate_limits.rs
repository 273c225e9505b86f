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

/// Every bucket is shared on PostgreSQL, not only the sign-in one: two
/// sign-ups on each replica of a 2/min limit are two in all.
async fn replicas_on_postgresql_share_the_other_buckets_too(backend: Backend) {
    let rate = [
        ("RATE_LIMIT_SIGNUP_PER_IP", "2/1m"),
        ("RATE_LIMIT_TOKEN_PER_IP", "2/1m"),
    ];
    let first = TestApp::spawn_with(backend, &rate).await;
    let second = TestApp::spawn_on(&first.database_url, &rate).await;
    let mut signups = Vec::new();
    for (i, app) in [&first, &second, &second].into_iter().enumerate() {
        let body = json!({ "email": format!("s{i}@example.com"), "password": PASSWORD });
        signups.push(app.signup(&body).await.status());
    }
    let mut tokens = Vec::new();
    for app in [&first, &second, &second] {
        let response = app
            .oauth_token(&[("grant_type", "client_credentials")], None)
            .await;
        tokens.push(response.status());
    }
    let (signup_third, token_third) = match backend {
        Backend::Postgres => (StatusCode::TOO_MANY_REQUESTS, StatusCode::TOO_MANY_REQUESTS),
        Backend::Sqlite => (StatusCode::ACCEPTED, StatusCode::UNAUTHORIZED),
    };
    assert_eq!(
        signups,
        [StatusCode::ACCEPTED, StatusCode::ACCEPTED, signup_third]
    );
    assert_eq!(
        tokens,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            token_third
        ]
    );
}

/// The account back-off counts failures on every replica. Each failure
/// lands on the other replica after the previous wait has passed (time
/// moved on both clocks), so neither alone has seen enough to hold the
/// account back; together they have, and the wait is the shared one.
async fn replicas_on_postgresql_share_the_account_backoff(backend: Backend) {
    let config = [
        ("LOGIN_FAILURES_BEFORE_BACKOFF", "1"),
        ("LOGIN_MAX_BACKOFF", "1m"),
    ];
    let first = TestApp::spawn_with(backend, &config).await;
    let second = TestApp::spawn_on(&first.database_url, &config).await;
    let wait_out = |seconds: u64| {
        for app in [&first, &second] {
            app.state
                .clock
                .advance(std::time::Duration::from_millis(seconds * 1000 + 100));
        }
    };
    // Waits after each failure: 1 s, 2 s, 4 s, 8 s (shared); each replica
    // alone has seen two failures, a 2 s wait long passed.
    for (app, wait) in [(&first, 1), (&second, 2), (&first, 4), (&second, 0)] {
        assert_eq!(
            app.login("target@example.com", "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
        wait_out(wait);
    }
    let next = first.login("target@example.com", "guess").await;
    match backend {
        Backend::Postgres => {
            assert_eq!(next.status(), StatusCode::TOO_MANY_REQUESTS);
            assert!(
                (7..=8).contains(&retry_after(&next)),
                "{}",
                retry_after(&next)
            );
        }
        Backend::Sqlite => assert_eq!(next.status(), StatusCode::UNAUTHORIZED),
    }
}

/// The shared rows are bounded whatever the spray of addresses: the sweep
/// deletes the ones that say nothing (a full bucket) and forgets the
/// earliest-expiring beyond its cap. And a database that cannot answer, or
/// answers too slowly, leaves this replica's limits (buckets and back-off)
/// in charge, never none.
async fn shared_limits_stay_bounded_and_fall_back_to_the_local_limit(backend: Backend) {
    use auth_server::app::rate_limit::{ip_key, Limit, Rate, Shared};
    use std::net::{IpAddr, Ipv4Addr};
    let app = TestApp::spawn(backend).await;
    let Some(shared) = app.state.limiters.shared.clone() else {
        assert_eq!(backend, Backend::Sqlite, "one process: nothing to share");
        return;
    };
    let rate = Rate {
        burst: 2,
        period: std::time::Duration::from_secs(60),
    };
    let now = app.state.clock.now();
    for i in 0..300u32 {
        let ip = IpAddr::V4(Ipv4Addr::from(0xC633_6400 + i));
        let taken = shared.take("spray", &ip_key(Some(ip)), rate, now).await;
        assert_eq!(taken.expect("store"), Ok(()));
    }
    let rows = || async {
        use sea_orm::ConnectionTrait as _;
        app.state
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT count(*) FROM rate_limit_states",
            ))
            .await
            .expect("count")
            .expect("row")
            .try_get_by_index::<i64>(0)
            .expect("count")
    };
    assert_eq!(shared.sweep(now, 100).await.expect("sweep"), 200);
    assert_eq!(rows().await, 100, "capped");
    let later = now + chrono::Duration::seconds(31);
    assert_eq!(shared.sweep(later, 100).await.expect("sweep"), 100);
    assert_eq!(rows().await, 0, "full buckets say nothing");

    // A closed pool: every shared read fails; the local bucket still counts.
    let dead = sea_orm::Database::connect(&app.database_url)
        .await
        .expect("connect");
    dead.clone().close().await.expect("close");
    let dead = std::sync::Arc::new(Shared::new(dead));
    let limit = Limit::new("dead", rate, Some(dead.clone()));
    let metrics = &app.state.metrics;
    let ip = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
    for _ in 0..2 {
        assert!(limit.admit_ip(ip, metrics, now).await.is_ok());
    }
    assert!(
        limit.admit_ip(ip, metrics, now).await.is_err(),
        "the local bucket still holds"
    );
    // The account back-off likewise: its local count still starts a back-off.
    let limits = auth_server::config::Limits {
        account_free_failures: 1,
        ..app.state.config.limits
    };
    let limiters = auth_server::app::rate_limit::Limiters::new(&limits, Some(dead));
    let check = limiters
        .begin_password_check("someone@example.com", ip, metrics, now)
        .await
        .expect("no back-off yet");
    assert!(check.failed(metrics).await.client, "a back-off begins");
    assert!(
        limiters
            .begin_password_check("someone@example.com", ip, metrics, now)
            .await
            .is_err(),
        "and holds without the database"
    );
    // A slow database (the row held by another transaction): the shared
    // check gives up after its timeout, and the local bucket decides.
    use sea_orm::{ConnectionTrait as _, TransactionTrait as _};
    let slow = Limit::new(
        "slow",
        rate,
        Some(std::sync::Arc::new(Shared::with_timeout(
            app.state.db.clone(),
            std::time::Duration::from_millis(50),
        ))),
    );
    let other = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)));
    assert!(slow.admit_ip(other, metrics, now).await.is_ok());
    let holder = app.state.db.begin().await.expect("begin");
    holder
        .execute_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT 1 FROM rate_limit_states WHERE bucket = 'slow' FOR UPDATE",
        ))
        .await
        .expect("lock");
    assert!(
        slow.admit_ip(other, metrics, now).await.is_ok(),
        "the local bucket had a token left"
    );
    assert!(slow.admit_ip(other, metrics, now).await.is_err());
    holder.rollback().await.expect("rollback");
    let text = app.metrics().await.text().await.expect("metrics");
    assert!(
        text.contains("rate_limit_shared_fallbacks_total{limit=\"dead\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("rate_limit_shared_fallbacks_total{limit=\"slow\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("rate_limit_shared_fallbacks_total{limit=\"account_backoff\"}"),
        "{text}"
    );
}

/// `RATE_LIMIT_SHARED=false` (one replica on PostgreSQL, which then saves
/// the statements): each replica counts for itself again.
async fn unshared_limits_are_counted_per_replica(backend: Backend) {
    let config = [
        ("RATE_LIMIT_LOGIN_PER_IP", "5/1m"),
        ("RATE_LIMIT_SHARED", "false"),
    ];
    let first = TestApp::spawn_with(backend, &config).await;
    let second = TestApp::spawn_on(&first.database_url, &config).await;
    assert!(first.state.limiters.shared.is_none());
    let mut statuses = Vec::new();
    for app in [&first, &first, &first, &second, &second, &second] {
        statuses.push(app.login("guess@example.com", "guess").await.status());
    }
    assert_eq!(statuses, [StatusCode::UNAUTHORIZED; 6]);
}

backend_tests!(
    unshared_limits_are_counted_per_replica,
    shared_limits_stay_bounded_and_fall_back_to_the_local_limit,
    replicas_on_postgresql_share_the_other_buckets_too,
    replicas_on_postgresql_share_the_account_backoff,
    replicas_on_postgresql_share_the_sign_in_limit,
    forwarded_for_counts_only_behind_a_trusted_proxy,
    logins_beyond_the_per_ip_rate_get_429_with_retry_after,
    signups_and_token_requests_are_limited_per_ip_too,
    repeated_failures_slow_an_account_down_the_same_whether_it_exists_or_not,
);
