//! `POST /oauth/token` with `client_credentials` (RFC 6749 §4.4, errors §5.2).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::backend_tests;
use crate::helpers::{claims_of, client_id_of, json_body, Backend, TestApp};

async fn assert_oauth_error(response: reqwest::Response, status: StatusCode, code: &str) {
    assert_eq!(response.status(), status);
    assert_eq!(response.headers()["cache-control"], "no-store");
    if status == StatusCode::UNAUTHORIZED {
        assert!(response.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .starts_with("Basic"));
    }
    assert_eq!(json_body(response).await["error"], code);
}

async fn an_api_key_gets_a_service_token_with_basic_authentication(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, key) = app
        .api_key(&admin, "scraper", &["posts:write", "posts:read"])
        .await;
    let client_id = client_id_of(&key);
    let response = app
        .oauth_token(
            &[("grant_type", "client_credentials")],
            Some((&client_id, &key)),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json_body(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["expires_in"], 300,
        "service tokens default to 5 minutes"
    );
    assert_eq!(body["scope"], "posts:write posts:read");
    assert!(body.get("refresh_token").is_none());
    let claims = claims_of(body["access_token"].as_str().expect("token"));
    assert_eq!(claims["sub"], client_id.as_str());
    assert_eq!(claims["client_id"], client_id.as_str());
    assert_eq!(claims["name"], "scraper");
    assert!(claims.get("email").is_none());
    assert!(claims.get("acr").is_none(), "no person signed in: no acr");
    assert_eq!(claims["iss"], app.address.as_str());
}

async fn client_credentials_in_the_body_and_json_bodies_work_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, key) = app.api_key(&admin, "form", &["a"]).await;
    let client_id = client_id_of(&key);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", key.as_str()),
    ];
    assert_eq!(app.oauth_token(&form, None).await.status(), StatusCode::OK);
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .json(&json!({ "grant_type": "client_credentials", "client_id": client_id, "client_secret": key }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
}

async fn a_requested_scope_narrows_and_more_than_granted_is_invalid_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, key) = app
        .api_key(&admin, "narrow", &["posts:write", "posts:read"])
        .await;
    let client_id = client_id_of(&key);
    let response = app
        .oauth_token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "posts:read"),
            ],
            Some((&client_id, &key)),
        )
        .await;
    assert_eq!(json_body(response).await["scope"], "posts:read");
    let response = app
        .oauth_token(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "posts:read users:admin"),
            ],
            Some((&client_id, &key)),
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_scope").await;
}

async fn wrong_or_unknown_credentials_are_invalid_client(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, key) = app.api_key(&admin, "victim", &[]).await;
    let client_id = client_id_of(&key);
    let grant = [("grant_type", "client_credentials")];
    let wrong_secret = format!("{client_id}_{}", "A".repeat(43));
    for (id, secret) in [
        (client_id.as_str(), wrong_secret.as_str()),
        ("sgn_aaaaaaaaaaaaaaaa", key.as_str()),
        ("sgn_../../etc", key.as_str()),
        ("' OR 1=1 --", "x"),
    ] {
        assert_oauth_error(
            app.oauth_token(&grant, Some((id, secret))).await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        )
        .await;
    }
    assert_oauth_error(
        app.oauth_token(&grant, None).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
}

async fn a_revoked_key_gets_no_new_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (id, key) = app.api_key(&admin, "leaked", &[]).await;
    let client_id = client_id_of(&key);
    let grant = [("grant_type", "client_credentials")];
    assert_eq!(
        app.oauth_token(&grant, Some((&client_id, &key)))
            .await
            .status(),
        StatusCode::OK
    );
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/api-keys/{id}")))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_oauth_error(
        app.oauth_token(&grant, Some((&client_id, &key))).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    )
    .await;
}

async fn malformed_token_requests_get_rfc_6749_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, key) = app.api_key(&admin, "errors", &[]).await;
    let client_id = client_id_of(&key);
    let basic = Some((client_id.as_str(), key.as_str()));
    assert_oauth_error(
        app.oauth_token(&[], basic).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        app.oauth_token(
            &[
                ("grant_type", "password"),
                ("username", "x"),
                ("password", "y"),
            ],
            basic,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    )
    .await;
    assert_oauth_error(
        app.oauth_token(
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
            basic,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    assert_oauth_error(
        app.oauth_token(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id.as_str()),
            ],
            basic,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    )
    .await;
    let response = app
        .post_raw(
            "/oauth/token",
            "text/plain",
            "grant_type=client_credentials",
        )
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    let response = app
        .post_raw("/oauth/token", "application/json", "{not json")
        .await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_request").await;
}

async fn service_tokens_verify_like_user_tokens_and_last_use_is_recorded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, key) = app.api_key(&admin, "verified", &["posts:write"]).await;
    let client_id = client_id_of(&key);
    let body = json_body(
        app.oauth_token(
            &[("grant_type", "client_credentials")],
            Some((&client_id, &key)),
        )
        .await,
    )
    .await;
    let token = body["access_token"].as_str().expect("token");
    let verified = app
        .state
        .keys
        .verifier()
        .verify(token)
        .await
        .expect("service token verifies");
    assert!(verified.claims().is_service());
    assert!(verified.claims().has_scope("posts:write"));
    // The use is written in the background; poll briefly.
    for _ in 0..50 {
        let listed = json_body(app.get_with_token("/api/v1/api-keys", &admin.token).await).await;
        if listed[0]["last_used_at"].is_string() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("last_used_at was never recorded");
}

async fn the_discovery_document_announces_client_credentials(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json_body(app.get("/.well-known/openid-configuration").await).await;
    assert_eq!(
        body["grant_types_supported"],
        json!([
            "authorization_code",
            "client_credentials",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:ietf:params:oauth:grant-type:device_code"
        ])
    );
    assert_eq!(
        body["revocation_endpoint"],
        format!("{}/oauth/revoke", app.address)
    );
    assert_eq!(
        body["token_endpoint"],
        format!("{}/oauth/token", app.address)
    );
}

backend_tests!(
    an_api_key_gets_a_service_token_with_basic_authentication,
    client_credentials_in_the_body_and_json_bodies_work_too,
    a_requested_scope_narrows_and_more_than_granted_is_invalid_scope,
    wrong_or_unknown_credentials_are_invalid_client,
    a_revoked_key_gets_no_new_tokens,
    malformed_token_requests_get_rfc_6749_errors,
    service_tokens_verify_like_user_tokens_and_last_use_is_recorded,
    the_discovery_document_announces_client_credentials,
);
