//! Sessions: rotating refresh tokens, theft detection, logout, revocation, audit.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::helpers::{backend_tests, claims_of, json_body, Backend, TestApp, PASSWORD};

async fn assert_invalid_grant(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body(response).await["error"], "invalid_grant");
}

async fn login_starts_a_session_with_a_refresh_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("session@example.com").await;
    let body = app.login_json(&user.email).await;
    let refresh = body["refresh_token"].as_str().expect("refresh token");
    assert!(
        refresh.starts_with("sgr_") && refresh.len() == 47,
        "{refresh}"
    );
    let sid = claims_of(body["access_token"].as_str().expect("token"))["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    assert!(uuid::Uuid::parse_str(&sid).is_ok());
    let stored = auth_server::sessions::refresh_token::Entity::find()
        .all(&app.state.db)
        .await
        .expect("query");
    assert!(
        stored
            .iter()
            .all(|t| !refresh.contains(&t.token_hash) && t.token_hash.len() == 64),
        "only hashes stored"
    );
}

async fn each_refresh_rotates_the_token_and_keeps_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("rotate@example.com").await;
    let first = app.login_json(&user.email).await;
    let sid = claims_of(first["access_token"].as_str().expect("at"))["sid"].clone();
    let response = app
        .refresh(first["refresh_token"].as_str().expect("rt"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let second = json_body(response).await;
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let access = second["access_token"].as_str().expect("at");
    assert_eq!(claims_of(access)["sid"], sid);
    assert_eq!(app.me(access).await.status(), StatusCode::OK);
    let third = json_body(
        app.refresh(second["refresh_token"].as_str().expect("rt"))
            .await,
    )
    .await;
    assert!(third["refresh_token"].as_str().is_some());
}

async fn reusing_a_rotated_token_revokes_the_whole_family_and_is_audited(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("REFRESH_REUSE_GRACE", "0")]).await;
    let admin = app.admin().await;
    let user = app.user("victim@example.com").await;
    let stolen = app.login_json(&user.email).await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    // The legitimate client rotates; later the thief replays the old token.
    let successor = json_body(app.refresh(&stolen).await).await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    app.state
        .clock
        .advance(std::time::Duration::from_millis(1100));
    assert_invalid_grant(app.refresh(&stolen).await).await;
    // The whole family is gone: the legitimate successor no longer works either.
    assert_invalid_grant(app.refresh(&successor).await).await;
    let events = app.audit(&admin, "refresh.reuse_detected").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor"], user.id.as_str());
    let text = serde_json::to_string(&events).expect("json");
    assert!(
        !text.contains(&stolen) && !text.contains(&successor),
        "no token in the audit trail"
    );
}

async fn a_retry_inside_the_grace_window_gets_the_same_successor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("retry@example.com").await;
    let original = app.login_json(&user.email).await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    let first = json_body(app.refresh(&original).await).await;
    // The response was "lost"; the client retries with the old token.
    let retry = json_body(app.refresh(&original).await).await;
    assert_eq!(retry["refresh_token"], first["refresh_token"]);
    // And the family is intact.
    let next = app
        .refresh(first["refresh_token"].as_str().expect("rt"))
        .await;
    assert_eq!(next.status(), StatusCode::OK);
}

async fn concurrent_refreshes_of_one_token_rotate_it_exactly_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("race@example.com").await;
    let login = app.login_json(&user.email).await;
    let token = login["refresh_token"].as_str().expect("rt").to_owned();
    let sid = claims_of(login["access_token"].as_str().expect("at"))["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        let client = app.client.clone();
        let url = app.url("/oauth/token");
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                ])
                .send()
                .await
                .expect("request");
            (response.status(), json_body(response).await)
        }));
    }
    let mut successors = std::collections::HashSet::new();
    for task in tasks {
        let (status, body) = task.await.expect("task");
        assert_eq!(status, StatusCode::OK, "{body}");
        successors.insert(body["refresh_token"].as_str().expect("rt").to_owned());
    }
    assert_eq!(
        successors.len(),
        1,
        "one rotation, one successor: {successors:?}"
    );
    let rows = auth_server::sessions::refresh_token::Entity::find()
        .filter(
            auth_server::sessions::refresh_token::Column::SessionId
                .eq(uuid::Uuid::parse_str(&sid).expect("uuid")),
        )
        .count(&app.state.db)
        .await
        .expect("count");
    assert_eq!(rows, 2, "the original and exactly one successor");
}

