//! OpenID Connect Back-Channel Logout 1.0 against a client this test runs
//! on loopback: signing out of this server ends the session the client's
//! code opened, and the client receives a logout token it can verify
//! (typ, iss, aud, sid, the event, no nonce, a key of the JWKS); a client
//! that is down is told later, one that refuses is given up on.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_server::clients::{self, Actor, NewClient};
use axum::http::StatusCode as AxumStatus;
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use serde_json::Value;

use crate::account_pages::Browser;
use crate::authorize::{exchange_code, get_authorize, query_of, request_params, Rp};
use crate::helpers::{
    backend_tests, claims_of, decode_segment, json_body, Backend, TestApp, PASSWORD,
};

/// The client's back-channel endpoint: the logout tokens it was sent, and
/// the statuses it answers with (in turn; then 200).
#[derive(Clone, Default)]
struct Receiver {
    tokens: Arc<Mutex<Vec<String>>>,
    answers: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    async fn start(answers: &[u16]) -> (Self, String) {
        let receiver = Self::default();
        receiver
            .answers
            .lock()
            .expect("answers")
            .extend(answers.iter().rev());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://{}/backchannel-logout",
            listener.local_addr().expect("addr")
        );
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/backchannel-logout",
            axum::routing::post(
                move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                    let state = state.clone();
                    async move {
                        let status = state.answers.lock().expect("answers").pop().unwrap_or(200);
                        if status == 200 {
                            if let Some(token) = form.get("logout_token") {
                                state.tokens.lock().expect("tokens").push(token.clone());
                            }
                        }
                        AxumStatus::from_u16(status).expect("status")
                    }
                },
            ),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    /// The tokens received once there are `count`, waking the sender
    /// while waiting (it is a task of the server; this waits for its
    /// effect, bounded, and asserts nothing about time).
    async fn received(&self, app: &TestApp, count: usize) -> Vec<String> {
        for _ in 0..500 {
            app.state.mail.wake();
            let tokens = self.tokens.lock().expect("tokens").clone();
            if tokens.len() >= count {
                return tokens;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{count} logout tokens never arrived");
    }
}

async fn client_listening(app: &TestApp, uri: &str) -> Rp {
    let registered = clients::register(
        &app.state.db,
        NewClient {
            name: "Listening RP".into(),
            redirect_uris: vec![crate::authorize::REDIRECT.into()],
            first_party: true,
            backchannel_logout_uri: Some(uri.to_owned()),
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
    Rp {
        id: registered.client.client_id,
        secret: registered.secret.expect("secret"),
    }
}

/// A browser signed in here, and the client's tokens from a code that
/// browser got.
async fn signed_in_client<'a>(app: &'a TestApp, rp: &Rp, email: &str) -> (Browser<'a>, Value) {
    let mut browser = Browser::new(app);
    browser.sign_in(email, PASSWORD).await;
    let back = get_authorize(app, &request_params(rp), Some(&browser.cookie_header())).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let query = query_of(back.headers()[LOCATION].to_str().expect("location"));
    let tokens = exchange_code(app, rp, &query["code"]).await;
    assert_eq!(tokens.status(), StatusCode::OK);
    (browser, json_body(tokens).await)
}

async fn signing_out_here_tells_the_client_with_a_logout_token_it_can_verify(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let discovery = json_body(app.get("/.well-known/openid-configuration").await).await;
    assert_eq!(discovery["backchannel_logout_supported"], true);
    assert_eq!(discovery["backchannel_logout_session_supported"], true);
    let (receiver, uri) = Receiver::start(&[]).await;
    let rp = client_listening(&app, &uri).await;
    let user = app.user("bcl@example.com").await;
    let (mut browser, tokens) = signed_in_client(&app, &rp, &user.email).await;
    let sid = claims_of(tokens["id_token"].as_str().expect("id token"))["sid"].clone();

    // Sign out of this server: the client's session ends with the browser's.
    browser.get("/account").await;
    let out = browser.post("/account/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::OK);
    let refresh = app
        .oauth_token(
            &[
                ("grant_type", "refresh_token"),
                (
                    "refresh_token",
                    tokens["refresh_token"].as_str().expect("rt"),
                ),
            ],
            Some((&rp.id, &rp.secret)),
        )
        .await;
    assert_eq!(
        refresh.status(),
        StatusCode::BAD_REQUEST,
        "the client's session ended"
    );

    let received = receiver.received(&app, 1).await;
    let token = &received[0];
    let header = decode_segment(token, 0);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(header["alg"], "RS256");
    let claims = claims_of(token);
    assert_eq!(claims["iss"], app.address.as_str());
    assert_eq!(claims["aud"], rp.id.as_str());
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["sid"], sid);
    assert!(claims["jti"].is_string() && claims["iat"].is_i64() && claims["exp"].is_i64());
    assert!(claims.get("nonce").is_none());
    assert_eq!(
        claims["events"]["http://schemas.openid.net/event/backchannel-logout"],
        serde_json::json!({})
    );
    // Its signature is by a key the JWKS publishes.
    let verifier = jwt_verify::Verifier::builder(
        jwt_verify::KeySource::jwks(app.url("/.well-known/jwks.json")),
        jwt_verify::Validation::new(app.address.clone())
            .audience(rp.id.clone())
            .require_type("logout+jwt"),
    )
    .build()
    .await
    .expect("verifier");
    verifier
        .verify(token)
        .await
        .expect("a logout token of this issuer");
    // Delivered once: the outbox row is gone.
    assert_eq!(app.count_rows("mail_outbox").await, 0);
}

async fn a_client_that_is_down_is_told_later_and_one_that_refuses_is_given_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (receiver, uri) = Receiver::start(&[503]).await;
    let rp = client_listening(&app, &uri).await;
    let user = app.user("bcl-retry@example.com").await;
    let (_, tokens) = signed_in_client(&app, &rp, &user.email).await;
    let sid = claims_of(tokens["id_token"].as_str().expect("id token"))["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    // The user ends that session on the account API: a notice is queued.
    let ended = app
        .client
        .delete(app.url(&format!("/api/v1/users/me/sessions/{sid}")))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("end");
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    // The first attempt meets a 503: the row waits out its back-off.
    for _ in 0..500 {
        app.state.mail.wake();
        if receiver.answers.lock().expect("answers").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(receiver.tokens.lock().expect("tokens").is_empty());
    assert_eq!(app.count_rows("mail_outbox").await, 1, "kept for the retry");
    app.state.clock.advance(Duration::from_secs(31));
    let received = receiver.received(&app, 1).await;
    assert_eq!(claims_of(&received[0])["sid"], sid.as_str());

    // A client that answers 400 refuses this token for good: given up.
    let (refusing, uri) = Receiver::start(&[400]).await;
    let rp = client_listening(&app, &uri).await;
    let other = app.user("bcl-refused@example.com").await;
    signed_in_client(&app, &rp, &other.email).await;
    let admin = app.admin().await;
    let ended = app
        .client
        .delete(app.url(&format!("/api/v1/users/{}/sessions", other.id)))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("end");
    assert_eq!(ended.status(), StatusCode::OK);
    for _ in 0..500 {
        app.state.mail.wake();
        if refusing.answers.lock().expect("answers").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed = loop {
        let failed = app
            .count_rows("mail_outbox WHERE failed_at IS NOT NULL")
            .await;
        if failed > 0 {
            break failed;
        }
        app.state.mail.wake();
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(failed, 1);
    assert!(refusing.tokens.lock().expect("tokens").is_empty());
}

async fn a_back_channel_uri_is_registered_by_the_rules_of_a_redirect_uri(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for bad in [
        "http://rp.example.com/logout",
        "https://rp.example.com/logout#frag",
        "https://*.example.com/logout",
        "not a uri",
    ] {
        let refused = clients::register(
            &app.state.db,
            NewClient {
                name: "RP".into(),
                redirect_uris: vec![crate::authorize::REDIRECT.into()],
                backchannel_logout_uri: Some(bad.into()),
                ..NewClient::default()
            },
            Actor {
                id: "test",
                ip: None,
            },
            app.state.clock.now(),
        )
        .await;
        assert!(
            matches!(refused, Err(clients::RegistryError::Invalid(ref fields)) if fields[0].field == "backchannel_logout_uri"),
            "{bad}"
        );
    }
}

backend_tests!(
    signing_out_here_tells_the_client_with_a_logout_token_it_can_verify,
    a_client_that_is_down_is_told_later_and_one_that_refuses_is_given_up,
    a_back_channel_uri_is_registered_by_the_rules_of_a_redirect_uri,
);
