//! `grant_type=authorization_code` at the token endpoint: client
//! authentication, PKCE, the ID token (verified here from the JWKS alone, as
//! a relying party would), and the refusals. Codes are issued the way the
//! authorization endpoint will issue them.

use auth_server::clients::{self, Actor, NewClient};
use auth_server::oauth::codes::{self, NewCode};
use jwt_verify::{KeySource, Validation, Verifier, VerifyError};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    backend_tests, claims_of, decode_segment, error_of, json_body, Backend, TestApp,
};

pub(crate) const REDIRECT: &str = "http://127.0.0.1:8081/auth/callback";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const NONCE: &str = "n-0S6_WzA2Mj";
const SIGNED_OUT: &str = "http://127.0.0.1:8081/signed-out";

pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
}

pub(crate) async fn client(app: &TestApp, public: bool) -> Client {
    let registered = clients::register(
        &app.state.db,
        NewClient {
            name: "Blog".into(),
            public,
            redirect_uris: vec![REDIRECT.into()],
            post_logout_redirect_uris: vec![SIGNED_OUT.into()],
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
    Client {
        id: registered.client.client_id,
        secret: registered.secret,
    }
}

/// A code for `email` as the authorization endpoint would issue it.
pub(crate) async fn code_for(
    app: &TestApp,
    client: &Client,
    email: &str,
    scope: &str,
) -> (String, String) {
    let user = app.user(email).await;
    let code = codes::issue(
        &app.state.db,
        NewCode {
            client_id: &client.id,
            user_id: uuid::Uuid::parse_str(&user.id).expect("uuid"),
            redirect_uri: REDIRECT,
            scope,
            nonce: Some(NONCE),
            code_challenge: &codes::s256(VERIFIER),
            auth_time: app.state.clock.now(),
            idp: None,
            methods: &auth_server::sessions::methods::Methods::password(),
            resource: None,
            browser_session: None,
        },
        app.state.clock.now(),
    )
    .await
    .expect("code");
    (code, user.id)
}

async fn exchange(app: &TestApp, client: &Client, code: &str, verifier: &str) -> reqwest::Response {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
        ("client_id", client.id.as_str()),
    ];
    match &client.secret {
        Some(secret) => app.oauth_token(&form, Some((&client.id, secret))).await,
        None => app.oauth_token(&form, None).await,
    }
}

async fn a_confidential_client_gets_an_access_token_and_a_verifiable_id_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = client(&app, false).await;
    let (code, user_id) = code_for(&app, &client, "rp@example.com", "openid email profile").await;
    let response = exchange(&app, &client, &code, VERIFIER).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json_body(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("sgr_")),
        "the client may refresh: {body}"
    );
    let access = body["access_token"].as_str().expect("access token");
    let access_claims = claims_of(access);
    assert_eq!(access_claims["client_id"], client.id.as_str());
    // A third-party client registered with no resources: userinfo alone.
    assert_eq!(
        access_claims["aud"],
        app.state.config.userinfo_audience().as_str()
    );
    assert_eq!(access_claims["scope"], "openid email profile");

    // The relying party's checks, from the JWKS alone (OIDC Core §3.1.3.7).
    let id_token = body["id_token"].as_str().expect("id token");
    assert_eq!(decode_segment(id_token, 0)["typ"], "JWT");
    let verifier = Verifier::new(
        KeySource::jwks(app.url("/.well-known/jwks.json")),
        Validation::new(app.address.as_str()).audience(client.id.as_str()),
    )
    .await
    .expect("jwks");
    let verified = verifier.verify(id_token).await.expect("ID token verifies");
    let claims: Value = verified.deserialize().expect("claims");
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!(claims["aud"], client.id.as_str());
    assert_eq!(claims["nonce"], NONCE);
    assert_eq!(claims["sid"], access_claims["sid"]);
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert_eq!(claims["acr"], "pwd");
    assert_eq!(
        access_claims["acr"], "pwd",
        "a user's access token says how too"
    );
    assert_eq!(claims["email"], "rp@example.com");
    assert_eq!(claims["email_verified"], false);
    assert!(claims["auth_time"].is_i64());
    assert_eq!(
        claims["at_hash"],
        auth_server::oauth::tokens::at_hash(access).as_str()
    );

    // The code is spent: a replay is invalid_grant and ends the session, so
    // the access token stops opening the account API… (here: introspection's
    // view of it, as auth-server's own routes need the account audience).
    let (status, error) = error_of(exchange(&app, &client, &code, VERIFIER).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    // The server's own verifier follows the revocation feed: once it has
    // read the replay's event, it refuses the token itself (`Revoked`);
    // before, the token still verifies and its session is the proof.
    match app.state.keys.verifier().verify_with_current_keys(access) {
        Err(jwt_verify::VerifyError::Revoked) => {}
        Err(other) => panic!("still a valid JWT, or revoked: {other:?}"),
        Ok(verified) => {
            let live = auth_server::sessions::live_account(
                &app.state.db,
                &verified,
                app.state.clock.now(),
            )
            .await
            .expect("query");
            assert!(live.is_none(), "the replay ended the code's session");
        }
    }
}

