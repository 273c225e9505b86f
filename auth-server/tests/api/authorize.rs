//! The authorization endpoint and its sign-in page, driven over HTTP as a
//! browser would (cookies carried by hand; the real-browser test comes with
//! blog-svc's pages): PKCE, exact redirect URIs, CSRF, the browser session,
//! `prompt`, and the page's headers.

use auth_server::clients::{self, Actor, NewClient};
use auth_server::oauth::codes::s256;
use reqwest::header::LOCATION;
use reqwest::StatusCode;

use crate::helpers::{
    backend_tests, csrf_field, json_body, set_cookie, value_of, Backend, TestApp, PASSWORD,
};

pub(crate) const REDIRECT: &str = "http://127.0.0.1:8081/auth/callback";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub(crate) struct Rp {
    pub id: String,
    pub secret: String,
}

pub(crate) async fn rp(app: &TestApp, first_party: bool) -> Rp {
    register_rp(
        app,
        NewClient {
            name: "Blog".into(),
            redirect_uris: vec![REDIRECT.into()],
            first_party,
            ..NewClient::default()
        },
    )
    .await
}

/// Register `client` as the test would through the CLI, and keep its secret.
pub(crate) async fn register_rp(app: &TestApp, client: NewClient) -> Rp {
    let registered = clients::register(
        &app.state.db,
        client,
        Actor {
            id: "test",
            ip: None,
        },
        app.state.clock.now(),
    )
    .await
    .expect("registered");
    Rp {
        id: registered.client.client_id,
        secret: registered.secret.expect("secret"),
    }
}

pub(crate) fn request_params(rp: &Rp) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", rp.id.clone()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", "openid email".into()),
        ("state", "st&te=1".into()),
        ("nonce", "n-1".into()),
        ("code_challenge", s256(VERIFIER)),
        ("code_challenge_method", "S256".into()),
    ]
}

