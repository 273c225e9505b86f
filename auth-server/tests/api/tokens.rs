//! The access token format, and the server's own routes refusing bad tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, Header};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::backend_tests;
use crate::helpers::{
    decode_segment, foreign_key_pem, json_body, sign_with, Backend, TestApp, PASSWORD,
};

async fn access_tokens_follow_rfc_9068(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("format@example.com").await;
    let header = decode_segment(&user.token, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["kid"], app.state.keys.ring().active().kid.as_str());

    let claims = decode_segment(&user.token, 1);
    assert_eq!(claims["iss"], app.address.as_str());
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["aud"], "signet-account", "asked for the account API");
    assert_eq!(claims["email"], "format@example.com");
    assert_eq!(claims["client_id"], "signet");
    assert!(claims["scope"].as_str().expect("scope").contains("openid"));
    let (iat, exp, nbf) = (
        claims["iat"].as_i64().expect("iat"),
        claims["exp"].as_i64().expect("exp"),
        claims["nbf"].as_i64().expect("nbf"),
    );
    assert_eq!(exp - iat, 900, "default lifetime is 15 minutes");
    assert_eq!(nbf, iat);
    assert!(uuid::Uuid::parse_str(claims["jti"].as_str().expect("jti")).is_ok());
}

async fn every_token_gets_a_unique_jti(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("jti@example.com").await;
    let again = app.token_for(&user.email, crate::helpers::PASSWORD).await;
    assert_ne!(
        decode_segment(&user.token, 1)["jti"],
        decode_segment(&again, 1)["jti"]
    );
}

async fn lifetime_and_audiences_come_from_the_configuration(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("ACCESS_TOKEN_TTL", "5m"),
            ("JWT_AUDIENCE", "blog, scraper"),
        ],
    )
    .await;
    let user = app.user("conf@example.com").await;
    // One resource per token: the first JWT_AUDIENCE by default, another on request.
    let default = app.service_audience_token(&user.email).await;
    let claims = decode_segment(&default, 1);
    assert_eq!(claims["aud"], "blog");
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        300
    );
    let scraper = json_body(app.login_for(&user.email, PASSWORD, Some("scraper")).await).await;
    assert_eq!(
        decode_segment(scraper["access_token"].as_str().expect("token"), 1)["aud"],
        "scraper"
    );
    assert_eq!(app.me(&user.token).await.status(), StatusCode::OK);
}

/// Assert 401 invalid_token with an RFC 6750 challenge.
async fn assert_invalid_token(app: &TestApp, token: &str, why: &str) {
    let response = app.me(token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{why}");
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.starts_with("Bearer realm=\"signet\""),
        "{why}: {challenge}"
    );
    assert!(
        challenge.contains("error=\"invalid_token\""),
        "{why}: {challenge}"
    );
    assert_eq!(json_body(response).await["error"], "invalid_token", "{why}");
}

async fn own_routes_reject_every_kind_of_bad_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("victim@example.com").await;
    let now = chrono::Utc::now().timestamp();

    let mut expired = app.valid_claims(&user.id);
    expired["exp"] = json!(now - 3600);
    assert_invalid_token(&app, &app.sign(app.at_jwt_header(), &expired), "expired").await;

    let mut future = app.valid_claims(&user.id);
    future["nbf"] = json!(now + 3600);
    assert_invalid_token(
        &app,
        &app.sign(app.at_jwt_header(), &future),
        "not yet valid",
    )
    .await;

    let mut wrong_issuer = app.valid_claims(&user.id);
    wrong_issuer["iss"] = json!("https://evil.example.com");
    assert_invalid_token(
        &app,
        &app.sign(app.at_jwt_header(), &wrong_issuer),
        "wrong issuer",
    )
    .await;

    let mut wrong_audience = app.valid_claims(&user.id);
    wrong_audience["aud"] = json!("someone-else");
    assert_invalid_token(
        &app,
        &app.sign(app.at_jwt_header(), &wrong_audience),
        "wrong audience",
    )
    .await;

    let mut no_audience = app.valid_claims(&user.id);
    no_audience.as_object_mut().expect("object").remove("aud");
    assert_invalid_token(
        &app,
        &app.sign(app.at_jwt_header(), &no_audience),
        "no audience",
    )
    .await;

    let mut plain_jwt = app.at_jwt_header();
    plain_jwt.typ = Some("JWT".into());
    assert_invalid_token(
        &app,
        &app.sign(plain_jwt, &app.valid_claims(&user.id)),
        "typ JWT, not at+jwt",
    )
    .await;

    let foreign = sign_with(
        foreign_key_pem(),
        app.at_jwt_header(),
        &app.valid_claims(&user.id),
    );
    assert_invalid_token(&app, &foreign, "signed by another key with our kid").await;

    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &app.valid_claims(&user.id),
        &jsonwebtoken::EncodingKey::from_secret(b"guess"),
    )
    .expect("sign");
    assert_invalid_token(&app, &hs256, "HS256").await;

    let (head, _) = user.token.split_once('.').expect("segments");
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#),
        user.token.split('.').nth(1).expect("payload")
    );
    assert_invalid_token(&app, &unsigned, "alg none").await;

    let mut parts: Vec<String> = user.token.split('.').map(str::to_owned).collect();
    let mut claims = decode_segment(&user.token, 1);
    claims["roles"] = json!(["admin"]);
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_invalid_token(&app, &parts.join("."), "payload tampered to add admin").await;

    assert_invalid_token(&app, &format!("{head}.garbage"), "two segments").await;
    assert_invalid_token(&app, "not-a-jwt", "garbage").await;
}

async fn a_token_whose_account_was_deleted_stops_working(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("gone@example.com").await;
    assert_eq!(
        app.delete_me(&user.token).await.status(),
        StatusCode::NO_CONTENT
    );
    let response = app.me(&user.token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// jwt-verify's README, as written, against a server with default settings:
/// the default login token passes and the account-API token does not.
async fn the_jwt_verify_readme_setup_accepts_a_default_login_token(backend: Backend) {
    use jwt_verify::{KeySource, Validation, Verifier, VerifyError};
    let app = TestApp::spawn(backend).await;
    let user = app.user("readme@example.com").await;
    let verifier = Verifier::new(
        KeySource::jwks(app.url("/.well-known/jwks.json")),
        Validation::new(app.address.as_str())
            .audience("signet")
            .require_type("at+jwt"),
    )
    .await
    .expect("the JWKS loads");
    let token = app.service_audience_token(&user.email).await;
    let verified = verifier.verify(&token).await.expect("verifies");
    assert_eq!(verified.claims().sub.as_deref(), Some(user.id.as_str()));
    assert_eq!(
        verifier.verify(&user.token).await.err(),
        Some(VerifyError::WrongAudience),
        "a token for the account API opens no service"
    );
}

backend_tests!(
    the_jwt_verify_readme_setup_accepts_a_default_login_token,
    access_tokens_follow_rfc_9068,
    every_token_gets_a_unique_jti,
    lifetime_and_audiences_come_from_the_configuration,
    own_routes_reject_every_kind_of_bad_token,
    a_token_whose_account_was_deleted_stops_working,
);
