//! Revocation reaching a local verifier, with real processes: blog-svc
//! follows auth-server's security-event feed. A revoked token is refused
//! within the deadline while the user's other session works; auth-server
//! killed and restarted leaves the blog with its last state (valid tokens
//! accepted, revoked ones refused) and the feed resumes; a blog started
//! after the revocations refuses the revoked tokens from its first answer.
//! With two auth-server replicas on one PostgreSQL, revocations made at
//! either, many at once, reach a blog that follows the other's feed, even
//! for tokens its verified-token cache holds.

use std::time::Duration;

use reqwest::StatusCode;
use signet_e2e::{
    blog_answer, events_api_key, fresh_database, log_in, run_command, sign_up, test_tuning,
    Backend, Service,
};
use signet_service::backend_tests;

/// Far more than a revocation takes (about a second); the test fails if
/// it is ever reached, it does not measure anything.
const DEADLINE_POLLS: usize = 1000;

async fn refused_soon(http: &reqwest::Client, blog: &str, token: &str) {
    for _ in 0..DEADLINE_POLLS {
        match blog_answer(http, blog, token).await {
            StatusCode::NOT_FOUND => tokio::time::sleep(Duration::from_millis(10)).await,
            StatusCode::UNAUTHORIZED => return,
            other => panic!("unexpected {other}"),
        }
    }
    panic!("the revocation never reached blog-svc");
}

async fn revoke(http: &reqwest::Client, auth: &str, token: &str) {
    let response = http
        .post(format!("{auth}/oauth/revoke"))
        .form(&[("token", token)])
        .send()
        .await
        .expect("revoke");
    assert_eq!(response.status(), StatusCode::OK);
}

fn access_token(login: &serde_json::Value) -> String {
    login["access_token"].as_str().expect("token").to_owned()
}

async fn revocations_reach_blog_svc_across_an_auth_server_restart(backend: Backend) {
    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    let mut auth_env = vec![
        ("DATABASE_URL", fresh_database(backend, &dir, "auth").await),
        ("KEYS_DIR", dir.path().join("keys").display().to_string()),
    ];
    auth_env.extend(test_tuning());
    let mut auth = Service::start("auth-server", dir.path(), &auth_env);
    auth.wait_ready().await;
    let events_key = events_api_key(&auth);
    let auth_url = auth.url.clone();
    let blog_env = |name: &str| {
        vec![
            (
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join(name).display()),
            ),
            ("AUTH_ISSUER", auth_url.clone()),
            ("AUTH_EVENTS_API_KEY", events_key.clone()),
        ]
    };
    let mut blog = Service::start("blog-svc", dir.path(), &blog_env("blog.db"));
    blog.wait_ready().await;

    assert_eq!(
        sign_up(&http, &auth.url, "rev@example.com").await,
        StatusCode::ACCEPTED
    );
    let first = access_token(&log_in(&http, &auth.url, "rev@example.com").await);
    let second = access_token(&log_in(&http, &auth.url, "rev@example.com").await);
    assert_eq!(
        blog_answer(&http, &blog.url, &first).await,
        StatusCode::NOT_FOUND
    );

    // One session revoked: refused within the deadline; the other works.
    revoke(&http, &auth.url, &first).await;
    refused_soon(&http, &blog.url, &first).await;
    assert_eq!(
        blog_answer(&http, &blog.url, &second).await,
        StatusCode::NOT_FOUND
    );

    // auth-server killed: the blog keeps its last state, and says so.
    auth.kill();
    let ready = http
        .get(format!("{}/readyz", blog.url))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::OK, "fail-open: still ready");
    let feed = signet_e2e::json_body(ready).await["checks"]["revocation_feed"].clone();
    assert!(feed["entries"].as_u64() >= Some(1), "{feed}");
    assert_eq!(feed["stale"], false, "{feed}");
    assert_eq!(
        blog_answer(&http, &blog.url, &first).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        blog_answer(&http, &blog.url, &second).await,
        StatusCode::NOT_FOUND
    );

    // Back: the follower resumes and the next revocation arrives.
    auth.restart();
    auth.wait_ready().await;
    revoke(&http, &auth.url, &second).await;
    refused_soon(&http, &blog.url, &second).await;

    // A blog started after both revocations refuses both tokens.
    let mut late = Service::start("blog-svc", dir.path(), &blog_env("late.db"));
    late.wait_ready().await;
    for token in [&first, &second] {
        refused_soon(&http, &late.url, token).await;
    }
    let fresh = access_token(&log_in(&http, &auth.url, "rev@example.com").await);
    assert_eq!(
        blog_answer(&http, &late.url, &fresh).await,
        StatusCode::NOT_FOUND
    );
    assert!(
        blog.errors_logged().is_empty(),
        "the blog logged errors: {:?}",
        blog.errors_logged()
    );
}

