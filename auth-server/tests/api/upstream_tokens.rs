//! The ID-token checks of an upstream sign-in, against a provider made for
//! the attack: it serves a real discovery document and JWKS, and its token
//! endpoint answers with whatever ID token the test crafts (an unpublished
//! key, another nonce, another `azp`, another audience, expired).

use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, Header};
use reqwest::header::LOCATION;
use reqwest::StatusCode;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

use crate::helpers::{
    backend_tests, foreign_key_pem, set_cookie, sign_with, test_key_pem, value_of, Backend, TestApp,
};

const CLIENT_ID: &str = "signet-at-the-provider";

#[derive(Clone)]
struct Provider {
    issuer: String,
    /// The ID token the token endpoint answers with next.
    next: Arc<Mutex<Option<String>>>,
}

fn jwk_of(pem: &str, kid: &str) -> Value {
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("key");
    json!({
        "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    })
}

async fn provider() -> Provider {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("addr"));
    let provider = Provider {
        issuer: issuer.clone(),
        next: Arc::default(),
    };
    let discovery = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    });
    // Only the "published" key is in the JWKS; the foreign one is not.
    let jwks = json!({ "keys": [jwk_of(test_key_pem(), "published")] });
    let next = provider.next.clone();
    let app = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || {
                let discovery = discovery.clone();
                async move { Json(discovery) }
            }),
        )
        .route(
            "/jwks",
            get(move || {
                let jwks = jwks.clone();
                async move { Json(jwks) }
            }),
        )
        .route(
            "/token",
            post(move || {
                let next = next.clone();
                async move {
                    let id_token = next.lock().expect("lock").take();
                    Json(json!({ "access_token": "upstream-at", "token_type": "Bearer", "id_token": id_token }))
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    provider
}

fn claims(provider: &Provider, nonce: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": provider.issuer, "aud": CLIENT_ID, "sub": "person-1",
        "exp": now + 300, "iat": now, "nonce": nonce,
        "email": "person@corp.example", "email_verified": true,
    })
}

fn signed(pem: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    sign_with(pem, header, claims)
}

/// Start a sign-in at `app` and come back with the ID token the provider
/// is told to give: the callback's answer.
async fn sign_in_with(
    app: &TestApp,
    provider: &Provider,
    craft: impl Fn(&str) -> String,
) -> reqwest::Response {
    let (rp, _) = rp(app).await;
    let mut start = url::Url::parse(&app.url("/oauth/upstream/corp/start")).expect("url");
    start
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &rp)
        .append_pair("redirect_uri", "http://127.0.0.1:8081/auth/callback")
        .append_pair("scope", "openid")
        .append_pair(
            "code_challenge",
            &auth_server::oauth::codes::s256(&"v".repeat(43)),
        )
        .append_pair("code_challenge_method", "S256");
    let started = app.client.get(start).send().await.expect("start");
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let cookie = value_of(&set_cookie(started.headers(), "signet_upstream").expect("cookie"));
    let at = url::Url::parse(started.headers()[LOCATION].to_str().expect("loc")).expect("url");
    let query: std::collections::HashMap<String, String> = at.query_pairs().into_owned().collect();
    *provider.next.lock().expect("lock") = Some(craft(&query["nonce"]));
    let mut callback = url::Url::parse(&app.url("/oauth/upstream/corp/callback")).expect("url");
    callback
        .query_pairs_mut()
        .append_pair("code", "any")
        .append_pair("state", &query["state"]);
    app.client
        .get(callback)
        .header("cookie", cookie)
        .send()
        .await
        .expect("callback")
}

