//! Pushed authorization requests (RFC 9126): the client pushes its
//! parameters with its credentials, the browser carries only `client_id`
//! and `request_uri`; what the browser sends cannot change them; the URI
//! lives 60 s until opened and gives one code; a client that requires
//! pushing cannot be started by a crafted link; and each refusal of §2.3.

use std::time::Duration;

use auth_server::clients::NewClient;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::Value;
use signet_service::testing::hidden_inputs;

use crate::authorize::{query_of, request_params, Rp, REDIRECT};
use crate::helpers::{backend_tests, json_body, set_cookie, value_of, Backend, TestApp, PASSWORD};

async fn client(app: &TestApp, require_par: bool) -> Rp {
    crate::authorize::register_rp(
        app,
        NewClient {
            name: "Pushing RP".into(),
            redirect_uris: vec![REDIRECT.into()],
            first_party: true,
            require_par,
            ..NewClient::default()
        },
    )
    .await
}

async fn push(app: &TestApp, rp: &Rp, params: &[(&str, String)]) -> reqwest::Response {
    app.client
        .post(app.url("/oauth/par"))
        .basic_auth(&rp.id, Some(&rp.secret))
        .form(params)
        .send()
        .await
        .expect("push")
}

async fn pushed(app: &TestApp, rp: &Rp) -> String {
    let response = push(app, rp, &request_params(rp)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json_body(response).await;
    assert_eq!(body["expires_in"], 60);
    let uri = body["request_uri"]
        .as_str()
        .expect("request_uri")
        .to_owned();
    assert!(
        uri.starts_with("urn:ietf:params:oauth:request_uri:"),
        "{uri}"
    );
    uri
}

fn by_reference(rp: &Rp, request_uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", rp.id.clone()),
        ("request_uri", request_uri.to_owned()),
    ]
}

/// Open the authorization URL, sign in with the page's own form plus
/// `extra` fields (what a tampering browser adds): where it is sent.
async fn sign_in_by_reference(
    app: &TestApp,
    params: &[(&str, String)],
    email: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let page = crate::authorize::get_authorize(app, params, None).await;
    if page.status() != StatusCode::OK {
        return page;
    }
    let csrf = value_of(&set_cookie(page.headers(), "signet_csrf").expect("csrf"));
    let mut form = hidden_inputs(&page.text().await.expect("html"));
    assert!(
        form.iter()
            .all(|(name, _)| matches!(name.as_str(), "csrf_token" | "client_id" | "request_uri")),
        "the page carries the reference alone: {form:?}"
    );
    form.push(("email".into(), email.into()));
    form.push(("password".into(), PASSWORD.into()));
    form.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    app.client
        .post(app.url("/oauth/authorize"))
        .header("cookie", csrf)
        .header("sec-fetch-site", "same-origin")
        .header("origin", app.address.as_str())
        .form(&form)
        .send()
        .await
        .expect("sign in")
}

async fn a_pushed_request_signs_in_by_reference_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let discovery = json_body(app.get("/.well-known/openid-configuration").await).await;
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        app.url("/oauth/par")
    );
    assert_eq!(discovery["require_pushed_authorization_requests"], false);
    let user = app.user("par@example.com").await;
    let rp = client(&app, false).await;
    let request_uri = pushed(&app, &rp).await;
    // The browser adds parameters of its own: the pushed ones count.
    let back = sign_in_by_reference(
        &app,
        &by_reference(&rp, &request_uri),
        &user.email,
        &[
            ("redirect_uri", "http://127.0.0.1:9999/evil"),
            ("scope", "openid profile"),
        ],
    )
    .await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let location = back.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    let query = query_of(&location);
    assert_eq!(query["state"], "st&te=1", "the pushed state");
    let tokens = crate::authorize::exchange_code(&app, &rp, &query["code"]).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let tokens: Value = json_body(tokens).await;
    assert_eq!(tokens["scope"], "openid email", "the pushed scope");

    // Used once: the same reference again is an error page, no code.
    let again = crate::authorize::get_authorize(&app, &by_reference(&rp, &request_uri), None).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(again.headers().get(LOCATION).is_none());
    assert!(again
        .text()
        .await
        .expect("html")
        .contains("expired or was used"));
}

