//! DPoP (RFC 9449) at the token endpoint: bound service tokens, bound
//! code-flow tokens and a public client's bound refresh token, per-client
//! policy, and every crafted proof refused with `invalid_dpop_proof`. Proof
//! replay is refused across two servers on one database.

use jwt_verify::dpop::ProofClaimsOut;
use jwt_verify::DpopKey;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::code_grant::{client, code_for, REDIRECT, VERIFIER};
use crate::helpers::{
    backend_tests, claims_of, client_id_of, error_of, json_body, Backend, TestApp,
};

fn token_url(app: &TestApp) -> String {
    format!("{}/oauth/token", app.state.config.issuer)
}

/// `POST /oauth/token` with `proofs` as `DPoP` headers.
async fn token_request(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
    proofs: &[String],
) -> reqwest::Response {
    let mut request = app.client.post(app.url("/oauth/token")).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    for proof in proofs {
        request = request.header("dpop", proof);
    }
    request.send().await.expect("request")
}

async fn client_credentials(app: &TestApp, key: &str, proofs: &[String]) -> reqwest::Response {
    token_request(
        app,
        &[("grant_type", "client_credentials")],
        Some((&client_id_of(key), key)),
        proofs,
    )
    .await
}

fn proof_for(app: &TestApp, key: &DpopKey) -> String {
    key.proof("POST", &token_url(app), None, None)
        .expect("proof")
}

fn crafted(key: &DpopKey, htm: &str, htu: &str, iat: i64, jti: &str) -> String {
    key.proof_with(&ProofClaimsOut {
        jti,
        htm,
        htu,
        iat,
        ath: None,
        nonce: None,
    })
    .expect("proof")
}

async fn a_proof_at_the_token_endpoint_binds_the_service_token_to_its_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, key) = app.api_key(&admin, "scraper", &["posts:write"]).await;
    let dpop_key = DpopKey::generate().expect("key");
    let response = client_credentials(&app, &key, &[proof_for(&app, &dpop_key)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().expect("token");
    assert_eq!(claims_of(token)["cnf"]["jkt"], dpop_key.thumbprint());

    // Introspection reports the binding (RFC 9449 §6.2).
    let (_, introspector) = app.api_key(&admin, "gateway", &["introspect"]).await;
    let response = app
        .client
        .post(app.url("/oauth/introspect"))
        .basic_auth(client_id_of(&introspector), Some(&introspector))
        .form(&[("token", token)])
        .send()
        .await
        .expect("request");
    let body = json_body(response).await;
    assert_eq!(body["active"], true);
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(body["cnf"]["jkt"], dpop_key.thumbprint());

    // Without a proof the same key still gets a bearer token (policy allowed).
    let body = json_body(client_credentials(&app, &key, &[]).await).await;
    assert_eq!(body["token_type"], "Bearer");
    assert!(claims_of(body["access_token"].as_str().expect("token"))["cnf"].is_null());

    let discovery = json_body(app.get("/.well-known/openid-configuration").await).await;
    assert_eq!(
        discovery["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "PS256", "RS256"])
    );
}

async fn every_crafted_proof_is_refused_with_invalid_dpop_proof(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, key) = app.api_key(&admin, "scraper", &["posts:write"]).await;
    let dpop_key = DpopKey::generate().expect("key");
    let url = token_url(&app);
    let now = app.state.clock.now().timestamp();
    let used = proof_for(&app, &dpop_key);
    assert_eq!(
        client_credentials(&app, &key, std::slice::from_ref(&used))
            .await
            .status(),
        StatusCode::OK
    );
    let cases = [
        ("replayed proof", vec![used]),
        (
            "another method",
            vec![crafted(&dpop_key, "GET", &url, now, "m")],
        ),
        (
            "another URL",
            vec![crafted(
                &dpop_key,
                "POST",
                &app.url("/oauth/revoke"),
                now,
                "u",
            )],
        ),
        (
            "two minutes old",
            vec![crafted(&dpop_key, "POST", &url, now - 120, "old")],
        ),
        (
            "two proofs",
            vec![proof_for(&app, &dpop_key), proof_for(&app, &dpop_key)],
        ),
        ("not a JWT", vec!["proof".to_owned()]),
    ];
    for (name, proofs) in cases {
        let (status, error) = error_of(client_credentials(&app, &key, &proofs).await).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_dpop_proof"),
            "{name}"
        );
    }
    // Authentication comes first: a stranger's proof is never recorded.
    let stranger = token_request(
        &app,
        &[("grant_type", "client_credentials")],
        Some(("sgn_nobody", "sgn_nobody_secret")),
        &[proof_for(&app, &dpop_key)],
    )
    .await;
    assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED);
}

