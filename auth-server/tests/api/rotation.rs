//! Signing-key rotation in the shared key store: no failed request, several replicas.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jwt_verify::{KeySource, Validation, Verifier, VerifyError};
use reqwest::StatusCode;
use sea_orm::EntityTrait;

use crate::helpers::{backend_tests, json_body, Backend, TestApp, PASSWORD};

fn kek() -> String {
    STANDARD.encode([42u8; 32])
}

fn kid_of(token: &str) -> String {
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    header["kid"].as_str().expect("kid").to_owned()
}

/// Fast clocks for a test: keys publish for 1 s, tokens live 1 s, retired keys stay 1 s.
fn fast_rotation(kek: &str) -> Vec<(&'static str, String)> {
    vec![
        ("KEY_ENCRYPTION_KEY", kek.to_owned()),
        ("JWKS_MAX_AGE", "1s".to_owned()),
        ("KEY_PUBLISH_DELAY", "1s".to_owned()),
        ("ACCESS_TOKEN_TTL", "1s".to_owned()),
        ("SERVICE_TOKEN_TTL", "1s".to_owned()),
        ("KEY_RETIRE_AFTER", "1s".to_owned()),
        ("KEY_REFRESH_INTERVAL", "1h".to_owned()),
    ]
}

fn vars<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn jwks_kids(app: &TestApp) -> Vec<String> {
    let jwks = json_body(app.get("/.well-known/jwks.json").await).await;
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect();
    kids.sort();
    kids
}

async fn a_rotation_publishes_then_signs_then_retires_then_removes_without_a_failed_request(
    backend: Backend,
) {
    let settings = fast_rotation(&kek());
    let app = TestApp::spawn_with(backend, &vars(&settings)).await;
    let manager = app
        .state
        .keys
        .manager()
        .cloned()
        .expect("database key store");
    let admin = app.admin().await;
    let before = app.token_for(&admin.email, PASSWORD).await;
    let old_kid = kid_of(&before);

    // A service elsewhere verifying through the JWKS, as blog-svc does.
    let remote = Verifier::builder(
        KeySource::jwks(app.url("/.well-known/jwks.json")),
        Validation::new(app.state.config.issuer.clone())
            .audience(app.state.config.account_audience.clone()),
    )
    .unknown_kid_cooldown(Duration::from_millis(10))
    .build()
    .await
    .expect("remote verifier");

    // A tick with nothing due leaves the loaded ring as it is (no decrypt, no re-parse).
    let loaded = arc_swap::Guard::into_inner(app.state.keys.ring());
    manager.tick().await.expect("tick");
    assert!(std::sync::Arc::ptr_eq(
        &loaded,
        &arc_swap::Guard::into_inner(app.state.keys.ring())
    ));

    let new_kid = manager.rotate().await.expect("rotate");
    assert_eq!(
        jwks_kids(&app).await.len(),
        2,
        "the next key is published before it signs"
    );
    assert_eq!(
        kid_of(&app.token_for(&admin.email, PASSWORD).await),
        old_kid,
        "not signing yet"
    );
    assert_eq!(app.me(&before).await.status(), StatusCode::OK);

    // The clock is passed in: "1.1 s later" is an argument, not a wait.
    let mut at = chrono::Utc::now() + chrono::Duration::milliseconds(1100);
    manager.tick_at(at).await.expect("tick");
    let after = app.token_for(&admin.email, PASSWORD).await;
    assert_eq!(
        kid_of(&after),
        new_kid,
        "the new key signs after the publish delay"
    );
    // Both generations verify, here and at the remote service (kid-miss refetch picks up the new key).
    assert_eq!(
        app.me(&before).await.status(),
        StatusCode::OK,
        "retired keys still verify"
    );
    assert_eq!(app.me(&after).await.status(), StatusCode::OK);
    remote
        .verify(&after)
        .await
        .expect("remote picks up the new key");
    remote
        .verify(&before)
        .await
        .expect("remote still holds the retired key");

    at += chrono::Duration::milliseconds(1100);
    manager.tick_at(at).await.expect("tick");
    assert_eq!(
        jwks_kids(&app).await,
        vec![new_kid.clone()],
        "the retired key is removed after KEY_RETIRE_AFTER"
    );
    let response = app.me(&before).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .contains("invalid_token"));
    remote.refresh().await.expect("refresh");
    assert_eq!(
        remote.verify(&before).await.expect_err("removed"),
        VerifyError::UnknownKid
    );
    assert_eq!(app.me(&after).await.status(), StatusCode::OK);

    let admin = crate::helpers::TestUser {
        token: app.token_for(&admin.email, PASSWORD).await,
        ..admin
    };
    for event in ["key.rotated", "key.activated"] {
        assert_eq!(app.audit(&admin, event).await.len(), 1, "{event}");
    }
}