async fn an_id_token_is_no_access_token_anywhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = client(&app, false).await;
    let (code, _) = code_for(&app, &client, "idt@example.com", "openid").await;
    let body = json_body(exchange(&app, &client, &code, VERIFIER).await).await;
    let id_token = body["id_token"].as_str().expect("id token");
    // auth-server's own API, and forward-auth for the services.
    assert_eq!(app.me(id_token).await.status(), StatusCode::UNAUTHORIZED);
    let gateway = app
        .client
        .get(app.url("/api/v1/auth/verify"))
        .bearer_auth(id_token)
        .send()
        .await
        .expect("request");
    assert_eq!(gateway.status(), StatusCode::UNAUTHORIZED);
    // A service verifying as the README says refuses it too (typ JWT, aud the client).
    let service = Verifier::new(
        KeySource::jwks(app.url("/.well-known/jwks.json")),
        Validation::new(app.address.as_str())
            .audience("signet")
            .require_type("at+jwt"),
    )
    .await
    .expect("jwks");
    assert_eq!(
        service.verify(id_token).await.err(),
        Some(VerifyError::WrongType)
    );
}

async fn a_public_client_proves_itself_with_pkce_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let public = client(&app, true).await;
    let (code, _) = code_for(&app, &public, "spa@example.com", "openid").await;
    let (status, error) = error_of(exchange(&app, &public, &code, &"w".repeat(43)).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    let response = exchange(&app, &public, &code, VERIFIER).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(json_body(response).await["id_token"].is_string());
}

async fn client_authentication_and_code_binding_are_enforced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let confidential = client(&app, false).await;
    let other = client(&app, false).await;
    let (code, _) = code_for(&app, &confidential, "bind@example.com", "openid").await;
    let no_secret = Client {
        id: confidential.id.clone(),
        secret: None,
    };
    let wrong_secret = Client {
        id: confidential.id.clone(),
        secret: Some("sgcs_wrong".into()),
    };
    for (who, expected) in [
        (&no_secret, (StatusCode::UNAUTHORIZED, "invalid_client")),
        (&wrong_secret, (StatusCode::UNAUTHORIZED, "invalid_client")),
        // Another registered client cannot redeem it.
        (&other, (StatusCode::BAD_REQUEST, "invalid_grant")),
    ] {
        let (status, error) = error_of(exchange(&app, who, &code, VERIFIER).await).await;
        assert_eq!((status, error.as_str()), expected);
    }
    // Without the openid scope: an access token and no ID token.
    let (plain, _) = code_for(&app, &confidential, "plain@example.com", "email").await;
    let body = json_body(exchange(&app, &confidential, &plain, VERIFIER).await).await;
    assert!(
        body["access_token"].is_string() && body.get("id_token").is_none(),
        "{body}"
    );
    // The first code, refused four ways above, still works for its client.
    assert_eq!(
        exchange(&app, &confidential, &code, VERIFIER)
            .await
            .status(),
        StatusCode::OK
    );
}

