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
    /// Requests received, whatever was answered; `arrived` rings at each.
    requests: Arc<std::sync::atomic::AtomicUsize>,
    arrived: Arc<tokio::sync::Notify>,
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
                        state
                            .requests
                            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        state.arrived.notify_one();
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

    /// Once `count` requests have come: the sender (a task of the server)
    /// is woken and this waits for the next request, not for a time.
    async fn requests(&self, app: &TestApp, count: usize) {
        while self.requests.load(std::sync::atomic::Ordering::SeqCst) < count {
            app.state.mail.wake();
            tokio::time::timeout(Duration::from_secs(10), self.arrived.notified())
                .await
                .unwrap_or_else(|_| panic!("request {count} never came"));
        }
    }

    /// The tokens taken (answered 200) once `count` requests have come.
    async fn received(&self, app: &TestApp, count: usize) -> Vec<String> {
        self.requests(app, count).await;
        self.tokens.lock().expect("tokens").clone()
    }
}

async fn client_listening(app: &TestApp, uri: &str) -> Rp {
    crate::authorize::register_rp(
        app,
        NewClient {
            name: "Listening RP".into(),
            redirect_uris: vec![crate::authorize::REDIRECT.into()],
            first_party: true,
            backchannel_logout_uri: Some(uri.to_owned()),
            ..NewClient::default()
        },
    )
    .await
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
    // Delivered once: the outbox row goes once the client's answer is in
    // (the sender deletes it after the request returns, so wait for that).
    let mut left = app.count_rows("mail_outbox").await;
    for _ in 0..500 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        left = app.count_rows("mail_outbox").await;
    }
    assert_eq!(left, 0, "a delivered logout token stays in the queue");
    assert_eq!(
        receiver.requests.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "delivered once"
    );
}

async fn a_client_that_is_down_is_told_later_and_one_that_refuses_is_given_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Before the clock moves: its token is checked against the real one.
    let admin = app.admin().await;
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
    // The first attempt meets a 503: the row stays, its one attempt
    // counted, due again only later (the lease or the back-off: the server's
    // clock, which only this test moves).
    receiver.requests(&app, 1).await;
    assert!(receiver.tokens.lock().expect("tokens").is_empty());
    assert_eq!(
        app.count_rows("mail_outbox WHERE attempts = 1 AND failed_at IS NULL")
            .await,
        1,
        "kept for the retry"
    );
    // Past the lease (2 min) and the back-off (30 s): tried again, taken.
    app.state.clock.advance(Duration::from_secs(121));
    let received = receiver.received(&app, 2).await;
    assert_eq!(claims_of(&received[0])["sid"], sid.as_str());

    // A client that answers 400 refuses this token for good: given up.
    let (refusing, uri) = Receiver::start(&[400]).await;
    let rp = client_listening(&app, &uri).await;
    let other = app.user("bcl-refused@example.com").await;
    signed_in_client(&app, &rp, &other.email).await;
    let ended = app
        .client
        .delete(app.url(&format!("/api/v1/users/{}/sessions", other.id)))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("end");
    assert_eq!(ended.status(), StatusCode::OK);
    refusing.requests(&app, 1).await;
    // The sender records the refusal once the answer is in: wait for that
    // write (bounded), then it is the only one.
    let mut failed = 0;
    for _ in 0..500 {
        failed = app
            .count_rows("mail_outbox WHERE failed_at IS NOT NULL")
            .await;
        if failed > 0 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(failed, 1, "given up after the 400");
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