pub(crate) async fn get_authorize(
    app: &TestApp,
    params: &[(&str, String)],
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut url = url::Url::parse(&app.url("/oauth/authorize")).expect("url");
    url.query_pairs_mut()
        .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
    let mut request = app.client.get(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("request")
}

/// The page, then the form posted as the browser would.
pub(crate) async fn sign_in(
    app: &TestApp,
    rp: &Rp,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let page = get_authorize(app, &request_params(rp), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csrf_cookie = value_of(&set_cookie(page.headers(), "signet_csrf").expect("csrf cookie"));
    let token = csrf_field(&page.text().await.expect("html"));
    let mut form = request_params(rp);
    form.push(("csrf_token", token));
    form.push(("email", email.into()));
    form.push(("password", password.into()));
    app.client
        .post(app.url("/oauth/authorize"))
        .header("cookie", csrf_cookie)
        .header("sec-fetch-site", "same-origin")
        .header("origin", app.address.as_str())
        .form(&form)
        .send()
        .await
        .expect("request")
}

/// The client's back-channel exchange of `code` (secret and PKCE verifier).
pub(crate) async fn exchange_code(app: &TestApp, rp: &Rp, code: &str) -> reqwest::Response {
    app.oauth_token(
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        Some((&rp.id, &rp.secret)),
    )
    .await
}

pub(crate) fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .expect("absolute")
        .query_pairs()
        .into_owned()
        .collect()
}

async fn a_browser_signs_in_gets_a_code_and_the_client_gets_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = rp(&app, true).await;
    let user = app.user("web@example.com").await;

    let page = get_authorize(&app, &request_params(&rp), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:8081"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["cache-control"], "no-store");
    let csrf = set_cookie(page.headers(), "signet_csrf").expect("csrf cookie");
    assert!(
        csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict") && csrf.contains("Path=/")
    );
    let html = page.text().await.expect("html");
    assert!(html.contains("name=\"email\"") && html.contains("name=\"password\""));
    assert!(html.contains("<label for=\"email\">"), "accessible labels");

    let response = sign_in(&app, &rp, &user.email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let session_cookie = set_cookie(response.headers(), "signet_session").expect("session cookie");
    assert!(
        session_cookie.contains("HttpOnly")
            && session_cookie.contains("SameSite=Lax")
            && session_cookie.contains("Path=/")
            && !session_cookie.contains("Domain")
            && !session_cookie.contains("Secure"),
        "plain http in development: no Secure, no __Host- prefix: {session_cookie}"
    );
    let location = response.headers()[LOCATION]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    let query = query_of(&location);
    assert_eq!(query["state"], "st&te=1");
    assert_eq!(query["iss"], app.address.as_str(), "RFC 9207");
    let code = query["code"].clone();

    let tokens = exchange_code(&app, &rp, &code).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    let body = json_body(tokens).await;
    let id = crate::helpers::claims_of(body["id_token"].as_str().expect("id token"));
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["sub"], user.id.as_str());

    // Signed in: the next authorization needs no password…
    let cookie = value_of(&session_cookie);
    let again = get_authorize(&app, &request_params(&rp), Some(&cookie)).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert!(query_of(again.headers()[LOCATION].to_str().expect("loc")).contains_key("code"));
    // …unless the client asks for a fresh sign-in.
    let mut fresh = request_params(&rp);
    fresh.push(("prompt", "login".into()));
    assert_eq!(
        get_authorize(&app, &fresh, Some(&cookie)).await.status(),
        StatusCode::OK
    );
    // A password change ends the browser session like any other.
    let token = app.token_for(&user.email, PASSWORD).await;
    assert_eq!(
        app.change_password(&token, PASSWORD, "another long password")
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get_authorize(&app, &request_params(&rp), Some(&cookie))
            .await
            .status(),
        StatusCode::OK,
        "asked to sign in again"
    );
}

async fn untrusted_requests_get_a_page_and_the_rest_go_back_with_an_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = rp(&app, true).await;
    // Unknown client or unregistered redirect URI: an error page, never a redirect.
    for (name, value) in [
        ("client_id", "sgc_unknownclient000".to_owned()),
        ("redirect_uri", "https://evil.example/cb".to_owned()),
        ("redirect_uri", format!("{REDIRECT}/../../evil")),
        ("redirect_uri", format!("{REDIRECT}?x=1")),
    ] {
        let mut params = request_params(&rp);
        params.retain(|(k, _)| *k != name);
        params.push((name, value));
        let response = get_authorize(&app, &params, None).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        assert!(response.headers().get(LOCATION).is_none());
        assert!(response.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html"));
    }
    // A repeated parameter is refused outright.
    let mut twice = request_params(&rp);
    twice.push(("redirect_uri", REDIRECT.into()));
    assert_eq!(
        get_authorize(&app, &twice, None).await.status(),
        StatusCode::BAD_REQUEST
    );

    // Trusted client and URI: back with error and state.
    for (change, expected) in [
        (("response_type", "token"), "unsupported_response_type"),
        (("code_challenge_method", "plain"), "invalid_request"),
        (("code_challenge", "too-short"), "invalid_request"),
        (("scope", "openid admin"), "invalid_scope"),
        (("prompt", "none"), "login_required"),
    ] {
        let mut params = request_params(&rp);
        params.retain(|(k, _)| *k != change.0);
        params.push((change.0, change.1.into()));
        let response = get_authorize(&app, &params, None).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{change:?}");
        let query = query_of(response.headers()[LOCATION].to_str().expect("loc"));
        assert_eq!(query["error"], expected, "{change:?}");
        assert_eq!(query["state"], "st&te=1");
        assert!(!query.contains_key("code"));
    }
    let mut no_pkce = request_params(&rp);
    no_pkce.retain(|(k, _)| !k.starts_with("code_challenge"));
    let response = get_authorize(&app, &no_pkce, None).await;
    assert_eq!(
        query_of(response.headers()[LOCATION].to_str().expect("loc"))["error"],
        "invalid_request",
        "PKCE is mandatory"
    );
}

async fn the_sign_in_form_resists_csrf_and_reveals_no_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = rp(&app, true).await;
    let user = app.user("csrf@example.com").await;
    let mut form = request_params(&rp);
    form.push(("csrf_token", "guessed".into()));
    form.push(("email", user.email.clone()));
    form.push(("password", PASSWORD.into()));
    // No CSRF cookie; then a matching pair posted cross-site.
    let no_cookie = app
        .client
        .post(app.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .expect("request");
    assert_eq!(no_cookie.status(), StatusCode::FORBIDDEN);
    let cross_site = app
        .client
        .post(app.url("/oauth/authorize"))
        .header("cookie", "signet_csrf=guessed")
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .expect("request");
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(cross_site.headers(), "signet_session").is_none());

    // A wrong password and an unknown account read the same, and sign no one in.
    let mut pages = Vec::new();
    for (email, password) in [
        (user.email.as_str(), "wrong password!"),
        ("nobody@example.com", PASSWORD),
    ] {
        let response = sign_in(&app, &rp, email, password).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookie(response.headers(), "signet_session").is_none());
        let html = response.text().await.expect("html");
        assert!(html.contains("Incorrect email or password."));
        pages.push(html.replace(email, "EMAIL"));
    }
    let strip = |html: &str| {
        html.split("csrf_token\" value=\"")
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(strip(&pages[0]), strip(&pages[1]));
}

