//! Upstream OpenID providers: discovery against a real provider (a second
//! auth-server), and a provider that is down stopping nothing.

use std::time::Duration;

use auth_server::upstream::Discovery;
use reqwest::StatusCode;

use auth_server::clients::{self, Actor, NewClient};
use reqwest::header::LOCATION;

use crate::helpers::{
    backend_tests, claims_of, csrf_field, json_body, set_cookie, value_of, Backend, TestApp,
    PASSWORD,
};

async fn discovery_of(app: &TestApp, name: &str) -> std::sync::Arc<Discovery> {
    let upstream = app.state.upstreams.get(name).expect("configured");
    // A guard against a hang, not a timing assertion.
    tokio::time::timeout(Duration::from_secs(30), upstream.settled())
        .await
        .expect("discovery never finished")
}

async fn an_upstream_provider_is_discovered_and_one_that_is_down_stops_nothing(backend: Backend) {
    let upstream = TestApp::spawn(backend).await;
    let down = format!("http://127.0.0.1:{}", signet_service::testing::free_port());
    let app = TestApp::spawn_with(
        backend,
        &[
            ("UPSTREAM_PROVIDERS", "corp,gone"),
            ("UPSTREAM_CORP_ISSUER", upstream.address.as_str()),
            ("UPSTREAM_CORP_CLIENT_ID", "sgc_placeholder"),
            ("UPSTREAM_CORP_CLIENT_SECRET", "not used here"),
            ("UPSTREAM_CORP_DISPLAY_NAME", "Corp SSO"),
            ("UPSTREAM_GONE_ISSUER", down.as_str()),
            ("UPSTREAM_GONE_CLIENT_ID", "x"),
            ("UPSTREAM_GONE_CLIENT_SECRET", "y"),
        ],
    )
    .await;
    let Discovery::Ready(found) = &*discovery_of(&app, "corp").await else {
        panic!("corp is not ready");
    };
    assert_eq!(found.issuer, upstream.address);
    assert_eq!(
        found.token_endpoint,
        format!("{}/oauth/token", upstream.address)
    );
    assert_eq!(
        found.jwks_uri,
        format!("{}/.well-known/jwks.json", upstream.address)
    );
    assert!(found
        .code_challenge_methods_supported
        .iter()
        .any(|m| m == "S256"));
    let corp = app.state.upstreams.get("corp").expect("corp");
    assert_eq!(
        corp.redirect_uri(&app.state.config.issuer),
        format!("{}/oauth/upstream/corp/callback", app.address)
    );

    // The one that is down: unavailable, and password sign-in goes on.
    let gone = discovery_of(&app, "gone").await;
    assert!(matches!(*gone, Discovery::Failed(_)), "{gone:?}");
    assert!(gone.label().starts_with("unavailable"));
    app.user("still@example.com").await;
    assert_eq!(
        app.login("still@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn a_discovery_document_for_another_issuer_is_refused(backend: Backend) {
    // The upstream answers for its own issuer, not the one configured.
    let upstream = TestApp::spawn_with(backend, &[("JWT_ISSUER", "http://127.0.0.1:1")]).await;
    let http = auth_server::upstream::http_client().expect("client");
    let refused = auth_server::upstream::discover(&http, &upstream.address).await;
    assert_eq!(
        refused.err().as_deref(),
        Some("the discovery document names another issuer")
    );
}

const RP_REDIRECT: &str = "http://127.0.0.1:8081/auth/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// A real upstream provider (a second auth-server with this server
/// registered as its client), this server configured to use it as `corp`,
/// and a first-party relying party here.
struct Federation {
    upstream: TestApp,
    app: TestApp,
    rp_id: String,
    rp_secret: String,
}

async fn register(app: &TestApp, redirect: &str) -> (String, String) {
    let registered = clients::register(
        &app.state.db,
        NewClient {
            name: "Relying party".into(),
            redirect_uris: vec![redirect.into()],
            first_party: true,
            ..NewClient::default()
        },
        Actor {
            id: "test",
            ip: None,
        },
        app.state.clock.now(),
    )
    .await
    .expect("registered");
    (
        registered.client.client_id,
        registered.secret.expect("confidential"),
    )
}

async fn federation(backend: Backend, extra: &[(&str, &str)]) -> Federation {
    let upstream = TestApp::spawn(backend).await;
    let port = signet_service::testing::free_port();
    let bind = format!("127.0.0.1:{port}");
    let callback = format!("http://{bind}/oauth/upstream/corp/callback");
    let (client_id, secret) = register(&upstream, &callback).await;
    let mut vars = vec![
        ("BIND_ADDR", bind.as_str()),
        ("UPSTREAM_PROVIDERS", "corp"),
        ("UPSTREAM_CORP_ISSUER", upstream.address.as_str()),
        ("UPSTREAM_CORP_CLIENT_ID", client_id.as_str()),
        ("UPSTREAM_CORP_CLIENT_SECRET", secret.as_str()),
        ("UPSTREAM_CORP_DISPLAY_NAME", "Corp SSO"),
    ];
    vars.extend_from_slice(extra);
    let app = TestApp::spawn_with(backend, &vars).await;
    assert!(matches!(
        *discovery_of(&app, "corp").await,
        Discovery::Ready(_)
    ));
    let (rp_id, rp_secret) = register(&app, RP_REDIRECT).await;
    Federation {
        upstream,
        app,
        rp_id,
        rp_secret,
    }
}

fn unescape(text: &str) -> String {
    text.replace("&#38;", "&").replace("&amp;", "&")
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION]
        .to_str()
        .expect("ascii")
        .to_owned()
}

/// The browser's trip: this server's sign-in page, its "Sign in with Corp
/// SSO" button, the provider's sign-in form as `email`, and back to the
/// callback. The callback's answer, and the callback URL with the cookie it
/// was sent with (for replay attacks).
async fn through_the_provider(
    fed: &Federation,
    email: &str,
) -> (reqwest::Response, String, String) {
    let app = &fed.app;
    let mut authorize = url::Url::parse(&app.url("/oauth/authorize")).expect("url");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &fed.rp_id)
        .append_pair("redirect_uri", RP_REDIRECT)
        .append_pair("scope", "openid email")
        .append_pair("state", "rp-state")
        .append_pair("code_challenge", &auth_server::oauth::codes::s256(VERIFIER))
        .append_pair("code_challenge_method", "S256");
    let page = app.client.get(authorize).send().await.expect("page");
    let html = page.text().await.expect("html");
    assert!(html.contains("Sign in with Corp SSO"), "{html}");
    let href = html
        .split("href=\"")
        .find(|rest| rest.starts_with("/oauth/upstream/corp/start?"))
        .and_then(|rest| rest.split('"').next())
        .map(unescape)
        .expect("the provider's button");
    let started = app.client.get(app.url(&href)).send().await.expect("start");
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let flow_cookie = value_of(&set_cookie(started.headers(), "signet_upstream").expect("cookie"));
    let at_provider = location(&started);
    assert!(at_provider.starts_with(&format!("{}/oauth/authorize?", fed.upstream.address)));
    let query: std::collections::HashMap<String, String> = url::Url::parse(&at_provider)
        .expect("url")
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(query.contains_key("nonce") && query.contains_key("state"));

    let callback = at_the_provider(fed, &at_provider, email).await;
    assert!(callback.starts_with(&format!("{}/oauth/upstream/corp/callback?", app.address)));
    let answer = get_with_cookie(app, &callback, &flow_cookie).await;
    (answer, callback, flow_cookie)
}

