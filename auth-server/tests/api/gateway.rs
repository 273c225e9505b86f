//! Forward-auth for gateways and RFC 7662 introspection.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{backend_tests, client_id_of, json_body, Backend, TestApp};

async fn forward_auth_answers_200_with_identity_headers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let token = app.service_audience_token(&admin.email).await;
    let response = app.get_with_token("/api/v1/auth/verify", &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["x-auth-user"], admin.id.as_str());
    assert_eq!(headers["x-auth-email"], "root@example.com");
    assert_eq!(headers["x-auth-roles"], "admin");
    assert_eq!(headers["x-auth-scopes"], "openid profile email");
    assert_eq!(headers["x-auth-client-id"], "signet");

    let (_, key) = app.api_key(&admin, "svc", &["posts:write"]).await;
    let client_id = client_id_of(&key);
    let service = json_body(
        app.oauth_token(
            &[("grant_type", "client_credentials")],
            Some((&client_id, &key)),
        )
        .await,
    )
    .await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/verify"))
        .bearer_auth(service["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "any method: gateways forward the original one"
    );
    assert_eq!(response.headers()["x-auth-client-id"], client_id.as_str());
    assert_eq!(response.headers()["x-auth-user"], client_id.as_str());
    assert_eq!(response.headers()["x-auth-scopes"], "posts:write");
}

async fn forward_auth_answers_401_with_a_challenge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let missing = app.get("/api/v1/auth/verify").await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.headers()["www-authenticate"],
        "Bearer realm=\"signet\""
    );
    let bad = app.get_with_token("/api/v1/auth/verify", "garbage").await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(bad.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .contains("invalid_token"));
    assert!(bad.headers().get("x-auth-user").is_none());
}

async fn forward_auth_needs_no_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("nodb@example.com").await;
    let service_token = app.service_audience_token(&user.email).await;
    app.state.db.clone().close().await.expect("close the pool");
    assert_eq!(
        app.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let response = app
        .get_with_token("/api/v1/auth/verify", &service_token)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "verified from keys in memory alone"
    );
    // What does need the database answers 503 with Retry-After, not 500.
    let login = app.login(&user.email, crate::helpers::PASSWORD).await;
    assert_eq!(
        login
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().expect("ascii")),
        Some("1")
    );
    crate::helpers::assert_problem(login, StatusCode::SERVICE_UNAVAILABLE).await;
    let me = app.me(&user.token).await;
    crate::helpers::assert_problem(me, StatusCode::SERVICE_UNAVAILABLE).await;
}

async fn introspection_reports_live_tokens_and_nothing_about_dead_ones(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, key) = app
        .api_key(&admin, "resource-server", &["introspect"])
        .await;
    let client_id = client_id_of(&key);
    let introspect = |token: String| {
        let app = &app;
        let (client_id, key) = (client_id.clone(), key.clone());
        async move {
            let response = app
                .client
                .post(app.url("/oauth/introspect"))
                .basic_auth(client_id, Some(key))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .expect("request");
            assert_eq!(response.status(), StatusCode::OK);
            json_body(response).await
        }
    };
    let user = app.user("intro@example.com").await;
    let live = introspect(user.token.clone()).await;
    assert_eq!(live["active"], true);
    assert_eq!(live["sub"], user.id.as_str());
    assert_eq!(live["iss"], app.address.as_str());
    assert_eq!(live["token_type"], "Bearer");
    assert!(live["exp"].as_i64().is_some());

    assert_eq!(
        introspect("garbage".into()).await,
        json!({ "active": false })
    );
    let mut expired = app.valid_claims(&user.id);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    assert_eq!(
        introspect(app.sign(app.at_jwt_header(), &expired)).await["active"],
        false
    );

    // Logged out: still a valid JWT, but introspection knows the session ended.
    assert_eq!(
        app.logout(&user.token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        introspect(user.token.clone()).await,
        json!({ "active": false })
    );

    let other = app.user("disabled-intro@example.com").await;
    app.patch_user(&admin.token, &other.id, &json!({ "disabled": true }))
        .await;
    assert_eq!(introspect(other.token.clone()).await["active"], false);

    let anonymous = app
        .client
        .post(app.url("/oauth/introspect"))
        .form(&[("token", admin.token.as_str())])
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_body(anonymous).await["error"], "invalid_client");
}

backend_tests!(
    forward_auth_answers_200_with_identity_headers,
    forward_auth_answers_401_with_a_challenge,
    forward_auth_needs_no_database,
    introspection_reports_live_tokens_and_nothing_about_dead_ones,
);