async fn replicas_on_one_database_share_keys_and_follow_a_rotation(backend: Backend) {
    let mut settings = fast_rotation(&kek());
    // Replicas behind one load balancer are one issuer.
    settings.push(("JWT_ISSUER", "http://signet.test".to_owned()));
    let first = TestApp::spawn_with(backend, &vars(&settings)).await;
    let second = TestApp::spawn_on(&first.database_url, &vars(&settings)).await;
    assert_eq!(jwks_kids(&first).await, jwks_kids(&second).await);

    let user = first.user("replicated@example.com").await;
    // Signed up on one, logged in on the other, verified on the first.
    let token = second.token_for(&user.email, PASSWORD).await;
    assert_eq!(first.me(&token).await.status(), StatusCode::OK);

    let new_kid = first
        .state
        .keys
        .manager()
        .expect("store")
        .rotate()
        .await
        .expect("rotate");
    second
        .state
        .keys
        .manager()
        .expect("store")
        .tick()
        .await
        .expect("tick");
    assert_eq!(
        jwks_kids(&first).await,
        jwks_kids(&second).await,
        "the next key is published by both"
    );
    // Both replicas run the transition; exactly one performs it, both see it.
    let (first_manager, second_manager) = (
        first.state.keys.manager().cloned().expect("store"),
        second.state.keys.manager().cloned().expect("store"),
    );
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(1100);
    let (a, b) = tokio::join!(first_manager.tick_at(at), second_manager.tick_at(at));
    a.expect("tick");
    b.expect("tick");
    assert_eq!(
        kid_of(&first.token_for(&user.email, PASSWORD).await),
        new_kid
    );
    assert_eq!(
        kid_of(&second.token_for(&user.email, PASSWORD).await),
        new_kid
    );
    let active = auth_server::keys::entity::Entity::find()
        .all(&first.state.db)
        .await
        .expect("keys")
        .into_iter()
        .filter(|k| k.state == "active")
        .count();
    assert_eq!(active, 1);
}

async fn stored_keys_are_sealed_and_a_wrong_kek_stops_start(backend: Backend) {
    let settings = fast_rotation(&kek());
    let app = TestApp::spawn_with(backend, &vars(&settings)).await;
    let rows = auth_server::keys::entity::Entity::find()
        .all(&app.state.db)
        .await
        .expect("keys");
    assert_eq!(rows.len(), 1);
    // Neither PEM nor bare base64 DER (which always begins `MII`); a sealed
    // value is random-looking base64, which may contain `MII` anywhere else.
    assert!(
        !rows[0].private_key.contains("PRIVATE KEY") && !rows[0].private_key.starts_with("MII")
    );

    let mut wrong = fast_rotation(&STANDARD.encode([1u8; 32]));
    wrong.push(("BIND_ADDR", "127.0.0.1:0".to_owned()));
    wrong.push(("METRICS_ADDR", "127.0.0.1:0".to_owned()));
    let dir = tempfile::tempdir().expect("dir");
    let lookup: std::collections::HashMap<&str, String> = wrong
        .into_iter()
        .chain([
            ("DATABASE_URL", app.database_url.clone()),
            ("KEYS_DIR", dir.path().display().to_string()),
        ])
        .collect();
    let config =
        auth_server::config::Config::from_lookup(|n| lookup.get(n).cloned()).expect("config");
    let error = auth_server::Application::build(config)
        .await
        .err()
        .expect("wrong KEK must not start");
    assert!(
        format!("{error:#}").contains("KEY_ENCRYPTION_KEY"),
        "{error:#}"
    );
}

async fn a_rotation_interval_publishes_a_new_key_on_schedule(backend: Backend) {
    let mut settings = fast_rotation(&kek());
    settings.push(("KEY_ROTATION_INTERVAL", "1s".to_owned()));
    let app = TestApp::spawn_with(backend, &vars(&settings)).await;
    let manager = app
        .state
        .keys
        .manager()
        .cloned()
        .expect("database key store");
    assert_eq!(jwks_kids(&app).await.len(), 1);
    manager.tick().await.expect("tick");
    assert_eq!(jwks_kids(&app).await.len(), 1, "not due yet");
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(1100);
    manager.tick_at(at).await.expect("tick");
    assert_eq!(
        jwks_kids(&app).await.len(),
        2,
        "a next key is published once the interval has passed"
    );
    manager.tick().await.expect("tick");
    assert_eq!(
        jwks_kids(&app).await.len(),
        2,
        "one rotation per interval, not one per tick"
    );
}

backend_tests!(
    a_rotation_interval_publishes_a_new_key_on_schedule,
    a_rotation_publishes_then_signs_then_retires_then_removes_without_a_failed_request,
    replicas_on_one_database_share_keys_and_follow_a_rotation,
    stored_keys_are_sealed_and_a_wrong_kek_stops_start,
);