/// `GET url` from the browser that holds `cookie`.
async fn get_with_cookie(app: &TestApp, url: &str, cookie: &str) -> reqwest::Response {
    app.client
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .expect("request")
}

/// The link page's form, posted from its browser (`cookies`: the flow's
/// and the CSRF cookie) with `password`.
async fn link_with_password(
    fed: &Federation,
    cookies: &str,
    csrf: &str,
    password: &str,
) -> reqwest::Response {
    fed.app
        .client
        .post(fed.app.url("/oauth/upstream/corp/link"))
        .header("cookie", cookies)
        .header("sec-fetch-site", "same-origin")
        .form(&[("csrf_token", csrf), ("password", password)])
        .send()
        .await
        .expect("link")
}

/// At the provider: its sign-in form, filled in as `email`; the callback
/// URL it sends the browser back to.
async fn at_the_provider(fed: &Federation, at_provider: &str, email: &str) -> String {
    // The provider's own sign-in form.
    let upstream = &fed.upstream;
    let form_page = upstream
        .client
        .get(at_provider)
        .send()
        .await
        .expect("provider page");
    assert_eq!(form_page.status(), StatusCode::OK);
    let csrf_cookie = value_of(&set_cookie(form_page.headers(), "signet_csrf").expect("csrf"));
    let form_html = form_page.text().await.expect("html");
    let mut form: Vec<(String, String)> = form_html
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split_once("value=\"")?.1.split_once('"')?.0;
            Some((name.to_owned(), unescape(value)))
        })
        .collect();
    assert!(form
        .iter()
        .any(|(n, v)| n == "csrf_token" && *v == csrf_field(&form_html)));
    form.push(("email".into(), email.into()));
    form.push(("password".into(), PASSWORD.into()));
    let signed_in = upstream
        .client
        .post(upstream.url("/oauth/authorize"))
        .header("cookie", csrf_cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .expect("provider sign-in");
    assert_eq!(
        signed_in.status(),
        StatusCode::SEE_OTHER,
        "the provider signed in"
    );
    location(&signed_in)
}

