//! PostgreSQL stopped and restarted under a running auth-server: `/readyz`
//! turns unready, requests that need the database get a 503 problem (not a
//! 500, not a hang past DB_ACQUIRE_TIMEOUT), what needs no database keeps
//! working, service resumes by itself, and no change is left half-written.

use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use signet_e2e::{
    json_body, log_in, log_in_for, sign_up, test_tuning, PrivatePostgres, Service, ACCOUNT_AUDIENCE,
};

/// Generous against DB_ACQUIRE_TIMEOUT=2s: a request still waiting after this
/// is a hang, and the client gives up with an error that fails the test.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(15);

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("row")
        .try_get_by_index::<i64>(0)
        .expect("count")
}

#[tokio::test]
#[cfg_attr(
    not(signet_pg_bin),
    ignore = "needs PostgreSQL's server binaries (initdb, pg_ctl): install them (Debian: postgresql) or set PG_BIN_DIR"
)]
async fn a_database_outage_gives_503s_then_service_resumes_with_nothing_half_written() {
    let postgres = PrivatePostgres::start();
    let dir = signet_e2e::shared_tempdir();
    let http = reqwest::Client::builder()
        .timeout(CLIENT_TIMEOUT)
        .build()
        .expect("client");
    let mut env = vec![
        ("DATABASE_URL", postgres.url()),
        ("KEYS_DIR", dir.path().join("keys").display().to_string()),
        ("DB_ACQUIRE_TIMEOUT", "2s".to_owned()),
    ];
    env.extend(test_tuning());
    let mut auth = Service::start("auth-server", dir.path(), &env);
    auth.wait_ready().await;
    assert_eq!(
        sign_up(&http, &auth.url, "before@example.com").await,
        StatusCode::ACCEPTED
    );
    let before = log_in_for(
        &http,
        &auth.url,
        "before@example.com",
        Some(ACCOUNT_AUDIENCE),
    )
    .await;
    let access = before["access_token"].as_str().expect("token").to_owned();
    // What a gateway sees: a token for the services, not for the account API.
    let for_services = log_in(&http, &auth.url, "before@example.com").await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();

    // Logins racing the stop: each is a session and its refresh token, which
    // must be written together or not at all.
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let (http, url) = (http.clone(), auth.url.clone());
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for _ in 0..3 {
                    let response = http
                        .post(format!("{url}/api/v1/auth/login"))
                        .json(&json!({ "email": "before@example.com", "password": signet_e2e::PASSWORD }))
                        .send()
                        .await
                        .expect("an answer before the client timeout");
                    statuses.push(response.status());
                }
                statuses
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    postgres.halt();
    for racer in racers {
        for status in racer.await.expect("racer") {
            assert!(
                status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
                "a login during the outage got {status}"
            );
        }
    }

    let ready = http
        .get(format!("{}/readyz", auth.url))
        .send()
        .await
        .expect("readyz answers");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json_body(ready).await["checks"]["database"], false);

    for (what, response) in [
        (
            "sign-up",
            http.post(format!("{}/api/v1/users", auth.url))
                .json(&json!({ "email": "during@example.com", "password": signet_e2e::PASSWORD }))
                .send()
                .await,
        ),
        (
            "login",
            http.post(format!("{}/api/v1/auth/login", auth.url))
                .json(&json!({ "email": "before@example.com", "password": signet_e2e::PASSWORD }))
                .send()
                .await,
        ),
        (
            "refresh",
            http.post(format!("{}/oauth/token", auth.url))
                .form(&[
                    ("grant_type", "refresh_token"),
                    (
                        "refresh_token",
                        before["refresh_token"].as_str().expect("rt"),
                    ),
                ])
                .send()
                .await,
        ),
        (
            "me",
            http.get(format!("{}/api/v1/users/me", auth.url))
                .bearer_auth(&access)
                .send()
                .await,
        ),
    ] {
        let response = response.unwrap_or_else(|e| panic!("{what}: no answer in time: {e}"));
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{what}");
        assert!(response.headers().contains_key("retry-after"), "{what}");
        let problem: Value = json_body(response).await;
        assert_eq!(problem["status"], 503, "{what}: {problem}");
    }

    // What needs no database keeps working from memory.
    let jwks = http
        .get(format!("{}/.well-known/jwks.json", auth.url))
        .send()
        .await
        .expect("jwks");
    assert_eq!(jwks.status(), StatusCode::OK);
    let verified = http
        .get(format!("{}/api/v1/auth/verify", auth.url))
        .bearer_auth(&for_services)
        .send()
        .await
        .expect("verify");
    assert_eq!(verified.status(), StatusCode::OK);

    // The database returns: auth-server resumes without a restart.
    postgres.resume();
    let mut resumed = false;
    for _ in 0..150 {
        let ready = http.get(format!("{}/readyz", auth.url)).send().await;
        if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
            resumed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        resumed,
        "auth-server did not become ready again:\n{}",
        auth.log()
    );
    assert_eq!(
        sign_up(&http, &auth.url, "after@example.com").await,
        StatusCode::ACCEPTED
    );
    log_in(&http, &auth.url, "after@example.com").await;
    log_in(&http, &auth.url, "before@example.com").await;

    let db = sea_orm::Database::connect(postgres.url())
        .await
        .expect("connect");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM users WHERE email = 'during@example.com'"
        )
        .await,
        0,
        "the refused sign-up left nothing behind"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM users").await, 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM sessions s WHERE NOT EXISTS \
             (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id)"
        )
        .await,
        0,
        "every session has its refresh token"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM sessions s WHERE NOT EXISTS \
             (SELECT 1 FROM audit_events a WHERE a.event = 'login.success' \
              AND a.detail LIKE '%' || s.id::text || '%')"
        )
        .await,
        0,
        "every session has its login.success audit row"
    );
    let not_503: Vec<String> = auth
        .errors_logged()
        .into_iter()
        .filter(|line| !line.contains(r#""status":503"#))
        .collect();
    assert!(not_503.is_empty(), "only 503s: {not_503:#?}");
    auth.kill();
}
