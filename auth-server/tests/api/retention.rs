//! Retention (issue #11, item 18): ended sessions with their token chains,
//! old rotated tokens and old audit events are purged; nothing live is. The
//! clock is passed in: "100 days later" is an argument, not a wait.

use auth_server::app::retention::{purge, Purged};
use chrono::{Duration, Utc};
use reqwest::StatusCode;

use crate::helpers::{backend_tests, json_body, Backend, TestApp};

async fn refresh(app: &TestApp, token: &str) -> String {
    let response = app.refresh(token).await;
    assert_eq!(response.status(), StatusCode::OK);
    json_body(response).await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned()
}

async fn what_no_one_needs_is_purged_and_nothing_live_is(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("REFRESH_IDLE_TTL", "1h")]).await;
    let policy = app.state.config.retention;
    let user = app.user("keep@example.com").await;
    // One ended session (logged out now)…
    let ended = app.login_json(&user.email).await;
    assert_eq!(
        app.logout(ended["access_token"].as_str().expect("at"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    // …and one live session whose token was rotated three times.
    let live = app.login_json(&user.email).await;
    let mut current = live["refresh_token"].as_str().expect("rt").to_owned();
    for _ in 0..3 {
        current = refresh(&app, &current).await;
    }
    let sessions_before = app.count_rows("sessions").await;
    let tokens_before = app.count_rows("refresh_tokens").await;
    let audit_before = app.count_rows("audit_events").await;

    // Now: nothing is old enough (a shared rate-limit row whose bucket is
    // full again says nothing, and goes at once).
    let purged = purge(&app.state.db, &policy, Utc::now())
        .await
        .expect("purge");
    assert_eq!(
        Purged {
            rate_limit_states: 0,
            ..purged
        },
        Purged::default()
    );

    // Two hours on: the rotated tokens (idle TTL 1 h) go; the live token stays.
    let purged = purge(&app.state.db, &policy, Utc::now() + Duration::hours(2))
        .await
        .expect("purge");
    assert_eq!(purged.refresh_tokens, 3, "{purged:?}");
    assert_eq!(purged.sessions, 0, "{purged:?}");
    assert_eq!(app.count_rows("refresh_tokens").await, tokens_before - 3);

    // Eight days on: the logged-out session (ended > 7 days before) and its
    // chain go; so do the two live ones, which idled out a week ago.
    let purged = purge(&app.state.db, &policy, Utc::now() + Duration::days(8))
        .await
        .expect("purge");
    assert_eq!(sessions_before, 3);
    assert_eq!(purged.sessions, 3, "{purged:?}");
    assert_eq!(app.count_rows("sessions").await, 0);
    assert_eq!(app.count_rows("refresh_tokens").await, 0);
    assert_eq!(
        purged.security_events, 1,
        "the logout's event, past every token it could match: {purged:?}"
    );
    assert_eq!(app.count_rows("security_events").await, 0);
    assert_eq!(
        app.count_rows("audit_events").await,
        audit_before,
        "audit kept 90 days"
    );

    // A hundred days on: the audit trail of then is gone too.
    let purged = purge(&app.state.db, &policy, Utc::now() + Duration::days(100))
        .await
        .expect("purge");
    assert_eq!(purged.audit_events as i64, audit_before, "{purged:?}");
    assert_eq!(app.count_rows("audit_events").await, 0);
    assert_eq!(
        app.count_rows("users").await,
        1,
        "accounts are never purged"
    );
}

async fn a_live_session_keeps_working_after_a_purge(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("REFRESH_REUSE_GRACE", "0")]).await;
    let policy = app.state.config.retention;
    let user = app.user("live@example.com").await;
    let session = app.login_json(&user.email).await;
    let next = refresh(&app, session["refresh_token"].as_str().expect("rt")).await;
    purge(&app.state.db, &policy, Utc::now() + Duration::days(1))
        .await
        .expect("purge");
    refresh(&app, &next).await;
    assert_eq!(app.me(&user.token).await.status(), StatusCode::OK);
    // Reuse detection still works for the chain it kept.
    let reused = app
        .refresh(session["refresh_token"].as_str().expect("rt"))
        .await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
}

/// While another replica holds a purge's advisory lock, this one skips that
/// purge (PostgreSQL; SQLite has one writer and no such lock).
async fn a_purge_another_replica_is_running_is_skipped(backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
    let app = TestApp::spawn(backend).await;
    let policy = app.state.config.retention;
    let user = app.user("locked@example.com").await;
    let ended = app.login_json(&user.email).await;
    app.logout(ended["access_token"].as_str().expect("at"))
        .await;
    let later = Utc::now() + Duration::days(8);
    if backend != Backend::Postgres {
        return;
    }
    let other_replica = sea_orm::Database::connect(&app.database_url)
        .await
        .expect("second connection");
    let holding = other_replica.begin().await.expect("txn");
    holding
        .execute_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [signet_service::db::lock_id("auth-server:retention:refresh_tokens").into()],
        ))
        .await
        .expect("lock");
    let skipped = purge(&app.state.db, &policy, later).await.expect("purge");
    assert_eq!(skipped.refresh_tokens, 0, "{skipped:?}");
    assert_eq!(
        skipped.sessions, 0,
        "sessions wait for their chains: {skipped:?}"
    );
    holding.rollback().await.expect("release");
    let done = purge(&app.state.db, &policy, later).await.expect("purge");
    assert!(done.sessions >= 1 && done.refresh_tokens >= 1, "{done:?}");
}

async fn authorization_codes_are_kept_a_week_past_expiry_then_purged(backend: Backend) {
    use auth_server::oauth::codes::{issue, s256, NewCode};
    let app = TestApp::spawn(backend).await;
    let policy = app.state.config.retention;
    let user = app.user("codes@example.com").await;
    let challenge = s256(&"v".repeat(43));
    issue(
        &app.state.db,
        NewCode {
            client_id: "sgc_aaaaaaaaaaaaaaaa",
            user_id: uuid::Uuid::parse_str(&user.id).expect("uuid"),
            redirect_uri: "http://127.0.0.1:8081/cb",
            scope: "openid",
            nonce: None,
            code_challenge: &challenge,
            auth_time: Utc::now(),
            idp: None,
            methods: &auth_server::sessions::methods::Methods::password(),
            resource: None,
            browser_session: None,
        },
        Utc::now(),
    )
    .await
    .expect("issued");
    // Expired after a minute, but kept so that a late replay is still caught.
    let purged = purge(&app.state.db, &policy, Utc::now() + Duration::days(1))
        .await
        .expect("purge");
    assert_eq!(purged.authorization_codes, 0);
    let purged = purge(&app.state.db, &policy, Utc::now() + Duration::days(8))
        .await
        .expect("purge");
    assert_eq!(purged.authorization_codes, 1, "{purged:?}");
    assert_eq!(app.count_rows("authorization_codes").await, 0);
}

backend_tests!(
    authorization_codes_are_kept_a_week_past_expiry_then_purged,
    a_purge_another_replica_is_running_is_skipped,
    what_no_one_needs_is_purged_and_nothing_live_is,
    a_live_session_keeps_working_after_a_purge,
);