async fn rp(app: &TestApp) -> (String, Option<String>) {
    let registered = auth_server::clients::register(
        &app.state.db,
        auth_server::clients::NewClient {
            name: "RP".into(),
            redirect_uris: vec!["http://127.0.0.1:8081/auth/callback".into()],
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
    (registered.client.client_id, registered.secret)
}

async fn every_crafted_id_token_is_refused_and_no_code_issued(backend: Backend) {
    let provider = provider().await;
    let app = TestApp::spawn_with(
        backend,
        &[
            ("UPSTREAM_PROVIDERS", "corp"),
            ("UPSTREAM_CORP_ISSUER", provider.issuer.as_str()),
            ("UPSTREAM_CORP_CLIENT_ID", CLIENT_ID),
            ("UPSTREAM_CORP_CLIENT_SECRET", "provider-secret"),
        ],
    )
    .await;
    let discovered = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        app.state.upstreams.get("corp").expect("corp").settled(),
    )
    .await
    .expect("discovery never finished");
    assert!(matches!(
        *discovered,
        auth_server::upstream::Discovery::Ready(_)
    ));
    type Mutation = fn(&mut Value);
    let attacks: [(&str, &str, &str, Mutation); 8] = [
        (
            "signed by a key the provider does not publish",
            foreign_key_pem(),
            "published",
            |_| {},
        ),
        (
            "an unpublished kid",
            foreign_key_pem(),
            "unpublished",
            |_| {},
        ),
        ("another nonce", test_key_pem(), "published", |c| {
            c["nonce"] = json!("not-the-nonce");
        }),
        ("no nonce", test_key_pem(), "published", |c| {
            c.as_object_mut().expect("object").remove("nonce");
        }),
        ("another azp", test_key_pem(), "published", |c| {
            c["azp"] = json!("someone-else");
        }),
        ("another audience", test_key_pem(), "published", |c| {
            c["aud"] = json!("another-client");
        }),
        ("another issuer", test_key_pem(), "published", |c| {
            c["iss"] = json!("https://evil.example");
        }),
        ("expired", test_key_pem(), "published", |c| {
            c["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
        }),
    ];
    for (attack, pem, kid, mutate) in attacks {
        let answer = sign_in_with(&app, &provider, |nonce| {
            let mut c = claims(&provider, nonce);
            mutate(&mut c);
            signed(pem, kid, &c)
        })
        .await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{attack}");
        assert!(
            answer.headers().get(LOCATION).is_none(),
            "{attack}: no code"
        );
        assert!(
            set_cookie(answer.headers(), "signet_session").is_none(),
            "{attack}"
        );
    }
    assert_eq!(app.count_rows("users").await, 0);

    // The same provider, honest: the person signs in.
    let p = provider.clone();
    let answer = sign_in_with(&app, &provider, move |nonce| {
        signed(test_key_pem(), "published", &claims(&p, nonce))
    })
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert!(answer.headers()[LOCATION]
        .to_str()
        .expect("loc")
        .contains("code="));
    assert_eq!(app.count_rows("users").await, 1);
}

async fn the_sign_in_page_shows_a_provider_that_is_down_as_unavailable(backend: Backend) {
    let down = format!("http://127.0.0.1:{}", signet_service::testing::free_port());
    let app = TestApp::spawn_with(
        backend,
        &[
            ("UPSTREAM_PROVIDERS", "gone"),
            ("UPSTREAM_GONE_ISSUER", down.as_str()),
            ("UPSTREAM_GONE_CLIENT_ID", "x"),
            ("UPSTREAM_GONE_CLIENT_SECRET", "y"),
            ("UPSTREAM_GONE_DISPLAY_NAME", "Gone Inc."),
        ],
    )
    .await;
    let (rp, _) = rp(&app).await;
    let mut authorize = url::Url::parse(&app.url("/oauth/authorize")).expect("url");
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &rp)
        .append_pair("redirect_uri", "http://127.0.0.1:8081/auth/callback")
        .append_pair("scope", "openid")
        .append_pair(
            "code_challenge",
            &auth_server::oauth::codes::s256(&"v".repeat(43)),
        )
        .append_pair("code_challenge_method", "S256");
    let html = app
        .client
        .get(authorize)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Sign in with Gone Inc. (unavailable just now)"),
        "{html}"
    );
    assert!(
        !html.contains("/oauth/upstream/gone/start"),
        "no button to a provider that is down"
    );
    assert!(
        html.contains("name=\"password\""),
        "password sign-in goes on"
    );
}

backend_tests!(
    every_crafted_id_token_is_refused_and_no_code_issued,
    the_sign_in_page_shows_a_provider_that_is_down_as_unavailable,
);