pub(crate) async fn consent(
    app: &TestApp,
    page: reqwest::Response,
    session_cookie: &str,
    rp: &Rp,
    decision: &str,
) -> reqwest::Response {
    let csrf_cookie = value_of(&set_cookie(page.headers(), "signet_csrf").expect("csrf cookie"));
    let html = page.text().await.expect("html");
    assert!(
        html.contains("<code>openid</code>") && html.contains("<code>email</code>"),
        "{html}"
    );
    let mut form = request_params(rp);
    form.push(("csrf_token", csrf_field(&html)));
    form.push(("decision", decision.into()));
    app.client
        .post(app.url("/oauth/consent"))
        .header("cookie", format!("{csrf_cookie}; {session_cookie}"))
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .expect("request")
}

async fn a_third_party_client_needs_consent_once_until_it_is_withdrawn(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = rp(&app, false).await;
    let user = app.user("third@example.com").await;
    // Signing in leads to the consent page, not straight back.
    let page = sign_in(&app, &rp, &user.email, PASSWORD).await;
    assert_eq!(page.status(), StatusCode::OK);
    let session = value_of(&set_cookie(page.headers(), "signet_session").expect("session"));
    // Deny: back with access_denied and no code.
    let denied = consent(&app, page, &session, &rp, "deny").await;
    assert_eq!(denied.status(), StatusCode::SEE_OTHER);
    let query = query_of(denied.headers()[LOCATION].to_str().expect("loc"));
    assert_eq!(query["error"], "access_denied");
    assert_eq!(query["state"], "st&te=1");
    // prompt=none while consent is missing: consent_required.
    let mut silent = request_params(&rp);
    silent.push(("prompt", "none".into()));
    let response = get_authorize(&app, &silent, Some(&session)).await;
    assert_eq!(
        query_of(response.headers()[LOCATION].to_str().expect("loc"))["error"],
        "consent_required"
    );
    // Allow: back with a code, and remembered.
    let page = get_authorize(&app, &request_params(&rp), Some(&session)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let allowed = consent(&app, page, &session, &rp, "allow").await;
    assert_eq!(allowed.status(), StatusCode::SEE_OTHER);
    let code = query_of(allowed.headers()[LOCATION].to_str().expect("loc"))["code"].clone();
    let tokens = json_body(exchange_code(&app, &rp, &code).await).await;
    let client_refresh = tokens["refresh_token"].as_str().expect("rt").to_owned();
    let again = get_authorize(&app, &request_params(&rp), Some(&session)).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER, "remembered");
    // A wider scope than allowed, or prompt=consent, asks again.
    let mut wider = request_params(&rp);
    wider.retain(|(k, _)| *k != "scope");
    wider.push(("scope", "openid email profile".into()));
    assert_eq!(
        get_authorize(&app, &wider, Some(&session)).await.status(),
        StatusCode::OK
    );
    let mut asked = request_params(&rp);
    asked.push(("prompt", "consent".into()));
    assert_eq!(
        get_authorize(&app, &asked, Some(&session)).await.status(),
        StatusCode::OK
    );
    // The user sees and withdraws it from the account API.
    let token = app.token_for(&user.email, PASSWORD).await;
    let listed = json_body(
        app.get_with_token("/api/v1/users/me/consents", &token)
            .await,
    )
    .await;
    assert_eq!(listed[0]["client_id"], rp.id.as_str());
    assert_eq!(listed[0]["scopes"], serde_json::json!(["openid", "email"]));
    let withdraw = |id: String| {
        let request = app
            .client
            .delete(app.url(&format!("/api/v1/users/me/consents/{id}")))
            .bearer_auth(token.clone());
        async move { request.send().await.expect("request").status() }
    };
    assert_eq!(withdraw(rp.id.clone()).await, StatusCode::NO_CONTENT);
    // Withdrawing ends the client's sessions: its refresh token is dead.
    let refreshed = app
        .oauth_token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &client_refresh),
            ],
            Some((&rp.id, &rp.secret)),
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(withdraw(rp.id.clone()).await, StatusCode::NOT_FOUND);
    assert_eq!(
        get_authorize(&app, &request_params(&rp), Some(&session))
            .await
            .status(),
        StatusCode::OK,
        "asked again after withdrawal"
    );
    // The consent form is CSRF-protected like the sign-in form.
    let mut forged = request_params(&rp);
    forged.push(("csrf_token", "guessed".into()));
    forged.push(("decision", "allow".into()));
    let response = app
        .client
        .post(app.url("/oauth/consent"))
        .header("cookie", format!("signet_csrf=other; {session}"))
        .form(&forged)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