/// The relying party's code from a final redirect, exchanged for tokens.
async fn tokens_from(fed: &Federation, response: &reqwest::Response) -> serde_json::Value {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let back = location(response);
    assert!(back.starts_with(RP_REDIRECT), "{back}");
    let code = url::Url::parse(&back)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
        .into_owned();
    let exchanged = fed
        .app
        .oauth_token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", RP_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            Some((&fed.rp_id, &fed.rp_secret)),
        )
        .await;
    assert_eq!(exchanged.status(), StatusCode::OK);
    json_body(exchanged).await
}

async fn a_first_upstream_sign_in_creates_the_user_and_the_next_finds_it(backend: Backend) {
    let fed = federation(backend, &[]).await;
    // At the provider: a verified address (the operator made the account).
    fed.upstream.admin_named("ann@corp.example").await;
    let (answer, _, _) = through_the_provider(&fed, "ann@corp.example").await;
    assert!(
        set_cookie(answer.headers(), "signet_session").is_some(),
        "signed in here"
    );
    let tokens = tokens_from(&fed, &answer).await;
    let claims = claims_of(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(claims["email"], "ann@corp.example");
    assert_eq!(claims["email_verified"], true);
    // RFC 8176: a federated sign-in, and through whom.
    assert_eq!(claims["amr"], serde_json::json!(["fed"]));
    assert_eq!(claims["idp"], fed.upstream.address.as_str());
    let access = claims_of(tokens["access_token"].as_str().expect("access token"));
    assert_eq!(access["amr"], serde_json::json!(["fed"]));
    assert_eq!(claims["acr"], "fed");
    assert_eq!(access["acr"], "fed");
    assert_eq!(access["idp"], fed.upstream.address.as_str());
    // Refreshed tokens keep saying so.
    let refreshed = fed
        .app
        .oauth_token(
            &[
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    tokens["refresh_token"].as_str().expect("rt"),
                ),
            ],
            Some((&fed.rp_id, &fed.rp_secret)),
        )
        .await;
    let refreshed = json_body(refreshed).await;
    let access = claims_of(refreshed["access_token"].as_str().expect("access token"));
    assert_eq!(access["idp"], fed.upstream.address.as_str());
    assert_eq!(fed.app.count_rows("users").await, 1);
    assert_eq!(fed.app.count_rows("upstream_identities").await, 1);
    let sub = claims["sub"].clone();

    // The second time: the same user, linked by (issuer, sub).
    let (again, _, _) = through_the_provider(&fed, "ann@corp.example").await;
    let tokens = tokens_from(&fed, &again).await;
    let claims = claims_of(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(claims["sub"], sub);
    assert_eq!(fed.app.count_rows("users").await, 1);
    let admin = fed.app.admin_named("ops@example.com").await;
    let signups = fed.app.audit(&admin, "user.signup").await;
    assert!(
        signups.iter().any(|e| e["detail"]["via"] == "corp"),
        "{signups:?}"
    );
}

async fn an_unverified_upstream_address_creates_no_account(backend: Backend) {
    let fed = federation(backend, &[]).await;
    fed.upstream.user("plain@corp.example").await; // signed up, never verified
    let (answer, _, _) = through_the_provider(&fed, "plain@corp.example").await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert!(answer.text().await.expect("html").contains("not verified"));
    assert_eq!(fed.app.count_rows("users").await, 0);
}

async fn a_domain_outside_the_allow_list_is_refused(backend: Backend) {
    let fed = federation(
        backend,
        &[("UPSTREAM_CORP_ALLOWED_DOMAINS", "corp.example")],
    )
    .await;
    fed.upstream.admin_named("eve@elsewhere.example").await;
    let (answer, _, _) = through_the_provider(&fed, "eve@elsewhere.example").await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert!(answer.text().await.expect("html").contains("domain"));
    assert_eq!(fed.app.count_rows("users").await, 0);
}

async fn an_existing_account_is_linked_only_with_its_password(backend: Backend) {
    let fed = federation(backend, &[]).await;
    fed.app.user("both@corp.example").await;
    fed.upstream.admin_named("both@corp.example").await;
    let (answer, _, _) = through_the_provider(&fed, "both@corp.example").await;
    assert_eq!(answer.status(), StatusCode::OK, "the link page");
    let link_cookie = value_of(&set_cookie(answer.headers(), "signet_upstream").expect("cookie"));
    let csrf_cookie = value_of(&set_cookie(answer.headers(), "signet_csrf").expect("csrf"));
    let html = answer.text().await.expect("html");
    assert!(html.contains("both@corp.example"));
    let cookies = format!("{link_cookie}; {csrf_cookie}");
    let wrong = link_with_password(
        &fed,
        &cookies,
        &csrf_field(&html),
        "not the password at all",
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        fed.app.count_rows("upstream_identities").await,
        0,
        "not linked"
    );
    let failures = {
        let admin = fed.app.admin_named("ops@example.com").await;
        fed.app.audit(&admin, "login.failure").await.len()
    };
    assert!(
        failures >= 1,
        "the wrong password counted like a failed sign-in"
    );
    let right = link_with_password(&fed, &cookies, &csrf_field(&html), PASSWORD).await;
    tokens_from(&fed, &right).await;
    assert_eq!(fed.app.count_rows("upstream_identities").await, 1);
    assert_eq!(
        fed.app.count_rows("users").await,
        2,
        "no new account (and the admin)"
    );

    // From now on the provider alone signs in.
    let (again, _, _) = through_the_provider(&fed, "both@corp.example").await;
    tokens_from(&fed, &again).await;
}

async fn a_callback_from_another_browser_replayed_or_with_a_wrong_state_issues_nothing(
    backend: Backend,
) {
    let fed = federation(backend, &[]).await;
    fed.upstream.admin_named("victim@corp.example").await;
    let (answer, callback, cookie) = through_the_provider(&fed, "victim@corp.example").await;
    tokens_from(&fed, &answer).await;
    // Replayed: the same URL and cookie again.
    let replay = get_with_cookie(&fed.app, &callback, &cookie).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.headers().get(LOCATION).is_none(), "no code");

    // Another browser (no cookie), and a state from elsewhere: a second
    // flow's callback URL, intercepted. (The trip above delivered it once
    // with the cookie; that first use already spent the flow, so both are
    // refused whatever they carry.)
    let (_, callback2, cookie2) = through_the_provider(&fed, "victim@corp.example").await;
    let no_cookie = fed.app.client.get(&callback2).send().await.expect("cb");
    assert_eq!(no_cookie.status(), StatusCode::BAD_REQUEST);
    let wrong_state = callback2.replace("state=", "state=x");
    let forged = get_with_cookie(&fed.app, &wrong_state, &cookie2).await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(forged.headers().get(LOCATION).is_none());
}

