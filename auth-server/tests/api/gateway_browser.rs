//! Forward-auth's browser mode: page loads on a protected origin without a
//! token go to the gateway's sign-in page and come back with a session
//! cookie that forward-auth accepts; everything else stays a 401; no
//! redirect ever leaves the protected origins. Driven over HTTP the way
//! nginx and Traefik call forward-auth (the real-nginx test is blog-svc's).

use reqwest::header::LOCATION;
use reqwest::{RequestBuilder, StatusCode};

use crate::helpers::{backend_tests, csrf_field, set_cookie, value_of, Backend, TestApp, PASSWORD};

/// The protected application, as the gateway describes it.
const APP: &str = "http://127.0.0.1:8088";

async fn gateway_app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, &[("GATEWAY_PROTECTED_ORIGINS", APP)]).await
}

/// Forward-auth asked by Traefik about `method uri` on `host`.
fn traefik(app: &TestApp, method: &str, host: &str, uri: &str) -> RequestBuilder {
    app.client
        .get(app.url("/api/v1/auth/verify"))
        .header("x-forwarded-proto", "http")
        .header("x-forwarded-host", host)
        .header("x-forwarded-uri", uri)
        .header("x-forwarded-method", method)
}

const PAGE: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

async fn send(request: RequestBuilder) -> reqwest::Response {
    request.send().await.expect("request")
}

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().expect("ascii").to_owned())
}

fn sign_in_url(app: &TestApp, rd: &str) -> String {
    let mut url = url::Url::parse(&app.url("/oauth/gateway/sign-in")).expect("url");
    url.query_pairs_mut().append_pair("rd", rd);
    url.to_string()
}

/// The gateway's sign-in page for `rd`, filled in; the response to the post.
async fn gateway_sign_in(app: &TestApp, rd: &str, email: &str) -> reqwest::Response {
    let page = send(app.client.get(sign_in_url(app, rd))).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csrf_cookie = value_of(&set_cookie(page.headers(), "signet_csrf").expect("csrf cookie"));
    let html = page.text().await.expect("html");
    assert!(!html.contains("/oauth/signup"), "no sign-up link here");
    send(
        app.client
            .post(app.url("/oauth/gateway/sign-in"))
            .header("cookie", csrf_cookie)
            .header("origin", APP)
            .header("sec-fetch-site", "same-origin")
            .form(&[
                ("csrf_token", csrf_field(&html).as_str()),
                ("rd", rd),
                ("email", email),
                ("password", PASSWORD),
            ]),
    )
    .await
}

