//! Token exchange (RFC 8693): a service acting for a user gets a narrower
//! token for another service, with `act` naming it, revoked with the user's
//! session; every request it may not make is crafted and refused.

use jsonwebtoken::Header;
use jwt_verify::{KeySource, Validation, Verifier};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    backend_tests, claims_of, client_id_of, error_of, json_body, sign_with, Backend, TestApp,
    PASSWORD,
};

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Services `signet` (the blog) and `scraper`.
async fn app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, &[("JWT_AUDIENCE", "signet,scraper")]).await
}

/// An API key for the blog that may act for users at the scraper.
async fn blog_key(app: &TestApp, exchange_scopes: &[&str]) -> String {
    let admin = app.admin_named("keys@example.com").await;
    let response = app
        .create_api_key(
            &admin.token,
            &json!({
                "name": "blog", "scopes": ["posts:write"],
                "exchange_audiences": ["scraper"], "exchange_scopes": exchange_scopes,
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_body(response).await;
    assert_eq!(body["exchange_audiences"], json!(["scraper"]));
    body["api_key"].as_str().expect("key").to_owned()
}

async fn exchange(app: &TestApp, key: &str, form: &[(&str, &str)]) -> reqwest::Response {
    let mut all = vec![("grant_type", GRANT)];
    all.extend_from_slice(form);
    app.oauth_token(&all, Some((&client_id_of(key), key))).await
}

async fn exchange_for(app: &TestApp, key: &str, subject: &str) -> reqwest::Response {
    exchange(
        app,
        key,
        &[
            ("subject_token", subject),
            ("subject_token_type", ACCESS_TOKEN),
            ("audience", "scraper"),
        ],
    )
    .await
}

async fn a_service_gets_a_narrower_token_for_another_service_that_names_it_as_actor(
    backend: Backend,
) {
    let app = app(backend).await;
    let key = blog_key(&app, &["profile", "email", "posts:admin"]).await;
    let user = app.user("reader@example.com").await;
    let subject = app.service_audience_token("reader@example.com").await;
    let response = exchange_for(&app, &key, &subject).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json_body(response).await;
    assert_eq!(body["issued_token_type"], ACCESS_TOKEN);
    assert_eq!(body["token_type"], "Bearer");
    // Scopes in both the user's token and the key's allowance.
    assert_eq!(body["scope"], "profile email");
    let token = body["access_token"].as_str().expect("token");

    // The scraper's view: verified from the JWKS, for its own audience.
    let verifier = Verifier::new(
        KeySource::jwks(app.url("/.well-known/jwks.json")),
        Validation::new(app.state.config.issuer.clone())
            .audience("scraper")
            .require_type("at+jwt"),
    )
    .await
    .expect("jwks");
    let verified = verifier
        .verify(token)
        .await
        .expect("a token for the scraper");
    let claims = verified.claims();
    assert_eq!(claims.sub.as_deref(), Some(user.id.as_str()));
    assert_eq!(claims.actor(), Some(client_id_of(&key).as_str()));
    assert_eq!(
        claims.client_id.as_deref(),
        Some(client_id_of(&key).as_str())
    );
    assert!(!claims.is_service(), "it acts for a user");
    let subject_claims = claims_of(&subject);
    assert_eq!(claims.sid.as_deref(), subject_claims["sid"].as_str());
    assert!(claims.exp <= subject_claims["exp"].as_i64().expect("exp"));
    assert_eq!(claims.email.as_deref(), Some("reader@example.com"));

    // Narrower on request; the chain is kept when the result is exchanged again.
    let narrower = json_body(
        exchange(
            &app,
            &key,
            &[
                ("subject_token", &subject),
                ("subject_token_type", ACCESS_TOKEN),
                ("resource", "scraper"),
                ("scope", "email"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(narrower["scope"], "email");
    let again = json_body(exchange_for(&app, &key, token).await).await;
    let chained = claims_of(again["access_token"].as_str().expect("token"));
    assert_eq!(chained["act"]["sub"], client_id_of(&key).as_str());
    assert_eq!(chained["act"]["act"]["sub"], client_id_of(&key).as_str());
}

/// Form fields of a token request.
type Form = Vec<(String, String)>;

/// One crafted request per row, and the RFC 6749/8693 error it earns.
async fn every_exchange_the_key_may_not_make_is_refused(backend: Backend) {
    let app = app(backend).await;
    let key = blog_key(&app, &["profile", "posts:admin"]).await;
    let admin = app.admin_named("other@example.com").await;
    let (_, plain_key) = app.api_key(&admin, "no-exchange", &["posts:write"]).await;
    app.user("victim@example.com").await;
    let subject = app.service_audience_token("victim@example.com").await;
    let account_token = app.token_for("victim@example.com", PASSWORD).await;
    let service_token = app.service_token(&plain_key).await;
    let victim_id = claims_of(&subject)["sub"].as_str().expect("sub").to_owned();
    let expired = {
        let mut claims = app.valid_claims(&victim_id);
        claims["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
        claims["iat"] = json!(chrono::Utc::now().timestamp() - 4000);
        claims["nbf"] = claims["iat"].clone();
        claims["sid"] = claims_of(&subject)["sid"].clone();
        app.sign(app.at_jwt_header(), &claims)
    };
    let forged = {
        let mut claims = app.valid_claims(&victim_id);
        claims["sid"] = claims_of(&subject)["sid"].clone();
        let mut header = Header::new(jsonwebtoken::Algorithm::RS256);
        header.typ = Some("at+jwt".into());
        header.kid = Some(app.state.keys.ring().active().kid.clone());
        sign_with(crate::helpers::foreign_key_pem(), header, &claims)
    };
    let with = |subject: &str, audience: &str, scope: Option<&str>| {
        let mut form = vec![
            ("subject_token".to_owned(), subject.to_owned()),
            ("subject_token_type".to_owned(), ACCESS_TOKEN.to_owned()),
            ("audience".to_owned(), audience.to_owned()),
        ];
        if let Some(scope) = scope {
            form.push(("scope".to_owned(), scope.to_owned()));
        }
        form
    };
    // Every refusal here is a 400; only the error code differs.
    let cases: Vec<(&str, &str, Form, &str)> = vec![
        (
            "a key without exchange rights",
            &plain_key,
            with(&subject, "scraper", None),
            "unauthorized_client",
        ),
        (
            "an audience the key may not ask for",
            &key,
            with(&subject, "signet", None),
            "invalid_target",
        ),
        (
            "an audience the server does not issue",
            &key,
            with(&subject, "payments", None),
            "invalid_target",
        ),
        (
            "a scope outside the key's allowance",
            &key,
            with(&subject, "scraper", Some("email")),
            "invalid_scope",
        ),
        (
            "a scope the user's token does not hold",
            &key,
            with(&subject, "scraper", Some("posts:admin")),
            "invalid_scope",
        ),
        (
            "an expired subject token",
            &key,
            with(&expired, "scraper", None),
            "invalid_grant",
        ),
        (
            "a forged subject token",
            &key,
            with(&forged, "scraper", None),
            "invalid_grant",
        ),
        (
            "a service token as subject",
            &key,
            with(&service_token, "scraper", None),
            "invalid_grant",
        ),
        (
            "an account-API token as subject",
            &key,
            with(&account_token, "scraper", None),
            "invalid_grant",
        ),
        (
            "not a token",
            &key,
            with("garbage", "scraper", None),
            "invalid_grant",
        ),
        (
            "no subject token",
            &key,
            vec![("subject_token_type".into(), ACCESS_TOKEN.into())],
            "invalid_request",
        ),
        (
            "an ID token type",
            &key,
            vec![
                ("subject_token".into(), subject.clone()),
                (
                    "subject_token_type".into(),
                    "urn:ietf:params:oauth:token-type:id_token".into(),
                ),
            ],
            "invalid_request",
        ),
        (
            "an actor token",
            &key,
            [
                with(&subject, "scraper", None),
                vec![("actor_token".into(), service_token.clone())],
            ]
            .concat(),
            "invalid_request",
        ),
        (
            "a refresh token requested",
            &key,
            [
                with(&subject, "scraper", None),
                vec![(
                    "requested_token_type".into(),
                    "urn:ietf:params:oauth:token-type:refresh_token".into(),
                )],
            ]
            .concat(),
            "invalid_request",
        ),
    ];
    for (name, key, form, error) in cases {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            error_of(exchange(&app, key, &form).await).await,
            (StatusCode::BAD_REQUEST, error.to_owned()),
            "{name}"
        );
    }
    // A stranger's credentials: invalid_client before anything is looked at.
    let response = app
        .oauth_token(
            &[
                ("grant_type", GRANT),
                ("subject_token", &subject),
                ("subject_token_type", ACCESS_TOKEN),
            ],
            Some(("sgn_nobody", "sgn_nobody_secret")),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn an_exchanged_token_ends_with_the_users_session(backend: Backend) {
    let app = app(backend).await;
    let key = blog_key(&app, &["profile"]).await;
    app.user("leaver@example.com").await;
    let login = json_body(app.login_for("leaver@example.com", PASSWORD, None).await).await;
    let subject = login["access_token"].as_str().expect("token").to_owned();
    let exchanged = json_body(exchange_for(&app, &key, &subject).await).await;
    let token = exchanged["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let admin = app.admin_named("gate@example.com").await;
    let (_, introspector) = app.api_key(&admin, "gateway", &["introspect"]).await;
    let introspect = |token: String| {
        let (app, introspector) = (&app, introspector.clone());
        async move {
            let response = app
                .client
                .post(app.url("/oauth/introspect"))
                .basic_auth(client_id_of(&introspector), Some(&introspector))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .expect("request");
            json_body(response).await
        }
    };
    let live: Value = introspect(token.clone()).await;
    assert_eq!(live["active"], true);
    // The user signs out (RFC 7009 on the refresh token): the session ends,
    // and the exchanged token with it; it cannot be exchanged again either.
    let response = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[("token", login["refresh_token"].as_str().expect("refresh"))])
        .send()
        .await
        .expect("revoke");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(introspect(token.clone()).await["active"], false);
    assert_eq!(
        error_of(exchange_for(&app, &key, &subject).await).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
}

backend_tests!(
    a_service_gets_a_narrower_token_for_another_service_that_names_it_as_actor,
    every_exchange_the_key_may_not_make_is_refused,
    an_exchanged_token_ends_with_the_users_session,
);