async fn the_sign_in_page_is_rate_limited_like_the_rest_login(backend: Backend) {
    // Three per minute: creating the user signs in once (REST), then two misses.
    let app = TestApp::spawn_with(backend, &[("RATE_LIMIT_LOGIN_PER_IP", "3/1m")]).await;
    let rp = rp(&app, true).await;
    let user = app.user("limited-page@example.com").await;
    for _ in 0..2 {
        let wrong = sign_in(&app, &rp, &user.email, "not the password at all").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = sign_in(&app, &rp, &user.email, PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(limited.headers(), "signet_session").is_none());
    let html = limited.text().await.expect("html");
    assert!(html.contains("Too many attempts"), "{html}");
    assert!(
        html.contains("name=\"password\""),
        "the form again, as a page"
    );
}

async fn signing_out_of_the_application_signs_out_of_signet(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = rp(&app, true).await;
    let user = app.user("out@example.com").await;
    let response = sign_in(&app, &rp, &user.email, PASSWORD).await;
    let cookie = value_of(&set_cookie(response.headers(), "signet_session").expect("cookie"));
    let code = query_of(response.headers()[LOCATION].to_str().expect("loc"))["code"].clone();
    let body = json_body(exchange_code(&app, &rp, &code).await).await;
    let id_token = body["id_token"].as_str().expect("id token");
    let mut url = url::Url::parse(&app.url("/oauth/logout")).expect("url");
    url.query_pairs_mut().append_pair("id_token_hint", id_token);
    let out = app
        .client
        .get(url)
        .header("cookie", cookie.as_str())
        .send()
        .await
        .expect("request");
    assert_eq!(out.status(), StatusCode::OK);
    let cleared = set_cookie(out.headers(), "signet_session").expect("cookie cleared");
    assert!(
        cleared.contains("Max-Age=0") || cleared.contains("Expires="),
        "{cleared}"
    );
    // The same path as the cookie set, or the browser keeps the old one.
    assert!(cleared.contains("Path=/"), "{cleared}");
    assert_eq!(
        get_authorize(&app, &request_params(&rp), Some(&cookie))
            .await
            .status(),
        StatusCode::OK,
        "the old cookie no longer signs anyone in"
    );
}

async fn a_new_user_signs_up_from_the_sign_in_page_and_continues(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = rp(&app, true).await;
    let page = get_authorize(&app, &request_params(&rp), None).await;
    let html = page.text().await.expect("html");
    let link = html.find("href=\"/oauth/signup?").expect("sign-up link");
    let href = html[link + 6..]
        .split('"')
        .next()
        .expect("href")
        // As a browser decodes the attribute.
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let signup = app
        .client
        .get(app.url(&href))
        .send()
        .await
        .expect("request");
    assert_eq!(signup.status(), StatusCode::OK);
    let csrf_cookie = value_of(&set_cookie(signup.headers(), "signet_csrf").expect("csrf"));
    let html = signup.text().await.expect("html");
    assert!(html.contains("autocomplete=\"new-password\""));
    let post = |email: &str, password: &str, csrf: Option<String>| {
        let mut form = request_params(&rp);
        form.push((
            "csrf_token",
            csrf.clone().unwrap_or_else(|| csrf_field(&html)),
        ));
        form.push(("email", email.into()));
        form.push(("password", password.into()));
        form.push(("display_name", "New <b>User</b>".into()));
        app.client
            .post(app.url("/oauth/signup"))
            .header("cookie", csrf_cookie.clone())
            .header("sec-fetch-site", "same-origin")
            .form(&form)
            .send()
    };
    // Refusals re-render the page with the reason; nobody is created.
    let short = post("new@example.com", "short", None)
        .await
        .expect("request");
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().await.expect("html").contains("password"));
    let forged = post(
        "new@example.com",
        "a long new password",
        Some("guessed".into()),
    )
    .await
    .expect("request");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count_rows("users").await, 0);

    // Created: a page that says to check the mailbox (the same page as for
    // a registered address), never signed in at once, with a link back to
    // sign in that carries the authorization request.
    let created = post("new@example.com", "a long new password", None)
        .await
        .expect("request");
    assert_eq!(created.status(), StatusCode::OK);
    assert!(set_cookie(created.headers(), "signet_session").is_none());
    let page = created.text().await.expect("html");
    assert!(page.contains("Check your inbox"), "{page}");
    assert_eq!(app.count_rows("users").await, 1);
    let again = post("new@example.com", "another long password", None)
        .await
        .expect("request");
    assert_eq!(again.status(), StatusCode::OK);
    let strip = |html: &str| html.split("<footer").next().unwrap_or(html).to_owned();
    assert_eq!(
        strip(&again.text().await.expect("html")),
        strip(&page),
        "a registered address gets the very same page"
    );
    assert_eq!(app.count_rows("users").await, 1);

    // The link back signs in and the request continues with a code.
    let link = page
        .split("href=\"")
        .find(|rest| rest.starts_with("/oauth/authorize?"))
        .and_then(|rest| rest.split('"').next())
        .expect("a sign-in link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let sign_in_page = app
        .client
        .get(app.url(&link))
        .send()
        .await
        .expect("request");
    assert_eq!(sign_in_page.status(), StatusCode::OK);
    let csrf_cookie = value_of(&set_cookie(sign_in_page.headers(), "signet_csrf").expect("csrf"));
    let mut form = hidden_fields(&sign_in_page.text().await.expect("html"));
    form.push(("email".into(), "new@example.com".into()));
    form.push(("password".into(), "a long new password".into()));
    let signed_in = app
        .client
        .post(app.url("/oauth/authorize"))
        .header("cookie", csrf_cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .expect("request");
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let query = query_of(signed_in.headers()[LOCATION].to_str().expect("loc"));
    assert!(query.contains_key("code"));
    assert_eq!(query["state"], "st&te=1");
}

/// The hidden fields of the page's form, unescaped, as a browser posts them.
pub(crate) fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let unescape = |v: &str| {
        v.replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&#38;", "&")
            .replace("&#34;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split_once("value=\"")?.1.split_once('"')?.0;
            Some((unescape(name), unescape(value)))
        })
        .collect()
}