async fn a_page_load_without_a_session_is_sent_to_sign_in(backend: Backend) {
    let app = gateway_app(backend).await;
    let wanted = format!("{APP}/private/page?x=1");
    let get =
        send(traefik(&app, "GET", "127.0.0.1:8088", "/private/page?x=1").header("accept", PAGE))
            .await;
    assert_eq!(get.status(), StatusCode::FOUND, "Traefik: GET is a 302");
    let mut expected = url::Url::parse(&format!("{APP}/oauth/gateway/sign-in")).expect("url");
    expected.query_pairs_mut().append_pair("rd", &wanted);
    assert_eq!(location(&get).as_deref(), Some(expected.as_str()));
    assert_eq!(get.headers()["cache-control"], "no-store");

    let post = send(traefik(&app, "POST", "127.0.0.1:8088", "/form").header("accept", PAGE)).await;
    assert_eq!(post.status(), StatusCode::SEE_OTHER, "other methods: 303");

    // nginx cannot pass a redirect through auth_request: 401 with Location.
    let nginx = send(
        app.client
            .get(app.url("/api/v1/auth/verify"))
            .header("x-original-url", wanted.as_str())
            .header("x-original-method", "GET")
            .header("accept", PAGE),
    )
    .await;
    assert_eq!(nginx.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(location(&nginx).as_deref(), Some(expected.as_str()));
    assert!(nginx.headers().contains_key("www-authenticate"));
}

async fn scripts_api_clients_and_other_origins_get_401_without_a_redirect(backend: Backend) {
    let app = gateway_app(backend).await;
    for (label, request) in [
        (
            "fetch from a script",
            traefik(&app, "GET", "127.0.0.1:8088", "/api")
                .header("accept", PAGE)
                .header("sec-fetch-mode", "cors"),
        ),
        (
            "XHR",
            traefik(&app, "GET", "127.0.0.1:8088", "/api")
                .header("accept", PAGE)
                .header("x-requested-with", "XMLHttpRequest"),
        ),
        (
            "API client",
            traefik(&app, "GET", "127.0.0.1:8088", "/api").header("accept", "application/json"),
        ),
        (
            "an origin not protected here",
            traefik(&app, "GET", "evil.example", "/").header("accept", PAGE),
        ),
        (
            "another port of the protected host",
            traefik(&app, "GET", "127.0.0.1:9999", "/").header("accept", PAGE),
        ),
    ] {
        let response = send(request).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{label}");
        assert_eq!(location(&response), None, "{label}");
    }
    // Browser mode is off unless origins are configured.
    let plain = TestApp::spawn(backend).await;
    let response = send(traefik(&plain, "GET", "127.0.0.1:8088", "/").header("accept", PAGE)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(location(&response), None);
}

async fn signing_in_on_the_gateway_page_opens_the_protected_origin(backend: Backend) {
    let app = gateway_app(backend).await;
    let user = app.user("gw-browser@example.com").await;
    let wanted = format!("{APP}/private/page?x=1");
    let signed_in = gateway_sign_in(&app, &wanted, &user.email).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in).as_deref(), Some(wanted.as_str()));
    let session = set_cookie(signed_in.headers(), "signet_session").expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(flag), "{flag}: {session}");
    }
    let session = value_of(&session);

    // Forward-auth now answers 200 with the user's identity for that origin.
    let allowed = send(
        traefik(&app, "GET", "127.0.0.1:8088", "/private/page")
            .header("accept", PAGE)
            .header("cookie", session.as_str()),
    )
    .await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(allowed.headers()["x-auth-user"], user.id.as_str());
    assert_eq!(allowed.headers()["x-auth-email"], user.email.as_str());
    // An API call from the signed-in page's scripts is allowed too.
    let fetch = send(
        traefik(&app, "GET", "127.0.0.1:8088", "/api/data")
            .header("accept", "application/json")
            .header("cookie", session.as_str()),
    )
    .await;
    assert_eq!(fetch.status(), StatusCode::OK);
    // The page itself, asked again, goes straight back.
    let again = send(
        app.client
            .get(sign_in_url(&app, &wanted))
            .header("cookie", session.as_str()),
    )
    .await;
    assert_eq!(again.status(), StatusCode::FOUND);
    assert_eq!(location(&again).as_deref(), Some(wanted.as_str()));

    // Ending the user's sessions ends the browser's too.
    let user_id = uuid::Uuid::parse_str(&user.id).expect("uuid");
    auth_server::sessions::revoke_all_for_user(
        &app.state.db,
        user_id,
        auth_server::events::SubjectChange::CredentialChange,
        "password changed",
        app.state.clock.now(),
    )
    .await
    .expect("revoked");
    let after = send(
        traefik(&app, "GET", "127.0.0.1:8088", "/private/page")
            .header("accept", PAGE)
            .header("cookie", session.as_str()),
    )
    .await;
    assert_eq!(
        after.status(),
        StatusCode::FOUND,
        "signed out: to sign in again"
    );
}

async fn the_gateway_page_never_redirects_off_the_protected_origins(backend: Backend) {
    let app = gateway_app(backend).await;
    let user = app.user("gw-open@example.com").await;
    for evil in [
        "https://evil.example/",
        "http://127.0.0.1:8088.evil.example/",
        "http://127.0.0.1:9999/",
        "//127.0.0.1:8088/",
        "/relative",
        "javascript:alert(1)",
    ] {
        let page = send(app.client.get(sign_in_url(&app, evil))).await;
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{evil}");
        assert_eq!(location(&page), None, "{evil}");
        // Posting the form with a forged rd signs nobody in and goes nowhere.
        let post = send(
            app.client
                .post(app.url("/oauth/gateway/sign-in"))
                .header("cookie", "signet_csrf=t")
                .form(&[
                    ("csrf_token", "t"),
                    ("rd", evil),
                    ("email", user.email.as_str()),
                    ("password", PASSWORD),
                ]),
        )
        .await;
        assert_eq!(post.status(), StatusCode::BAD_REQUEST, "{evil}");
        assert_eq!(location(&post), None, "{evil}");
        assert!(set_cookie(post.headers(), "signet_session").is_none());
    }
}