async fn a_request_uri_waits_a_minute_for_its_browser_then_lasts_the_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("par-slow@example.com").await;
    let rp = client(&app, false).await;
    let other = client(&app, false).await;

    let late = pushed(&app, &rp).await;
    app.state.clock.advance(Duration::from_secs(61));
    let page = crate::authorize::get_authorize(&app, &by_reference(&rp, &late), None).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST, "opened too late");

    // Another client's reference, or a made-up one, is nobody's.
    let theirs = pushed(&app, &rp).await;
    for (client, uri) in [
        (&other, theirs.as_str()),
        (&rp, "urn:ietf:params:oauth:request_uri:made-up"),
        (&rp, "https://evil.example/request.jwt"),
    ] {
        let page = crate::authorize::get_authorize(&app, &by_reference(client, uri), None).await;
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{uri}");
    }

    // Opened in time, the person may take five minutes to sign in.
    let page = crate::authorize::get_authorize(&app, &by_reference(&rp, &theirs), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    app.state.clock.advance(Duration::from_secs(300));
    let back = sign_in_by_reference(&app, &by_reference(&rp, &theirs), &user.email, &[]).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let query = query_of(back.headers()[LOCATION].to_str().expect("location"));
    assert!(query.contains_key("code"), "{query:?}");
}

async fn a_client_that_requires_pushing_refuses_a_crafted_link(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("par-required@example.com").await;
    let rp = client(&app, true).await;
    let crafted = crate::authorize::get_authorize(&app, &request_params(&rp), None).await;
    assert_eq!(crafted.status(), StatusCode::BAD_REQUEST);
    assert!(crafted.headers().get(LOCATION).is_none());
    assert!(crafted
        .text()
        .await
        .expect("html")
        .contains("starts its sign-ins itself"));
    let request_uri = pushed(&app, &rp).await;
    let back = sign_in_by_reference(&app, &by_reference(&rp, &request_uri), &user.email, &[]).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    // The admin API shows (and sets) the rule.
    let admin = app.admin().await;
    let listed = json_body(app.get_with_token("/api/v1/clients", &admin.token).await).await;
    let shown = listed
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["client_id"] == rp.id.as_str())
        .expect("listed")
        .clone();
    assert_eq!(shown["require_pushed_authorization_requests"], true);
}

async fn a_push_is_checked_like_an_authorization_request_and_refused_as_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = client(&app, false).await;
    let with = |name: &'static str, value: &str| {
        let mut params = request_params(&rp);
        params.retain(|(k, _)| *k != name);
        params.push((name, value.to_owned()));
        params
    };
    let without = |name: &'static str| {
        let mut params = request_params(&rp);
        params.retain(|(k, _)| *k != name);
        params
    };
    for (params, error) in [
        (
            with("redirect_uri", "http://127.0.0.1:9999/evil"),
            "invalid_request",
        ),
        (without("redirect_uri"), "invalid_request"),
        (without("code_challenge"), "invalid_request"),
        (with("code_challenge_method", "plain"), "invalid_request"),
        (with("response_type", "token"), "unsupported_response_type"),
        (with("scope", "openid admin:all"), "invalid_scope"),
        (
            with("resource", "https://elsewhere.example.com"),
            "invalid_target",
        ),
        (
            with("request_uri", "urn:ietf:params:oauth:request_uri:x"),
            "invalid_request",
        ),
        (
            with("request", "eyJhbGciOiJub25lIn0.e30."),
            "invalid_request",
        ),
    ] {
        let response = push(&app, &rp, &params).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{error}: {params:?}"
        );
        assert_eq!(json_body(response).await["error"], error, "{params:?}");
    }
    // No credentials, or the wrong secret: invalid_client.
    let anonymous = app
        .client
        .post(app.url("/oauth/par"))
        .form(&request_params(&rp))
        .send()
        .await
        .expect("push");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = Rp {
        id: rp.id.clone(),
        secret: "sgcs_wrong".into(),
    };
    let response = push(&app, &wrong, &request_params(&rp)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_body(response).await["error"], "invalid_client");
}

backend_tests!(
    a_pushed_request_signs_in_by_reference_once,
    a_request_uri_waits_a_minute_for_its_browser_then_lasts_the_sign_in,
    a_client_that_requires_pushing_refuses_a_crafted_link,
    a_push_is_checked_like_an_authorization_request_and_refused_as_json,
);
