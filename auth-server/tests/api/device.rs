//! The device authorization grant (RFC 8628) as a command-line tool and its
//! person use it: the tool asks for codes and polls; the person signs in at
//! `/device` in a browser, types the code, sees who asks, and allows or
//! denies. Each error of §3.5 is provoked: `authorization_pending`,
//! `slow_down`, `access_denied`, `expired_token`, and a used, foreign or
//! made-up device code.

use std::time::Duration;

use auth_server::clients::{self, Actor, NewClient};
use reqwest::StatusCode;
use serde_json::Value;

use crate::account_pages::Browser;
use crate::helpers::{backend_tests, claims_of, json_body, Backend, TestApp, PASSWORD};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn cli_client(app: &TestApp, grants: &[&str]) -> String {
    clients::register(
        &app.state.db,
        NewClient {
            name: "Signet CLI".into(),
            public: true,
            grant_types: grants.iter().map(|g| (*g).to_owned()).collect(),
            redirect_uris: if grants.contains(&"authorization_code") {
                vec!["http://127.0.0.1:8081/cb".into()]
            } else {
                Vec::new()
            },
            ..NewClient::default()
        },
        Actor {
            id: "test",
            ip: None,
        },
        app.state.clock.now(),
    )
    .await
    .expect("registered")
    .client
    .client_id
}

async fn ask(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/oauth/device_authorization"))
        .form(form)
        .send()
        .await
        .expect("request")
}

async fn codes(app: &TestApp, client_id: &str) -> Value {
    let response = ask(app, &[("client_id", client_id), ("scope", "openid email")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    json_body(response).await
}

async fn poll(app: &TestApp, client_id: &str, device_code: &str) -> reqwest::Response {
    app.oauth_token(
        &[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ],
        None,
    )
    .await
}

async fn poll_error(app: &TestApp, client_id: &str, device_code: &str) -> String {
    let response = poll(app, client_id, device_code).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    json_body(response).await["error"]
        .as_str()
        .expect("error")
        .to_owned()
}

/// The person's part: sign in, open the code form, type `typed`, and
/// answer the consent page with `decision`. The last page.
async fn person_decides(
    browser: &mut Browser<'_>,
    email: &str,
    typed: &str,
    decision: &str,
) -> crate::account_pages::Answer {
    browser.sign_in(email, PASSWORD).await;
    let form = browser.get("/device").await;
    assert_eq!(form.status, StatusCode::OK);
    let consent = browser.post("/device", &[("user_code", typed)]).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.html);
    let code = consent
        .html
        .split("name=\"user_code\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the code in the form")
        .to_owned();
    browser
        .post(
            "/device/decision",
            &[("user_code", code.as_str()), ("decision", decision)],
        )
        .await
}

async fn a_cli_gets_tokens_once_its_person_allows_it_at_the_device_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let discovery = json_body(app.get("/.well-known/openid-configuration").await).await;
    assert_eq!(
        discovery["device_authorization_endpoint"],
        app.url("/oauth/device_authorization")
    );
    assert!(discovery["grant_types_supported"]
        .as_array()
        .expect("grants")
        .contains(&Value::from(DEVICE_GRANT)));
    let user = app.user("cli-user@example.com").await;
    let cli = cli_client(&app, &[DEVICE_GRANT, "refresh_token"]).await;

    let issued = codes(&app, &cli).await;
    let device_code = issued["device_code"].as_str().expect("device code");
    let user_code = issued["user_code"].as_str().expect("user code");
    assert_eq!(issued["verification_uri"], app.url("/device"));
    assert_eq!(issued["expires_in"], 600);
    assert_eq!(issued["interval"], 5);
    assert!(
        user_code.len() == 9 && user_code.as_bytes()[4] == b'-',
        "{user_code}"
    );
    assert_eq!(
        issued["verification_uri_complete"],
        format!(
            "{}?user_code={}",
            app.url("/device"),
            user_code.replace('-', "")
        )
    );

    // Polling before anyone decides: pending; polling again at once: slow
    // down, and the interval grows by five seconds.
    assert_eq!(
        poll_error(&app, &cli, device_code).await,
        "authorization_pending"
    );
    assert_eq!(poll_error(&app, &cli, device_code).await, "slow_down");
    app.state.clock.advance(Duration::from_secs(6));
    assert_eq!(
        poll_error(&app, &cli, device_code).await,
        "slow_down",
        "10 s now"
    );
    app.state.clock.advance(Duration::from_secs(16));
    assert_eq!(
        poll_error(&app, &cli, device_code).await,
        "authorization_pending",
        "15 s passed"
    );

    // The link of verification_uri_complete, signed out: sign in first,
    // then back to the page with the code filled in.
    let mut browser = Browser::new(&app);
    let link = format!("/device?user_code={}", user_code.replace('-', ""));
    let away = browser.get(&link).await;
    assert_eq!(away.status, StatusCode::SEE_OTHER);
    let to = away.location.expect("location");
    assert!(
        to.starts_with("/account/sign-in?next=%2Fdevice%3Fuser_code%3D"),
        "{to}"
    );
    // The person types it in lower case, without the dash.
    let typed = user_code.replace('-', "").to_lowercase();
    let done = person_decides(&mut browser, &user.email, &typed, "allow").await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(
        done.html.contains("Your device is connected"),
        "{}",
        done.html
    );

    app.state.clock.advance(Duration::from_secs(11));
    let tokens = poll(&app, &cli, device_code).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let tokens = json_body(tokens).await;
    let claims = claims_of(tokens["access_token"].as_str().expect("at"));
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["client_id"], cli.as_str());
    assert_eq!(claims["scope"], "openid email");
    let id_token = claims_of(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(id_token["aud"], cli.as_str());
    assert!(tokens["refresh_token"].is_string());
    // Once: the same device code again is invalid.
    assert_eq!(poll_error(&app, &cli, device_code).await, "invalid_grant");
    // The approval is audited and the app is listed among the person's.
    let admin = app.admin().await;
    let audit = app.audit(&admin, "device.approved").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["subject"], cli.as_str());
}