/// An account token (`ACCOUNT_AUDIENCE`) for the person behind a final
/// redirect: the first-party relying party asks for that resource.
async fn account_token_from(fed: &Federation, response: &reqwest::Response) -> String {
    let back = location(response);
    let code = url::Url::parse(&back)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("a code")
        .1
        .into_owned();
    let account = fed.app.state.config.account_audience.clone();
    let exchanged = fed
        .app
        .oauth_token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", RP_REDIRECT),
                ("code_verifier", VERIFIER),
                ("resource", &account),
            ],
            Some((&fed.rp_id, &fed.rp_secret)),
        )
        .await;
    assert_eq!(exchanged.status(), StatusCode::OK);
    json_body(exchanged).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

async fn linked_identities_are_listed_and_unlinked_except_the_last_way_in(backend: Backend) {
    let fed = federation(backend, &[]).await;
    fed.upstream.admin_named("solo@corp.example").await;
    let (answer, _, _) = through_the_provider(&fed, "solo@corp.example").await;
    let token = account_token_from(&fed, &answer).await;
    let listed = json_body(
        fed.app
            .get_with_token("/api/v1/account/identities", &token)
            .await,
    )
    .await;
    let listed = listed.as_array().expect("a list").clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["provider"], "corp");
    assert_eq!(listed[0]["issuer"], fed.upstream.address.as_str());
    // No password: the provider is the only way in, and stays.
    let unlink = || {
        fed.app
            .client
            .delete(fed.app.url("/api/v1/account/identities/corp"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(unlink().await.expect("r").status(), StatusCode::CONFLICT);
    assert_eq!(
        fed.app.login("solo@corp.example", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "an account made by the provider has no password"
    );
    let missing = fed
        .app
        .client
        .delete(fed.app.url("/api/v1/account/identities/nobody"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("r");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // An account with a password may unlink.
    fed.app.user("pw@corp.example").await;
    fed.upstream.admin_named("pw@corp.example").await;
    let (link_page, _, _) = through_the_provider(&fed, "pw@corp.example").await;
    let link_cookie =
        value_of(&set_cookie(link_page.headers(), "signet_upstream").expect("cookie"));
    let csrf_cookie = value_of(&set_cookie(link_page.headers(), "signet_csrf").expect("csrf"));
    let html = link_page.text().await.expect("html");
    let linked = link_with_password(
        &fed,
        &format!("{link_cookie}; {csrf_cookie}"),
        &csrf_field(&html),
        PASSWORD,
    )
    .await;
    let token = account_token_from(&fed, &linked).await;
    let unlinked = fed
        .app
        .client
        .delete(fed.app.url("/api/v1/account/identities/corp"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("r");
    assert_eq!(unlinked.status(), StatusCode::NO_CONTENT);
    let listed = json_body(
        fed.app
            .get_with_token("/api/v1/account/identities", &token)
            .await,
    )
    .await;
    assert_eq!(listed, serde_json::json!([]));
}

async fn the_gateways_sign_in_page_signs_in_through_the_provider_for_its_own_site(
    backend: Backend,
) {
    const APP: &str = "http://127.0.0.1:8088";
    const OTHER: &str = "http://127.0.0.1:8099";
    let fed = federation(
        backend,
        &[(
            "GATEWAY_PROTECTED_ORIGINS",
            "http://127.0.0.1:8088,http://127.0.0.1:8099",
        )],
    )
    .await;
    fed.upstream.admin_named("gw@corp.example").await;
    let app = &fed.app;
    let rd = format!("{APP}/home?x=1");
    let mut page_url = url::Url::parse(&app.url("/oauth/gateway/sign-in")).expect("url");
    page_url.query_pairs_mut().append_pair("rd", &rd);
    let html = app
        .client
        .get(page_url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    // The button starts on the issuer's origin, where the provider returns.
    let href = html
        .split("href=\"")
        .find(|rest| rest.starts_with(&format!("{}/oauth/upstream/corp/start?", app.address)))
        .and_then(|rest| rest.split('"').next())
        .map(unescape)
        .expect("the provider's button on the gateway page");
    let started = app.client.get(&href).send().await.expect("start");
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let flow_cookie = value_of(&set_cookie(started.headers(), "signet_upstream").expect("cookie"));
    let callback = at_the_provider(&fed, &location(&started), "gw@corp.example").await;
    let answer = get_with_cookie(app, &callback, &flow_cookie).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(
        set_cookie(answer.headers(), "signet_session").is_none(),
        "no session cookie on the issuer's origin for a gateway sign-in"
    );
    let handoff_url = location(&answer);
    assert!(
        handoff_url.starts_with(&format!("{APP}/oauth/gateway/sign-in?handoff=")),
        "{handoff_url}"
    );
    // The gateway proxies its sign-in path to auth-server: call it directly.
    let on_site = |url: &str| url.replacen(APP, &app.address, 1);
    // A hand-off presented for another site is refused (and spent).
    let stolen = on_site(&handoff_url).replace(
        &url::form_urlencoded::byte_serialize(rd.as_bytes()).collect::<String>(),
        &url::form_urlencoded::byte_serialize(format!("{OTHER}/").as_bytes()).collect::<String>(),
    );
    assert_ne!(stolen, on_site(&handoff_url));
    let elsewhere = app.client.get(&stolen).send().await.expect("other site");
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookie(elsewhere.headers(), "signet_session").is_none());

    // A fresh trip, its hand-off used on its own site: the site's cookie.
    let started = app.client.get(&href).send().await.expect("start");
    let flow_cookie = value_of(&set_cookie(started.headers(), "signet_upstream").expect("cookie"));
    let callback = at_the_provider(&fed, &location(&started), "gw@corp.example").await;
    let answer = get_with_cookie(app, &callback, &flow_cookie).await;
    let handoff_url = on_site(&location(&answer));
    let landed = app.client.get(&handoff_url).send().await.expect("hand-off");
    assert_eq!(landed.status(), StatusCode::FOUND);
    assert_eq!(location(&landed), rd);
    let session = value_of(&set_cookie(landed.headers(), "signet_session").expect("site cookie"));
    let verified = app
        .client
        .get(app.url("/api/v1/auth/verify"))
        .header("x-forwarded-proto", "http")
        .header("x-forwarded-host", "127.0.0.1:8088")
        .header("x-forwarded-uri", "/home")
        .header("x-forwarded-method", "GET")
        .header("cookie", &session)
        .send()
        .await
        .expect("forward-auth");
    assert_eq!(verified.status(), StatusCode::OK);
    assert!(verified.headers().contains_key("x-auth-user"));
    // Once only.
    let again = app.client.get(&handoff_url).send().await.expect("replay");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

async fn the_account_sign_in_offers_the_provider_and_lands_on_the_page_asked_for(backend: Backend) {
    let fed = federation(backend, &[]).await;
    fed.upstream.admin_named("acc@corp.example").await;
    let app = &fed.app;
    let html = app
        .get("/account/sign-in?next=%2Fadmin%2Fusers")
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("Sign in with Corp SSO"), "{html}");
    let href = html
        .split("href=\"")
        .find(|rest| rest.starts_with("/oauth/upstream/corp/start?"))
        .and_then(|rest| rest.split('"').next())
        .map(unescape)
        .expect("the provider's button");
    assert_eq!(href, "/oauth/upstream/corp/start?next=%2Fadmin%2Fusers");

    // A `next` off the account pages is not followed: the trip ends at /account.
    for (next, lands) in [
        ("%2Fadmin%2Fusers", "/admin/users"),
        ("https%3A%2F%2Fevil.example%2F", "/account"),
        ("%2F%2Fevil.example", "/account"),
    ] {
        let started = app
            .client
            .get(app.url(&format!("/oauth/upstream/corp/start?next={next}")))
            .send()
            .await
            .expect("start");
        assert_eq!(started.status(), StatusCode::SEE_OTHER, "{next}");
        let flow_cookie =
            value_of(&set_cookie(started.headers(), "signet_upstream").expect("cookie"));
        let callback = at_the_provider(&fed, &location(&started), "acc@corp.example").await;
        let answer = get_with_cookie(app, &callback, &flow_cookie).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&answer), lands, "{next}");
        assert!(set_cookie(answer.headers(), "signet_session").is_some());
    }
    // `next` with a client or a gateway return is no request at all.
    let mixed = app
        .get(&format!(
            "/oauth/upstream/corp/start?next=%2Faccount&client_id={}",
            fed.rp_id
        ))
        .await;
    assert_eq!(mixed.status(), StatusCode::BAD_REQUEST);
}

/// An account with its own second factor is asked for it after the
/// provider's sign-in too: the session it gets is `fed otp mfa`.
async fn an_upstream_sign_in_of_an_account_with_a_second_factor_asks_for_it(backend: Backend) {
    let fed = federation(backend, &[("GENERATE_DEV_KEY", "true")]).await;
    fed.upstream.admin_named("mfa@corp.example").await;
    let (first, _, _) = through_the_provider(&fed, "mfa@corp.example").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER, "no factor yet");
    let state = &fed.app.state;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
    let user = auth_server::accounts::entity::Entity::find()
        .filter(auth_server::accounts::entity::Column::Email.eq("mfa@corp.example"))
        .one(&state.db)
        .await
        .expect("row")
        .expect("the account the sign-in made");
    let seal = state.factor_seal.as_deref().expect("a sealing key");
    let now = state.clock.now();
    let enrolment = auth_server::mfa::totp::begin(&state.db, seal, &user, "Signet", now)
        .await
        .expect("enrolment");
    let code_at = |at| auth_server::testing::totp_code(&enrolment.secret_base32, at);
    auth_server::mfa::confirm_enrolment(
        &state.db,
        state.password_gate(),
        seal,
        &user,
        &code_at(now - chrono::Duration::seconds(30)),
        None,
        now,
    )
    .await
    .expect("confirmed");

    let (asked, _, _) = through_the_provider(&fed, "mfa@corp.example").await;
    assert_eq!(asked.status(), StatusCode::OK, "the second-factor page");
    assert!(
        set_cookie(asked.headers(), "signet_session").is_none(),
        "no session yet"
    );
    let challenge = value_of(&set_cookie(asked.headers(), "signet_mfa").expect("the challenge"));
    let csrf_cookie = value_of(&set_cookie(asked.headers(), "signet_csrf").expect("csrf"));
    let html = asked.text().await.expect("html");
    assert!(html.contains("name=\"code\""), "{html}");
    let mut form = crate::authorize::hidden_fields(&html);
    form.push(("code".into(), code_at(state.clock.now())));
    let done = fed
        .app
        .client
        .post(fed.app.url("/oauth/authorize"))
        .header("cookie", format!("{challenge}; {csrf_cookie}"))
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .expect("second factor");
    assert_eq!(
        done.status(),
        StatusCode::SEE_OTHER,
        "{}",
        done.text().await.unwrap_or_default()
    );
    let tokens = tokens_from(&fed, &done).await;
    let claims = claims_of(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(claims["amr"], serde_json::json!(["fed", "otp", "mfa"]));
    assert_eq!(claims["acr"], "mfa");
    assert_eq!(claims["idp"], fed.upstream.address.as_str());
}

backend_tests!(
    an_upstream_sign_in_of_an_account_with_a_second_factor_asks_for_it,
    the_account_sign_in_offers_the_provider_and_lands_on_the_page_asked_for,
    the_gateways_sign_in_page_signs_in_through_the_provider_for_its_own_site,
    linked_identities_are_listed_and_unlinked_except_the_last_way_in,
    a_first_upstream_sign_in_creates_the_user_and_the_next_finds_it,
    an_unverified_upstream_address_creates_no_account,
    a_domain_outside_the_allow_list_is_refused,
    an_existing_account_is_linked_only_with_its_password,
    a_callback_from_another_browser_replayed_or_with_a_wrong_state_issues_nothing,
    an_upstream_provider_is_discovered_and_one_that_is_down_stops_nothing,
    a_discovery_document_for_another_issuer_is_refused,
);