backend_tests!(revocations_reach_blog_svc_across_an_auth_server_restart);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(signet_postgres),
    ignore = "needs PostgreSQL: install its server (initdb, pg_ctl) or set TEST_DATABASE_URL"
)]
async fn revocations_at_either_replica_reach_a_blog_following_the_other_even_from_its_cache() {
    let http = reqwest::Client::new();
    let dir = signet_e2e::shared_tempdir();
    let mut env = vec![
        (
            "DATABASE_URL",
            fresh_database(Backend::Postgres, &dir, "replicas").await,
        ),
        // One issuer for both replicas: the public name clients reach them by.
        ("JWT_ISSUER", "https://auth.signet.test".to_owned()),
        ("KEYS_DIR", dir.path().join("keys").display().to_string()),
        ("GENERATE_DEV_KEY", "false".to_owned()),
    ];
    env.extend(test_tuning());
    run_command("auth-server", dir.path(), &env, &["keys", "generate"]);
    let mut replica_a = Service::start("auth-server", dir.path(), &env);
    let mut replica_b = Service::start("auth-server", dir.path(), &env);
    replica_a.wait_ready().await;
    replica_b.wait_ready().await;
    let (a, b) = (replica_a.url.clone(), replica_b.url.clone());
    // The blog knows replica B only, and caches verified tokens.
    let mut blog = Service::start(
        "blog-svc",
        dir.path(),
        &[
            (
                "DATABASE_URL",
                format!("sqlite://{}?mode=rwc", dir.path().join("blog.db").display()),
            ),
            ("AUTH_ISSUER", "https://auth.signet.test".to_owned()),
            ("AUTH_JWKS_URL", format!("{b}/.well-known/jwks.json")),
            ("AUTH_EVENTS_URL", format!("{b}/api/v1/security-events")),
            ("AUTH_EVENTS_API_KEY", events_api_key(&replica_b)),
            ("AUTH_TOKEN_CACHE", "1000".to_owned()),
        ],
    );
    blog.wait_ready().await;
    assert_eq!(
        sign_up(&http, &a, "both@example.com").await,
        StatusCode::ACCEPTED
    );
    // Twelve sessions, opened at either replica; each token verified (and
    // cached) by the blog before anything is revoked.
    let mut logins = Vec::new();
    for i in 0..12 {
        let at = if i % 2 == 0 { &a } else { &b };
        logins.push(log_in(&http, at, "both@example.com").await);
    }
    for login in &logins {
        assert_eq!(
            blog_answer(&http, &blog.url, &access_token(login)).await,
            StatusCode::NOT_FOUND
        );
    }
    // Ten revoked at once, half at each replica; two kept.
    let revocations = logins[..10].iter().enumerate().map(|(i, login)| {
        let (http, at, token) = (
            http.clone(),
            if i % 2 == 0 { b.clone() } else { a.clone() },
            access_token(login),
        );
        async move { revoke(&http, &at, &token).await }
    });
    all_at_once(revocations).await;
    for login in &logins[..10] {
        refused_soon(&http, &blog.url, &access_token(login)).await;
    }
    for login in &logins[10..] {
        assert_eq!(
            blog_answer(&http, &blog.url, &access_token(login)).await,
            StatusCode::NOT_FOUND,
            "a session nobody revoked still works"
        );
    }
    assert!(blog.errors_logged().is_empty(), "{}", blog.log());
}

/// Run every future to completion, concurrently.
async fn all_at_once<F: std::future::Future<Output = ()> + Send + 'static>(
    futures: impl Iterator<Item = F>,
) {
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    for handle in handles {
        handle.await.expect("task");
    }
}