async fn userinfo(app: &TestApp, token: &str, post: bool) -> reqwest::Response {
    let request = if post {
        app.client.post(app.url("/oauth/userinfo"))
    } else {
        app.client.get(app.url("/oauth/userinfo"))
    };
    request.bearer_auth(token).send().await.expect("request")
}

async fn userinfo_answers_by_scope_while_the_session_lives(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = client(&app, false).await;
    let (code, user_id) = code_for(&app, &client, "ui@example.com", "openid email").await;
    let body = json_body(exchange(&app, &client, &code, VERIFIER).await).await;
    let access = body["access_token"].as_str().expect("access").to_owned();
    for post in [false, true] {
        let response = userinfo(&app, &access, post).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let info = json_body(response).await;
        assert_eq!(info["sub"], user_id.as_str());
        assert_eq!(info["email"], "ui@example.com");
        assert_eq!(info["email_verified"], false);
        assert!(info.get("name").is_none(), "no profile scope: {info}");
    }
    // No openid in a service token: 403 insufficient_scope, per RFC 6750.
    let admin = app.admin().await;
    let (_, key) = app.api_key(&admin, "svc", &["posts:write"]).await;
    let service = json_body(
        app.oauth_token(
            &[("grant_type", "client_credentials")],
            Some((&crate::helpers::client_id_of(&key), &key)),
        )
        .await,
    )
    .await["access_token"]
        .as_str()
        .expect("service token")
        .to_owned();
    let refused = userinfo(&app, &service, false).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .contains("insufficient_scope"));
    // The ID token is no access token here either.
    let id_token = body["id_token"].as_str().expect("id token");
    assert_eq!(
        userinfo(&app, id_token, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Once the session ends (here: the code replayed), userinfo says nothing.
    let _ = exchange(&app, &client, &code, VERIFIER).await;
    let ended = userinfo(&app, &access, false).await;
    assert_eq!(ended.status(), StatusCode::UNAUTHORIZED);
    assert!(ended.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .contains("invalid_token"));
}

async fn refresh(app: &TestApp, client: Option<&Client>, token: &str) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    match client {
        Some(Client {
            id,
            secret: Some(secret),
        }) => app.oauth_token(&form, Some((id, secret))).await,
        Some(Client { id, secret: None }) => {
            form.push(("client_id", id));
            app.oauth_token(&form, None).await
        }
        None => app.oauth_token(&form, None).await,
    }
}