async fn a_denied_an_expired_or_a_foreign_device_code_gets_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("cli-deny@example.com").await;
    let cli = cli_client(&app, &[DEVICE_GRANT]).await;
    let other = cli_client(&app, &[DEVICE_GRANT]).await;

    let issued = codes(&app, &cli).await;
    let device_code = issued["device_code"].as_str().expect("device code");
    let mut browser = Browser::new(&app);
    let user_code = issued["user_code"].as_str().expect("user code");
    let done = person_decides(&mut browser, &user.email, user_code, "deny").await;
    assert!(done.html.contains("not allowed"), "{}", done.html);
    assert_eq!(poll_error(&app, &cli, device_code).await, "access_denied");
    // The code is decided: typing it again finds nothing.
    browser.get("/device").await;
    let again = browser.post("/device", &[("user_code", user_code)]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.html.contains("not valid"));

    // Another client polling with this client's device code, or a made-up one.
    let issued = codes(&app, &cli).await;
    let device_code = issued["device_code"].as_str().expect("device code");
    assert_eq!(poll_error(&app, &other, device_code).await, "invalid_grant");
    assert_eq!(
        poll_error(&app, &cli, "sgdc_made-up").await,
        "invalid_grant"
    );
    assert_eq!(poll_error(&app, &cli, "x").await, "invalid_grant");

    // Ten minutes on, the code has expired, for the device and the person.
    app.state.clock.advance(Duration::from_secs(601));
    assert_eq!(poll_error(&app, &cli, device_code).await, "expired_token");
    browser.get("/device").await;
    let late = browser
        .post(
            "/device",
            &[("user_code", issued["user_code"].as_str().expect("code"))],
        )
        .await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn device_requests_are_refused_as_rfc_8628_and_6749_say(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let web_only = cli_client(&app, &["authorization_code"]).await;
    let cli = cli_client(&app, &[DEVICE_GRANT]).await;
    for (form, status, error) in [
        (
            vec![("scope", "openid")],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![("client_id", "sgc_nosuchclient0000")],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![("client_id", web_only.as_str())],
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
        ),
        (
            vec![("client_id", cli.as_str()), ("scope", "openid admin")],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            vec![("client_id", cli.as_str()), ("resource", "signet-account")],
            StatusCode::BAD_REQUEST,
            "invalid_target",
        ),
        (
            vec![("client_id", cli.as_str()), ("client_secret", "sgcs_guess")],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
    ] {
        let response = ask(&app, &form).await;
        assert_eq!(response.status(), status, "{form:?}");
        assert_eq!(json_body(response).await["error"], error, "{form:?}");
    }
    // The token endpoint: no device code, or a client without the grant.
    let missing = app
        .oauth_token(&[("grant_type", DEVICE_GRANT), ("client_id", &cli)], None)
        .await;
    assert_eq!(json_body(missing).await["error"], "invalid_request");
    let issued = codes(&app, &cli).await;
    let device_code = issued["device_code"].as_str().expect("device code");
    let response = poll(&app, &web_only, device_code).await;
    assert_eq!(json_body(response).await["error"], "unauthorized_client");
    // A device-only client cannot start a code flow.
    let mut browser = Browser::new(&app);
    let page = browser
        .get(&format!(
            "/oauth/authorize?response_type=code&client_id={cli}&redirect_uri=http://127.0.0.1:1/cb"
        ))
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    // Guessing codes at the page is rate-limited like sign-in attempts.
    let limited = TestApp::spawn_with(backend, &[("RATE_LIMIT_LOGIN_PER_IP", "3/1h")]).await;
    let user = limited.user("guesser@example.com").await;
    let mut browser = Browser::new(&limited);
    browser.sign_in(&user.email, PASSWORD).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        browser.get("/device").await;
        statuses.push(
            browser
                .post("/device", &[("user_code", "BCDF-GHJK")])
                .await
                .status,
        );
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

backend_tests!(
    a_cli_gets_tokens_once_its_person_allows_it_at_the_device_page,
    a_denied_an_expired_or_a_foreign_device_code_gets_nothing,
    device_requests_are_refused_as_rfc_8628_and_6749_say,
);
