//! RFC 7591 dynamic client registration: off unless an initial access token
//! is configured; with it, the registration's rules and errors (§3.2.2),
//! third-party clients, the per-IP limit and the audit trail.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::authorize::{sign_in, Rp, REDIRECT};
use crate::helpers::{backend_tests, json_body, Backend, TestApp, PASSWORD};

const TOKEN: &str = "initial-access-token-0123456789abcdef";

async fn register(app: &TestApp, token: Option<&str>, body: &Value) -> reqwest::Response {
    let mut request = app.client.post(app.url("/oauth/register")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

async fn registration_is_off_without_an_initial_access_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let discovery = json_body(app.get("/.well-known/openid-configuration").await).await;
    assert!(discovery.get("registration_endpoint").is_none());
    let response = register(&app, Some(TOKEN), &json!({ "redirect_uris": [REDIRECT] })).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

async fn a_client_registers_itself_with_the_initial_access_token(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("REGISTRATION_TOKEN", TOKEN)]).await;
    let discovery = json_body(app.get("/.well-known/openid-configuration").await).await;
    assert_eq!(
        discovery["registration_endpoint"],
        app.url("/oauth/register")
    );
    for token in [None, Some("wrong-token-0123456789abcdef0123456789")] {
        let refused = register(&app, token, &json!({ "redirect_uris": [REDIRECT] })).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(refused.headers()["www-authenticate"]
            .to_str()
            .expect("ascii")
            .starts_with("Bearer"));
    }

    // A public client: no secret, the scopes this server offers.
    let public = register(
        &app,
        Some(TOKEN),
        &json!({
            "client_name": "Desktop Agent",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
            "scope": "openid email admin:everything",
            "software_id": "ignored, as RFC 7591 §2 allows",
        }),
    )
    .await;
    assert_eq!(public.status(), StatusCode::CREATED);
    assert_eq!(public.headers()["cache-control"], "no-store");
    let public = json_body(public).await;
    let client_id = public["client_id"].as_str().expect("id").to_owned();
    assert!(client_id.starts_with("sgc_"));
    assert!(public.get("client_secret").is_none());
    assert_eq!(public["token_endpoint_auth_method"], "none");
    assert_eq!(public["scope"], "openid email");
    assert_eq!(
        public["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    // Third-party: signing in leads to the consent page.
    let user = app.user("dyn@example.com").await;
    let page = sign_in(
        &app,
        &Rp {
            id: client_id.clone(),
            secret: String::new(),
        },
        &user.email,
        PASSWORD,
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("html").contains("Desktop Agent"));

    // A confidential one: its secret once, never expiring.
    let confidential =
        json_body(register(&app, Some(TOKEN), &json!({ "redirect_uris": [REDIRECT] })).await).await;
    assert_eq!(
        confidential["token_endpoint_auth_method"],
        "client_secret_basic"
    );
    assert_eq!(confidential["client_secret_expires_at"], 0);
    let secret = confidential["client_secret"].as_str().expect("secret");
    assert!(auth_server::clients::authenticate(
        &app.state.db,
        confidential["client_id"].as_str().expect("id"),
        Some(secret)
    )
    .await
    .is_ok());
    // Audited, by the registration.
    let admin = app.admin().await;
    let audit = app.audit(&admin, "client.created").await;
    assert!(audit
        .iter()
        .any(|e| e["actor"] == "dynamic-registration" && e["subject"] == client_id.as_str()));
}

async fn bad_metadata_gets_the_rfc_7591_error(backend: Backend) {
    let app = TestApp::spawn_with(backend, &[("REGISTRATION_TOKEN", TOKEN)]).await;
    for (body, error) in [
        (
            json!({ "redirect_uris": ["http://agent.example.com/cb"] }),
            "invalid_redirect_uri",
        ),
        (
            json!({ "redirect_uris": ["https://*.example.com/cb"] }),
            "invalid_redirect_uri",
        ),
        (json!({}), "invalid_redirect_uri"),
        (
            json!({ "redirect_uris": REDIRECT }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt" }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": [REDIRECT], "response_types": ["token"] }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": [REDIRECT], "grant_types": ["implicit"] }),
            "invalid_client_metadata",
        ),
        (
            json!({ "redirect_uris": [REDIRECT], "client_name": "x".repeat(101) }),
            "invalid_client_metadata",
        ),
        // This server would post to it at every sign-out: not the
        // registrant's to choose (an internal address, say).
        (
            json!({
                "redirect_uris": [REDIRECT],
                "backchannel_logout_uri": "http://127.0.0.1:5432/logout",
            }),
            "invalid_client_metadata",
        ),
    ] {
        let response = register(&app, Some(TOKEN), &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(json_body(response).await["error"], error, "{body}");
    }
    let not_json = app
        .client
        .post(app.url("/oauth/register"))
        .bearer_auth(TOKEN)
        .body("redirect_uris=x")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    // Registrations come out of the per-IP sign-up bucket.
    let limited = TestApp::spawn_with(
        backend,
        &[
            ("REGISTRATION_TOKEN", TOKEN),
            ("RATE_LIMIT_SIGNUP_PER_IP", "2/1h"),
        ],
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            register(
                &limited,
                Some(TOKEN),
                &json!({ "redirect_uris": [REDIRECT] }),
            )
            .await
            .status(),
        );
    }
    assert_eq!(
        statuses,
        [
            StatusCode::CREATED,
            StatusCode::CREATED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

backend_tests!(
    registration_is_off_without_an_initial_access_token,
    a_client_registers_itself_with_the_initial_access_token,
    bad_metadata_gets_the_rfc_7591_error,
);