/// Issue 23, finding 9: `prompt=consent` and `max_age` were dropped by the
/// sign-in form, so a returning user who was to be asked again was not.
async fn the_sign_in_form_carries_prompt_and_max_age_through(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = rp(&app, false).await;
    let user = app.user("again@example.com").await;
    auth_server::oauth::consent::grant(
        &app.state.db,
        uuid::Uuid::parse_str(&user.id).expect("uuid"),
        &rp.id,
        "openid email",
        app.state.clock.now(),
    )
    .await
    .expect("consent");
    let mut params = request_params(&rp);
    params.push(("prompt", "consent".into()));
    params.push(("max_age", "0".into()));
    let page = get_authorize(&app, &params, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csrf_cookie = value_of(&set_cookie(page.headers(), "signet_csrf").expect("csrf cookie"));
    let form = hidden_fields(&page.text().await.expect("html"));
    for (name, value) in &params {
        assert!(
            form.iter().any(|(n, v)| n == name && v == value),
            "{name} is not carried: {form:?}"
        );
    }
    let mut posted: Vec<(String, String)> = form;
    posted.push(("email".into(), user.email.clone()));
    posted.push(("password".into(), PASSWORD.into()));
    let response = app
        .client
        .post(app.url("/oauth/authorize"))
        .header("cookie", csrf_cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&posted)
        .send()
        .await
        .expect("request");
    // The consent page again, although the user had allowed these scopes.
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    assert!(html.contains("name=\"decision\""), "{html}");
    let carried = hidden_fields(&html);
    assert!(carried.iter().any(|(n, v)| n == "prompt" && v == "consent"));
}

async fn every_page_links_the_one_stylesheet_served_for_a_year(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rp = rp(&app, false).await;
    let pages = [
        get_authorize(&app, &request_params(&rp), None).await,
        app.get("/account/password-reset").await,
        app.get("/oauth/authorize").await, // an error page
    ];
    let mut hrefs = Vec::new();
    for page in pages {
        let csp = page.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(csp.contains("style-src 'self'"), "{csp}");
        let html = page.text().await.expect("html");
        assert!(
            !html.contains("style="),
            "no inline styles (the CSP forbids them)"
        );
        let href = html
            .split("<link rel=\"stylesheet\" href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a stylesheet link")
            .to_owned();
        hrefs.push(href);
    }
    hrefs.dedup();
    assert_eq!(hrefs.len(), 1, "one stylesheet: {hrefs:?}");
    let href = &hrefs[0];
    assert!(
        href.starts_with("/assets/signet.") && href.ends_with(".css") && href.len() > 25,
        "a content-hashed name: {href}"
    );
    let css = app.get(href).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let text = css.text().await.expect("css");
    assert!(text.contains("prefers-color-scheme: dark"));
    assert!(text.contains(":focus-visible"));
    // Another version's name is not served.
    assert_eq!(
        app.get("/assets/signet.000000000000.css").await.status(),
        StatusCode::NOT_FOUND
    );
}

backend_tests!(
    every_page_links_the_one_stylesheet_served_for_a_year,
    the_sign_in_form_carries_prompt_and_max_age_through,
    a_new_user_signs_up_from_the_sign_in_page_and_continues,
    signing_out_of_the_application_signs_out_of_signet,
    the_sign_in_page_is_rate_limited_like_the_rest_login,
    a_browser_signs_in_gets_a_code_and_the_client_gets_tokens,
    untrusted_requests_get_a_page_and_the_rest_go_back_with_an_error,
    the_sign_in_form_resists_csrf_and_reveals_no_account,
    a_third_party_client_needs_consent_once_until_it_is_withdrawn,
);