async fn the_gateway_form_needs_its_csrf_token_and_origin(backend: Backend) {
    let app = gateway_app(backend).await;
    let user = app.user("gw-csrf@example.com").await;
    let rd = format!("{APP}/");
    let form = |token: &'static str| {
        vec![
            ("csrf_token", token.to_owned()),
            ("rd", rd.clone()),
            ("email", user.email.clone()),
            ("password", PASSWORD.to_owned()),
        ]
    };
    let without_cookie = send(
        app.client
            .post(app.url("/oauth/gateway/sign-in"))
            .form(&form("t")),
    )
    .await;
    assert_eq!(without_cookie.status(), StatusCode::FORBIDDEN);
    let from_elsewhere = send(
        app.client
            .post(app.url("/oauth/gateway/sign-in"))
            .header("cookie", "signet_csrf=t")
            .header("origin", "https://evil.example")
            .form(&form("t")),
    )
    .await;
    assert_eq!(from_elsewhere.status(), StatusCode::FORBIDDEN);
    // A wrong password re-renders the page without saying whether the account exists.
    let page = send(app.client.get(sign_in_url(&app, &rd))).await;
    let csrf_cookie = value_of(&set_cookie(page.headers(), "signet_csrf").expect("csrf"));
    let token = csrf_field(&page.text().await.expect("html"));
    let wrong = send(
        app.client
            .post(app.url("/oauth/gateway/sign-in"))
            .header("cookie", csrf_cookie)
            .form(&[
                ("csrf_token", token.as_str()),
                ("rd", rd.as_str()),
                ("email", user.email.as_str()),
                ("password", "wrong password entirely"),
            ]),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong
        .text()
        .await
        .expect("html")
        .contains("Incorrect email or password."));
}

/// Issue 23, finding 3: the application behind gateway A sees the
/// browser's `signet_session` cookie; replayed at gateway B, or at the
/// authorization endpoint, it must open nothing.
async fn a_gateway_cookie_is_a_credential_on_its_own_site_alone(backend: Backend) {
    const OTHER: &str = "http://127.0.0.1:8099";
    let app = TestApp::spawn_with(
        backend,
        &[("GATEWAY_PROTECTED_ORIGINS", &format!("{APP},{OTHER}"))],
    )
    .await;
    let user = app.user("replayed@example.com").await;
    let signed_in = gateway_sign_in(&app, &format!("{APP}/home"), &user.email).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = value_of(&set_cookie(signed_in.headers(), "signet_session").expect("cookie"));

    // Its own site: the user's identity.
    let own = send(traefik(&app, "GET", "127.0.0.1:8088", "/home").header("cookie", &cookie)).await;
    assert_eq!(own.status(), StatusCode::OK);
    assert_eq!(own.headers()["x-auth-user"], user.id.as_str());

    // Another protected site, both conventions: not signed in.
    let elsewhere = send(
        traefik(&app, "GET", "127.0.0.1:8099", "/admin")
            .header("cookie", &cookie)
            .header("accept", PAGE),
    )
    .await;
    assert_eq!(elsewhere.status(), StatusCode::FOUND, "sent to sign in");
    assert!(!elsewhere.headers().contains_key("x-auth-user"));
    let nginx = send(
        app.client
            .get(app.url("/api/v1/auth/verify"))
            .header("x-original-url", format!("{OTHER}/admin"))
            .header("x-original-method", "GET")
            .header("cookie", &cookie),
    )
    .await;
    assert_eq!(nginx.status(), StatusCode::UNAUTHORIZED);

    // The authorization endpoint: the sign-in page, never a code.
    let registered = auth_server::clients::register(
        &app.state.db,
        auth_server::clients::NewClient {
            name: "Elsewhere".into(),
            redirect_uris: vec![format!("{OTHER}/callback")],
            first_party: true,
            ..auth_server::clients::NewClient::default()
        },
        auth_server::clients::Actor {
            id: "test",
            ip: None,
        },
        app.state.clock.now(),
    )
    .await
    .expect("client");
    let mut authorize = url::Url::parse(&app.url("/oauth/authorize")).expect("url");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &registered.client.client_id)
        .append_pair("redirect_uri", &format!("{OTHER}/callback"))
        .append_pair("scope", "openid")
        .append_pair(
            "code_challenge",
            &auth_server::oauth::codes::s256("v".repeat(43).as_str()),
        )
        .append_pair("code_challenge_method", "S256");
    let response = send(app.client.get(authorize).header("cookie", &cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "the sign-in page");
    assert!(location(&response).is_none(), "no code");
}

backend_tests!(
    a_gateway_cookie_is_a_credential_on_its_own_site_alone,
    a_page_load_without_a_session_is_sent_to_sign_in,
    scripts_api_clients_and_other_origins_get_401_without_a_redirect,
    signing_in_on_the_gateway_page_opens_the_protected_origin,
    the_gateway_page_never_redirects_off_the_protected_origins,
    the_gateway_form_needs_its_csrf_token_and_origin,
);