async fn a_clients_refresh_token_is_that_clients_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let blog = client(&app, false).await;
    let other = client(&app, false).await;
    let spa = client(&app, true).await;
    let (code, _) = code_for(&app, &blog, "rt@example.com", "openid email").await;
    let body = json_body(exchange(&app, &blog, &code, VERIFIER).await).await;
    let token = body["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();

    // Nobody else may rotate it, and a refused attempt spends nothing.
    for intruder in [None, Some(&other), Some(&spa)] {
        let (status, error) = error_of(refresh(&app, intruder, &token).await).await;
        assert!(
            matches!(
                (status, error.as_str()),
                (StatusCode::BAD_REQUEST, "invalid_grant")
            ),
            "{status} {error}"
        );
    }
    let response = refresh(&app, Some(&blog), &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let rotated = json_body(response).await;
    assert_ne!(rotated["refresh_token"], token.as_str(), "rotated");
    let claims = claims_of(rotated["access_token"].as_str().expect("access"));
    assert_eq!(claims["client_id"], blog.id.as_str());
    assert_eq!(claims["scope"], "openid email", "the granted scope, kept");

    // A password login's refresh token is not a registered client's either.
    let login = app
        .login_json(&app.user("first@example.com").await.email)
        .await;
    let first_party = login["refresh_token"].as_str().expect("rt");
    let (status, error) = error_of(refresh(&app, Some(&blog), first_party).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert_eq!(
        refresh(&app, None, first_party).await.status(),
        StatusCode::OK
    );

    // A public client refreshes with its client_id alone.
    let (spa_code, _) = code_for(&app, &spa, "spa-rt@example.com", "openid").await;
    let spa_body = json_body(exchange(&app, &spa, &spa_code, VERIFIER).await).await;
    let spa_token = spa_body["refresh_token"].as_str().expect("rt");
    assert_eq!(
        refresh(&app, Some(&spa), spa_token).await.status(),
        StatusCode::OK
    );
}

async fn logout(app: &TestApp, query: &[(&str, &str)]) -> reqwest::Response {
    let mut url = url::Url::parse(&app.url("/oauth/logout")).expect("url");
    url.query_pairs_mut().extend_pairs(query);
    app.client.get(url).send().await.expect("request")
}

async fn rp_initiated_logout_ends_the_session_and_returns_only_where_registered(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let blog = client(&app, false).await;
    let other = client(&app, false).await;
    let (code, _) = code_for(&app, &blog, "bye@example.com", "openid").await;
    let body = json_body(exchange(&app, &blog, &code, VERIFIER).await).await;
    let id_token = body["id_token"].as_str().expect("id token").to_owned();
    let access = body["access_token"].as_str().expect("access").to_owned();
    let refresh_token = body["refresh_token"].as_str().expect("rt").to_owned();

    // Refused, with nothing ended and no redirect: open-redirect attempts,
    // someone else's client, tokens that are not our ID tokens.
    let foreign = crate::helpers::sign_with(
        crate::helpers::foreign_key_pem(),
        {
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
            header.typ = Some("JWT".into());
            header
        },
        &claims_of(&id_token),
    );
    for query in [
        vec![
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        vec![
            ("id_token_hint", id_token.as_str()),
            (
                "post_logout_redirect_uri",
                "http://127.0.0.1:8081/signed-out/../evil",
            ),
        ],
        vec![
            ("id_token_hint", id_token.as_str()),
            (
                "post_logout_redirect_uri",
                "http://127.0.0.1:8081/signed-out?x=1",
            ),
        ],
        vec![
            ("id_token_hint", id_token.as_str()),
            ("client_id", other.id.as_str()),
        ],
        vec![("id_token_hint", access.as_str())],
        vec![("id_token_hint", foreign.as_str())],
        vec![("post_logout_redirect_uri", SIGNED_OUT)],
    ] {
        let response = logout(&app, &query).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query:?}");
        assert!(response.headers().get("location").is_none());
    }
    assert_eq!(
        userinfo(&app, &access, false).await.status(),
        StatusCode::OK,
        "nothing was ended"
    );

    let response = logout(
        &app,
        &[
            ("id_token_hint", id_token.as_str()),
            ("post_logout_redirect_uri", SIGNED_OUT),
            ("state", "af0ifjsldkj&x=<y>"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "http://127.0.0.1:8081/signed-out?state=af0ifjsldkj%26x%3D%3Cy%3E"
    );
    assert_eq!(
        userinfo(&app, &access, false).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, error) = error_of(refresh(&app, Some(&blog), &refresh_token).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    // An expired hint still names the session: signing out again is harmless.
    app.state
        .clock
        .advance(std::time::Duration::from_secs(3 * 3600));
    assert_eq!(
        logout(&app, &[("id_token_hint", id_token.as_str())])
            .await
            .status(),
        StatusCode::OK
    );
}

backend_tests!(
    rp_initiated_logout_ends_the_session_and_returns_only_where_registered,
    a_clients_refresh_token_is_that_clients_alone,
    userinfo_answers_by_scope_while_the_session_lives,
    a_confidential_client_gets_an_access_token_and_a_verifiable_id_token,
    an_id_token_is_no_access_token_anywhere,
    a_public_client_proves_itself_with_pkce_alone,
    client_authentication_and_code_binding_are_enforced,
);
