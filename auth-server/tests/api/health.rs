use reqwest::StatusCode;

use crate::helpers::backend_tests;
use crate::helpers::{json_body, Backend, TestApp};

async fn healthz_answers_while_the_process_is_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_body(response).await["status"], "ok");
}

async fn readyz_reports_the_database_and_the_signing_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    assert_eq!(body["checks"]["database"], true);
    assert_eq!(body["checks"]["signing_key"], true);
}

async fn openapi_document_lists_every_route(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json_body(app.get("/openapi.json").await).await;
    assert!(body["openapi"]
        .as_str()
        .expect("version")
        .starts_with("3.1"));
    for path in [
        "/healthz",
        "/readyz",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/api/v1/auth/login",
        "/api/v1/users",
        "/api/v1/users/me",
        "/api/v1/users/me/password",
        "/api/v1/users/{id}",
        "/api/v1/api-keys",
        "/api/v1/api-keys/{id}",
        "/oauth/token",
    ] {
        assert!(
            body["paths"][path].is_object(),
            "{path} missing from /openapi.json"
        );
    }
    // Where to send requests, and how to authenticate each.
    assert_eq!(body["servers"][0]["url"], app.address);
    let schemes = &body["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["basic"]["scheme"], "basic");
    let login_security = body["paths"]["/api/v1/auth/login"]["post"]["security"].to_string();
    assert!(login_security.contains("basic"), "{login_security}");
    // The token endpoint's form, field by field.
    let form = &body["paths"]["/oauth/token"]["post"]["requestBody"]["content"]
        ["application/x-www-form-urlencoded"]["schema"];
    let reference = form["$ref"].as_str().expect("a schema reference");
    let name = reference.rsplit('/').next().expect("name");
    let fields = &body["components"]["schemas"][name]["properties"];
    for field in [
        "grant_type",
        "refresh_token",
        "code_verifier",
        "subject_token",
    ] {
        assert!(fields[field].is_object(), "{field} in {fields}");
    }
}

/// Every `in: path` parameter is a `{name}` of its path and the other way
/// round (query parameters once were declared `in: path`).
async fn openapi_path_parameters_are_the_variables_of_their_paths(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json_body(app.get("/openapi.json").await).await;
    signet_service::testing::assert_path_parameters_match(&body);
}

/// The document checked by a validator this project did not write
/// (openapi-spec-validator; `.ci/run` installs it).
#[cfg_attr(
    not(signet_openapi_validator),
    ignore = "needs openapi-spec-validator: install it (Debian: python3-openapi-spec-validator) or set OPENAPI_VALIDATOR to a python3 that has it"
)]
#[tokio::test]
async fn openapi_document_passes_an_independent_validator() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let body = app.get("/openapi.json").await.text().await.expect("body");
    signet_service::testing::assert_valid_openapi(&body);
}

async fn metrics_count_requests_logins_tokens_and_rejections(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("metrics@example.com").await;
    assert_eq!(
        app.login(&user.email, "wrong password").await.status(),
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me("not-a-token").await.status(),
        reqwest::StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/metrics").await.status(),
        StatusCode::NOT_FOUND,
        "not on the public port"
    );
    let response = app.metrics().await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.expect("body");
    for line in [
        "logins_total{outcome=\"failure\"} 1",
        "logins_total{outcome=\"success\"} 1",
        "tokens_issued_total{grant=\"password\"} 1",
        "http_requests_total{method=\"POST\",route=\"/api/v1/auth/login\",status=\"401\"} 1",
        "http_requests_total{method=\"POST\",route=\"/api/v1/users\",status=\"202\"} 1",
        "token_verification_failures_total{reason=\"malformed\"} 1",
        "# TYPE http_requests_total counter",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        !text.contains(&user.token) && !text.contains("metrics@example.com"),
        "no identities or secrets in metrics"
    );
}

backend_tests!(
    metrics_count_requests_logins_tokens_and_rejections,
    healthz_answers_while_the_process_is_up,
    readyz_reports_the_database_and_the_signing_key,
    openapi_document_lists_every_route,
    openapi_path_parameters_are_the_variables_of_their_paths,
);

/// `/docs`: the document as a page a browser shows without any script or
/// outside asset, under the same CSP as the sign-in page.
#[tokio::test]
async fn the_api_documentation_page_is_self_contained() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    signet_service::testing::assert_docs_page(
        &app.address,
        &[
            "/oauth/token",
            "/api/v1/auth/login",
            "TokenRequest",
            "bearer",
            "basic",
        ],
    )
    .await;
}
