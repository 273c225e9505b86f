//! Bad input gets a precise 4xx problem, never a 500.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::backend_tests;
use crate::helpers::{assert_problem, Backend, TestApp, PASSWORD};

async fn malformed_json_is_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .post_raw("/api/v1/users", "application/json", "{\"email\": ")
        .await;
    assert_problem(response, StatusCode::BAD_REQUEST).await;
}

async fn a_body_that_is_not_json_is_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .post_raw("/api/v1/users", "text/plain", "email=a@b.c")
        .await;
    assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

async fn a_body_over_the_limit_is_413(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let huge = format!(
        r#"{{"email":"big@example.com","password":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    let response = app
        .post_raw("/api/v1/users", "application/json", huge)
        .await;
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

async fn wrong_json_types_are_422_naming_the_field_without_echoing_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .signup(&json!({ "email": "types@example.com", "password": 12345678901_i64 }))
        .await;
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["errors"][0]["field"], "password");
    assert!(!body.to_string().contains("12345678901"));
}

async fn an_unknown_route_is_a_json_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_problem(app.get("/api/v1/nope").await, StatusCode::NOT_FOUND).await;
}

async fn a_wrong_method_is_a_json_405(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .put(app.url("/api/v1/auth/login"))
        .send()
        .await
        .expect("request");
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
}

async fn sql_looking_input_is_just_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.login("' OR 1=1 --@example.com", PASSWORD).await;
    assert_problem(response, StatusCode::UNAUTHORIZED).await;
    let response = app
        .signup(&json!({ "email": "robert@example.com", "password": PASSWORD, "display_name": "Robert'); DROP TABLE users;--" }))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        app.login("robert@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn an_oversized_bearer_token_is_refused_before_parsing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.me(&"a".repeat(9000)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn a_malformed_authorization_header_is_400_invalid_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .get(app.url("/api/v1/users/me"))
        .header("authorization", "Bearer ")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.contains("error=\"invalid_request\""),
        "{challenge}"
    );
}

backend_tests!(
    malformed_json_is_400,
    a_body_that_is_not_json_is_415,
    a_body_over_the_limit_is_413,
    wrong_json_types_are_422_naming_the_field_without_echoing_it,
    an_unknown_route_is_a_json_404,
    a_wrong_method_is_a_json_405,
    sql_looking_input_is_just_text,
    an_oversized_bearer_token_is_refused_before_parsing,
    a_malformed_authorization_header_is_400_invalid_request,
);
