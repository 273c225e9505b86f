use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::backend_tests;
use crate::helpers::{assert_problem, json_body, Backend, TestApp, PASSWORD};

async fn login_with_json_credentials_returns_a_bearer_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("json@example.com").await;
    let response = app.login("json@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json_body(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "openid profile email");
    assert!(
        body["access_token"]
            .as_str()
            .expect("token")
            .split('.')
            .count()
            == 3
    );
}

async fn login_with_http_basic_credentials_works_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("basic@example.com").await;
    let response = app.login_basic("basic@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let token = json_body(response).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    // Basic carries no audience: the token is for the default (a service).
    let claims = crate::helpers::claims_of(&token);
    assert_eq!(claims["aud"], app.state.config.login_audience.as_str());
    assert_eq!(
        app.get_with_token("/api/v1/auth/verify", &token)
            .await
            .status(),
        StatusCode::OK
    );
}

async fn login_email_is_case_insensitive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("case@example.com").await;
    assert_eq!(
        app.login("  CASE@Example.COM ", PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn login_with_unknown_email_is_rejected_like_a_wrong_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("known@example.com").await;
    let wrong_password = app.login("known@example.com", "not the password").await;
    let unknown_user = app.login("nobody@example.com", "not the password").await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_user.status(), StatusCode::UNAUTHORIZED);
    // A JSON login is not challenged with Basic (a browser would pop up
    // its password dialog); a Basic one is.
    for response in [&wrong_password, &unknown_user] {
        assert_eq!(
            response.headers()["www-authenticate"],
            "FormBased realm=\"signet\""
        );
    }
    let basic = app
        .login_basic("known@example.com", "not the password")
        .await;
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        basic.headers()["www-authenticate"],
        "Basic realm=\"signet\", charset=\"UTF-8\""
    );
    assert_eq!(
        json_body(wrong_password).await,
        json_body(unknown_user).await
    );
}

async fn a_disabled_user_cannot_log_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("disabled@example.com").await;
    let response = app
        .patch_user(&admin.token, &user.id, &json!({ "disabled": true }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app.login(&user.email, PASSWORD).await;
    assert_problem(response, StatusCode::UNAUTHORIZED).await;
    // The token issued before the account was disabled no longer opens the account either.
    assert_eq!(app.me(&user.token).await.status(), StatusCode::UNAUTHORIZED);
}

async fn a_hash_with_old_parameters_is_upgraded_at_the_next_login(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("upgrade@example.com").await;
    let stored = |app: &TestApp| {
        let db = app.state.db.clone();
        let id = uuid::Uuid::parse_str(&user.id).expect("uuid");
        async move {
            auth_server::accounts::entity::Entity::find_by_id(id)
                .one(&db)
                .await
                .expect("query")
                .expect("user")
                .password_hash
        }
    };
    let before = stored(&app).await;
    assert!(before.contains("m=4096,t=1,p=1"), "{before}");

    let stronger = TestApp::spawn_on(
        &app.database_url,
        &[("ARGON2_MEMORY_KIB", "8192"), ("ARGON2_ITERATIONS", "2")],
    )
    .await;
    assert_eq!(
        stronger.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );
    let after = stored(&stronger).await;
    assert!(after.contains("m=8192,t=2,p=1"), "{after}");
    assert_eq!(
        stronger.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn login_with_missing_fields_is_422_and_with_no_body_is_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .post_json("/api/v1/auth/login", &json!({ "email": "x@example.com" }))
        .await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

async fn malformed_basic_credentials_are_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("authorization", "Basic !!!not-base64")
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::BAD_REQUEST).await;
}

backend_tests!(
    login_with_json_credentials_returns_a_bearer_token,
    login_with_http_basic_credentials_works_too,
    login_email_is_case_insensitive,
    login_with_unknown_email_is_rejected_like_a_wrong_password,
    a_disabled_user_cannot_log_in,
    a_hash_with_old_parameters_is_upgraded_at_the_next_login,
    login_with_missing_fields_is_422_and_with_no_body_is_415,
    malformed_basic_credentials_are_400,
);