async fn a_proof_used_at_one_replica_is_refused_at_another(backend: Backend) {
    let first = TestApp::spawn(backend).await;
    let admin = first.admin().await;
    let (_, key) = first.api_key(&admin, "scraper", &["posts:write"]).await;
    let dpop_key = DpopKey::generate().expect("key");
    // Replicas share an issuer: the proof names its token endpoint.
    let proof = crafted(
        &dpop_key,
        "POST",
        &token_url(&first),
        first.state.clock.now().timestamp(),
        "once",
    );
    assert_eq!(
        client_credentials(&first, &key, std::slice::from_ref(&proof))
            .await
            .status(),
        StatusCode::OK
    );
    let second = TestApp::spawn_on(
        &first.database_url,
        &[("JWT_ISSUER", first.state.config.issuer.as_str())],
    )
    .await;
    let (status, error) = error_of(client_credentials(&second, &key, &[proof]).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_dpop_proof")
    );
}

async fn a_key_that_requires_dpop_gets_no_token_without_a_proof(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let response = app
        .create_api_key(
            &admin.token,
            &json!({ "name": "strict", "scopes": ["posts:write"], "dpop": "required" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created = json_body(response).await;
    assert_eq!(created["dpop"], "required");
    let key = created["api_key"].as_str().expect("key");
    let (status, error) = error_of(client_credentials(&app, key, &[]).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_dpop_proof")
    );
    let dpop_key = DpopKey::generate().expect("key");
    let response = client_credentials(&app, key, &[proof_for(&app, &dpop_key)]).await;
    assert_eq!(json_body(response).await["token_type"], "DPoP");

    let response = app
        .create_api_key(
            &admin.token,
            &json!({ "name": "odd", "scopes": [], "dpop": "sometimes" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_public_clients_refresh_token_is_bound_to_the_key_of_the_code_exchange(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let public = client(&app, true).await;
    let (code, _) = code_for(&app, &public, "spa@example.com", "openid profile").await;
    let holder = DpopKey::generate().expect("key");
    let thief = DpopKey::generate().expect("key");
    let response = token_request(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
            ("client_id", &public.id),
        ],
        None,
        &[proof_for(&app, &holder)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    assert_eq!(body["token_type"], "DPoP");
    let access = body["access_token"].as_str().expect("access").to_owned();
    assert_eq!(claims_of(&access)["cnf"]["jkt"], holder.thumbprint());
    let refresh = body["refresh_token"].as_str().expect("refresh").to_owned();
    let refresh_with = |proofs: Vec<String>| {
        let (app, id, refresh) = (&app, public.id.clone(), refresh.clone());
        async move {
            token_request(
                app,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh),
                    ("client_id", &id),
                ],
                None,
                &proofs,
            )
            .await
        }
    };
    // A stolen refresh token is useless without the key, and trying does
    // not spend it.
    for (name, proofs) in [
        ("no proof", vec![]),
        ("the thief's key", vec![proof_for(&app, &thief)]),
    ] {
        let (status, error) = error_of(refresh_with(proofs).await).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_dpop_proof"),
            "{name}"
        );
    }
    let response = refresh_with(vec![proof_for(&app, &holder)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = json_body(response).await;
    assert_eq!(body["token_type"], "DPoP");
    assert_eq!(
        claims_of(body["access_token"].as_str().expect("access"))["cnf"]["jkt"],
        holder.thumbprint()
    );

    // The bound access token opens userinfo with a proof, and not as Bearer.
    let userinfo = format!("{}/oauth/userinfo", app.state.config.issuer);
    let response = app
        .client
        .get(app.url("/oauth/userinfo"))
        .header("authorization", format!("DPoP {access}"))
        .header(
            "dpop",
            holder
                .proof("GET", &userinfo, Some(&access), None)
                .expect("proof"),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .client
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii");
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

/// Issue 23, finding 11: the refresh grant recorded a proof's `jti` before
/// it looked at the refresh token, so anyone could write rows into the
/// shared replay table with made-up tokens.
async fn a_proof_with_an_unknown_refresh_token_is_not_recorded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = DpopKey::generate().expect("key");
    for i in 0..5 {
        let response = token_request(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &format!("sgr_made_up_{i}")),
            ],
            None,
            &[proof_for(&app, &key)],
        )
        .await;
        let (status, error) = error_of(response).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_grant")
        );
    }
    assert_eq!(app.count_rows("dpop_proofs").await, 0);
}

backend_tests!(
    a_proof_with_an_unknown_refresh_token_is_not_recorded,
    a_proof_at_the_token_endpoint_binds_the_service_token_to_its_key,
    every_crafted_proof_is_refused_with_invalid_dpop_proof,
    a_proof_used_at_one_replica_is_refused_at_another,
    a_key_that_requires_dpop_gets_no_token_without_a_proof,
    a_public_clients_refresh_token_is_bound_to_the_key_of_the_code_exchange,
);