async fn logout_ends_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("bye@example.com").await;
    let session = app.login_json(&user.email).await;
    let access = session["access_token"].as_str().expect("at");
    assert_eq!(app.logout(access).await.status(), StatusCode::NO_CONTENT);
    assert_invalid_grant(
        app.refresh(session["refresh_token"].as_str().expect("rt"))
            .await,
    )
    .await;
    assert_eq!(
        app.logout(access).await.status(),
        StatusCode::UNAUTHORIZED,
        "the ended session's access token opens nothing here, not even logout"
    );
    assert_eq!(app.audit(&admin, "session.logout").await.len(), 1);
    assert_eq!(
        app.get("/api/v1/auth/logout").await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

async fn rfc_7009_revocation_ends_the_session_and_always_answers_200(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("revoke@example.com").await;
    let refresh = app.login_json(&user.email).await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    let revoke = |token: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/oauth/revoke"))
                .form(&[
                    ("token", token.as_str()),
                    ("token_type_hint", "refresh_token"),
                ])
                .send()
                .await
                .expect("request")
                .status()
        }
    };
    assert_eq!(revoke(refresh.clone()).await, StatusCode::OK);
    assert_invalid_grant(app.refresh(&refresh).await).await;
    assert_eq!(revoke("sgr_unknown".into()).await, StatusCode::OK);
    assert_eq!(
        revoke(user.token.clone()).await,
        StatusCode::OK,
        "access tokens expire on their own"
    );
    let response = app
        .post_raw(
            "/oauth/revoke",
            "application/x-www-form-urlencoded",
            "nothing=here",
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

async fn changing_the_password_or_disabling_the_user_ends_every_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("many@example.com").await;
    let a = app.login_json(&user.email).await;
    let b = app.login_json(&user.email).await;
    let response = app
        .change_password(
            a["access_token"].as_str().expect("at"),
            PASSWORD,
            "a completely new passphrase",
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for session in [&a, &b] {
        assert_invalid_grant(
            app.refresh(session["refresh_token"].as_str().expect("rt"))
                .await,
        )
        .await;
    }
    let changed = app.audit(&admin, "password.changed").await;
    assert_eq!(
        changed[0]["detail"]["sessions_revoked"], 3,
        "two here and the one from sign-up's login"
    );

    let fresh = json_body(app.login(&user.email, "a completely new passphrase").await).await;
    app.patch_user(&admin.token, &user.id, &json!({ "disabled": true }))
        .await;
    assert_invalid_grant(
        app.refresh(fresh["refresh_token"].as_str().expect("rt"))
            .await,
    )
    .await;
    assert_eq!(app.audit(&admin, "user.disabled").await.len(), 1);
}

async fn users_see_and_end_their_own_sessions_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("devices@example.com").await;
    let other = app.user("other@example.com").await;
    let laptop = app.login_json(&user.email).await;
    let phone = app.login_json(&user.email).await;
    let laptop_access = laptop["access_token"].as_str().expect("at");
    let listed = json_body(
        app.get_with_token("/api/v1/users/me/sessions", laptop_access)
            .await,
    )
    .await;
    let listed = listed.as_array().expect("sessions");
    assert_eq!(listed.len(), 3, "sign-up helper login, laptop, phone");
    assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_sid = claims_of(phone["access_token"].as_str().expect("at"))["sid"]
        .as_str()
        .expect("sid")
        .to_owned();

    let foreign = app
        .client
        .delete(app.url(&format!("/api/v1/users/me/sessions/{phone_sid}")))
        .bearer_auth(&other.token)
        .send()
        .await
        .expect("request");
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let own = app
        .client
        .delete(app.url(&format!("/api/v1/users/me/sessions/{phone_sid}")))
        .bearer_auth(laptop_access)
        .send()
        .await
        .expect("request");
    assert_eq!(own.status(), StatusCode::NO_CONTENT);
    assert_invalid_grant(
        app.refresh(phone["refresh_token"].as_str().expect("rt"))
            .await,
    )
    .await;
    assert_eq!(
        app.refresh(laptop["refresh_token"].as_str().expect("rt"))
            .await
            .status(),
        StatusCode::OK
    );
}

async fn an_idle_session_expires(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("REFRESH_IDLE_TTL", "1s")]).await;
    let user = app.user("idle@example.com").await;
    let refresh = app.login_json(&user.email).await["refresh_token"]
        .as_str()
        .expect("rt")
        .to_owned();
    app.state
        .clock
        .advance(std::time::Duration::from_millis(1500));
    assert_invalid_grant(app.refresh(&refresh).await).await;
}

async fn malformed_refresh_requests_are_refused_cleanly(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for token in [
        "",
        "not-a-token",
        "sgr_",
        &"sgr_x".repeat(100),
        "' OR 1=1 --",
    ] {
        let response = app.refresh(token).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{token:?}");
    }
    let response = app
        .oauth_token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", "sgr_x"),
                ("client_id", "someone-else"),
            ],
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn the_audit_trail_records_who_did_what_without_secrets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("audited@example.com").await;
    assert_eq!(
        app.login(&user.email, "wrong password!").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, key) = app.api_key(&admin, "audited-key", &["x"]).await;
    let failures = app.audit(&admin, "login.failure").await;
    assert_eq!(failures[0]["subject"], "audited@example.com");
    assert_eq!(failures[0]["ip"], "127.0.0.1");
    assert_eq!(app.audit(&admin, "user.signup").await.len(), 1);
    assert!(!app.audit(&admin, "login.success").await.is_empty());
    assert_eq!(app.audit(&admin, "api_key.created").await.len(), 1);

    let everything = app
        .get_with_token("/api/v1/audit?limit=200", &admin.token)
        .await
        .text()
        .await
        .expect("body");
    for secret in [
        PASSWORD,
        "wrong password!",
        key.as_str(),
        user.token.as_str(),
    ] {
        assert!(!everything.contains(secret), "audit leaked a secret");
    }
    assert_eq!(
        app.get_with_token("/api/v1/audit", &user.token)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let stored = auth_server::audit::entity::Entity::find()
        .filter(auth_server::audit::entity::Column::Event.eq("login.failure"))
        .count(&app.state.db)
        .await
        .expect("count");
    assert_eq!(stored, 1);
}

backend_tests!(
    login_starts_a_session_with_a_refresh_token,
    each_refresh_rotates_the_token_and_keeps_the_session,
    reusing_a_rotated_token_revokes_the_whole_family_and_is_audited,
    a_retry_inside_the_grace_window_gets_the_same_successor,
    concurrent_refreshes_of_one_token_rotate_it_exactly_once,
    logout_ends_the_session,
    rfc_7009_revocation_ends_the_session_and_always_answers_200,
    changing_the_password_or_disabling_the_user_ends_every_session,
    users_see_and_end_their_own_sessions_only,
    an_idle_session_expires,
    malformed_refresh_requests_are_refused_cleanly,
    the_audit_trail_records_who_did_what_without_secrets,
);
