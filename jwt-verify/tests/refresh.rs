//! The JWKS cache rules, against a local JWKS server that counts requests.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{claims, key, validation, JwksServer};
use jwt_verify::{KeyError, KeySource, Verifier, VerifyError};

fn token_with_kid(kid: &str) -> String {
    let mut header = key(0).header();
    header.kid = Some(kid.to_owned());
    key(0).sign_with_header(header, &claims())
}

#[tokio::test]
async fn start_fails_clearly_when_the_first_fetch_fails() {
    let server = JwksServer::start(&[key(0)]).await;
    server.fail_with(StatusCode::INTERNAL_SERVER_ERROR);
    let error = Verifier::new(KeySource::jwks(&server.url), validation())
        .await
        .expect_err("must be rejected");
    assert!(
        matches!(&error, KeyError::Fetch { reason, .. } if reason.contains("500")),
        "{error}"
    );

    let error = Verifier::new(
        KeySource::jwks("http://127.0.0.1:9/jwks.json"),
        validation(),
    )
    .await
    .expect_err("must be rejected");
    assert!(matches!(error, KeyError::Fetch { .. }), "{error}");

    let error = Verifier::new(KeySource::jwks("ftp://127.0.0.1/jwks.json"), validation())
        .await
        .expect_err("must be rejected");
    assert!(matches!(error, KeyError::InvalidUrl { .. }), "{error}");
}

/// A lazy start tolerates an auth server that is away, not one that is
/// wrongly named: a 404, or a discovery document for another issuer, fails the
/// build at once with an error that says it is the configuration.
#[tokio::test]
async fn a_lazy_verifier_still_refuses_a_wrong_url_or_issuer() {
    let server = JwksServer::start(&[key(0)]).await;
    server.fail_with(StatusCode::NOT_FOUND);
    let error = Verifier::builder(KeySource::jwks(&server.url), validation())
        .lazy(true)
        .build()
        .await
        .expect_err("a 404 is not an outage");
    assert!(
        matches!(error, KeyError::Refused { status: 404, .. }),
        "{error}"
    );
    assert!(error.is_misconfiguration());

    let server = JwksServer::start(&[key(0)]).await;
    server.set_discovery_issuer("http://localhost:1");
    let error = Verifier::builder(KeySource::oidc_discovery(&server.base), validation())
        .lazy(true)
        .build()
        .await
        .expect_err("another issuer's document");
    assert!(matches!(error, KeyError::IssuerMismatch { .. }), "{error}");
    assert!(error.is_misconfiguration());

    // Away (503, or nothing listening) is not the configuration's fault.
    let server = JwksServer::start(&[key(0)]).await;
    server.fail_with(StatusCode::SERVICE_UNAVAILABLE);
    Verifier::builder(KeySource::jwks(&server.url), validation())
        .lazy(true)
        .build()
        .await
        .expect("lazy start through an outage");
}

// Virtual time: the sleeps below advance a paused clock, not the wall clock.
#[tokio::test(start_paused = true)]
async fn a_lazy_verifier_starts_without_keys_and_picks_them_up_later() {
    let server = JwksServer::start(&[key(0)]).await;
    server.fail_with(StatusCode::SERVICE_UNAVAILABLE);
    let verifier = Verifier::builder(KeySource::jwks(&server.url), validation())
        .lazy(true)
        .unknown_kid_cooldown(Duration::from_millis(100))
        .build()
        .await
        .expect("lazy start");
    let token = key(0).sign(&claims());
    assert_eq!(
        verifier.verify(&token).await.expect_err("must be rejected"),
        VerifyError::KeysUnavailable
    );
    server.set_keys(&[key(0)]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    verifier
        .verify(&token)
        .await
        .expect("keys fetched on demand");
}

// Virtual time: the sleeps below advance a paused clock, not the wall clock.
#[tokio::test(start_paused = true)]
async fn a_flood_of_random_kids_costs_one_fetch_per_cooldown() {
    let server = JwksServer::start(&[key(0)]).await;
    let verifier = Verifier::builder(KeySource::jwks(&server.url), validation())
        .unknown_kid_cooldown(Duration::from_millis(300))
        .build()
        .await
        .expect("verifier");
    assert_eq!(server.hits(), 1);
    tokio::time::sleep(Duration::from_millis(350)).await;
    // Slow answers make sure all the requests overlap the one fetch.
    server.set_delay(Duration::from_millis(200));
    let mut tasks = Vec::new();
    for i in 0..100 {
        let verifier = verifier.clone();
        let token = token_with_kid(&format!("random-{i}"));
        tasks.push(tokio::spawn(async move { verifier.verify(&token).await }));
    }
    for task in tasks {
        assert_eq!(
            task.await.expect("task").expect_err("must be rejected"),
            VerifyError::UnknownKid
        );
    }
    assert_eq!(
        server.hits(),
        2,
        "100 concurrent unknown kids share one fetch"
    );
    // Inside the cooldown: the token waits for its end, then one more fetch.
    server.set_delay(Duration::ZERO);
    assert_eq!(
        verifier
            .verify(&token_with_kid("another"))
            .await
            .expect_err("must be rejected"),
        VerifyError::UnknownKid
    );
    assert_eq!(server.hits(), 3);
}

// Virtual time: the cooldown is waited out on a paused clock.
#[tokio::test(start_paused = true)]
async fn a_flood_of_random_kids_cannot_keep_a_new_key_out() {
    let server = JwksServer::start(&[key(0)]).await;
    let verifier = Verifier::builder(KeySource::jwks(&server.url), validation())
        .unknown_kid_cooldown(Duration::from_millis(300))
        .refresh_interval_bounds(Duration::from_secs(3600), Duration::from_secs(3600))
        .build()
        .await
        .expect("verifier");
    // An attacker keeps the cooldown busy with random kids…
    let flood: Vec<_> = (0..20)
        .map(|i| {
            let verifier = verifier.clone();
            let token = token_with_kid(&format!("random-{i}"));
            tokio::spawn(async move { verifier.verify(&token).await })
        })
        .collect();
    // …while the issuer starts signing with a new key.
    server.set_keys(&[key(0), key(1)]);
    verifier
        .verify(&key(1).sign(&claims()))
        .await
        .expect("the new key's first token is accepted after one cooldown at most");
    for task in flood {
        assert!(task.await.expect("task").is_err());
    }
}

#[tokio::test]
async fn a_jwks_redirect_to_another_origin_is_refused() {
    let elsewhere = JwksServer::start(&[key(0)]).await;
    let target = elsewhere.url.clone();
    let redirecting = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let target = target.clone();
            async move { axum::response::Redirect::temporary(&target) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/jwks.json", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, redirecting).await });
    let error = Verifier::new(KeySource::jwks(&url), validation())
        .await
        .expect_err("keys from another origin are not taken");
    assert!(matches!(error, KeyError::Fetch { .. }), "{error:?}");
    assert_eq!(elsewhere.hits(), 0, "the other origin was never asked");
}

// Virtual time: the sleeps below advance a paused clock, not the wall clock.
#[tokio::test(start_paused = true)]
async fn keys_are_dropped_once_refreshes_have_failed_for_the_maximum_staleness() {
    let server = JwksServer::start(&[key(0)]).await;
    let verifier = Verifier::builder(KeySource::jwks(&server.url), validation())
        .max_stale_keys(Duration::from_millis(200))
        .build()
        .await
        .expect("verifier");
    let token = key(0).sign(&claims());
    server.fail_with(StatusCode::BAD_GATEWAY);
    assert!(verifier.refresh().await.is_err());
    verifier
        .verify_with_current_keys(&token)
        .expect("still inside the staleness limit");
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(verifier.refresh().await.is_err());
    assert_eq!(
        verifier
            .verify_with_current_keys(&token)
            .expect_err("keys dropped"),
        VerifyError::KeysUnavailable
    );
    assert_eq!(verifier.status().key_count, 0);
}

// Virtual time: the unknown kid waits out the refetch cooldown on a paused clock.
#[tokio::test(start_paused = true)]
async fn counters_record_each_final_outcome_once() {
    let server = JwksServer::start(&[key(0)]).await;
    let verifier = Verifier::new(KeySource::jwks(&server.url), validation())
        .await
        .expect("verifier");
    verifier
        .verify(&key(0).sign(&claims()))
        .await
        .expect("valid");
    // An unknown kid is tried, refetched (or cooled down), tried again: counted once.
    let _ = verifier.verify(&token_with_kid("nope")).await;
    let rejections: std::collections::HashMap<_, _> = verifier.rejections().into_iter().collect();
    assert_eq!(verifier.verified(), 1);
    assert_eq!(rejections["unknown_kid"], 1);
    assert_eq!(rejections.values().sum::<u64>(), 1);
}

// Virtual time: the sleeps below advance a paused clock, not the wall clock.
#[tokio::test(start_paused = true)]
async fn a_rotated_key_is_picked_up_without_a_restart() {
    let server = JwksServer::start(&[key(0)]).await;
    let verifier = Verifier::builder(KeySource::jwks(&server.url), validation())
        .unknown_kid_cooldown(Duration::from_millis(100))
        .build()
        .await
        .expect("verifier");
    let old_token = key(0).sign(&claims());
    verifier.verify(&old_token).await.expect("old key");
    server.set_keys(&[key(0), key(1)]);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let new_token = key(1).sign(&claims());
    verifier
        .verify(&new_token)
        .await
        .expect("new kid triggers a refetch");
    verifier
        .verify(&old_token)
        .await
        .expect("old key still published");
    assert_eq!(server.hits(), 2);
    assert_eq!(verifier.status().key_count, 2);
}

#[tokio::test]
async fn when_the_auth_server_fails_the_last_good_keys_keep_working() {
    let server = JwksServer::start(&[key(0)]).await;
    let verifier = Verifier::new(KeySource::jwks(&server.url), validation())
        .await
        .expect("verifier");
    let token = key(0).sign(&claims());

    server.fail_with(StatusCode::BAD_GATEWAY);
    assert!(verifier.refresh().await.is_err());
    verifier.verify(&token).await.expect("stale-if-error");
    let status = verifier.status();
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("502")),
        "{status:?}"
    );
    assert!(status.last_success.is_some() && status.last_failure.is_some());
    assert_eq!(status.key_count, 1);

    server.set_body("{not json".into());
    assert!(matches!(
        verifier.refresh().await,
        Err(KeyError::InvalidJwks(_))
    ));
    verifier
        .verify(&token)
        .await
        .expect("garbage does not replace good keys");

    server.stop().await;
    assert!(verifier.refresh().await.is_err());
    verifier
        .verify(&token)
        .await
        .expect("auth server gone, keys cached");
    let mut expired = claims();
    expired["exp"] = serde_json::json!(common::now() - 3600);
    assert_eq!(
        verifier
            .verify(&key(0).sign(&expired))
            .await
            .expect_err("must be rejected"),
        VerifyError::Expired
    );
}

// Virtual time: the sleeps below advance a paused clock, not the wall clock.
#[tokio::test(start_paused = true)]
async fn the_background_refresh_follows_cache_control_max_age() {
    let server = JwksServer::start(&[key(0)]).await;
    server.set_cache_control("public, max-age=1");
    let verifier = Verifier::builder(KeySource::jwks(&server.url), validation())
        .refresh_interval_bounds(Duration::from_secs(1), Duration::from_secs(3600))
        .build()
        .await
        .expect("verifier");
    server.set_keys(&[key(0), key(1)]);
    for _ in 0..50 {
        if verifier.status().key_count == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        verifier.status().key_count,
        2,
        "refreshed after max-age without any request"
    );
    assert!(server.hits() >= 2);
    // The key is now known, so verifying needs no fetch.
    let hits = server.hits();
    verifier
        .verify_with_current_keys(&key(1).sign(&claims()))
        .expect("new key");
    assert_eq!(server.hits(), hits);
}

#[tokio::test]
async fn an_oversized_jwks_response_is_refused() {
    let server = JwksServer::start(&[key(0)]).await;
    server.set_body(format!(
        r#"{{"keys":[],"padding":"{}"}}"#,
        "x".repeat(100 * 1024)
    ));
    let error = Verifier::new(KeySource::jwks(&server.url), validation())
        .await
        .expect_err("must be rejected");
    assert!(
        matches!(error, KeyError::TooLarge { limit: 65536, .. }),
        "{error}"
    );
}

#[tokio::test]
async fn discovery_finds_the_jwks_and_checks_the_issuer() {
    let server = JwksServer::start(&[key(0)]).await;
    let verifier = Verifier::new(KeySource::oidc_discovery(&server.base), validation())
        .await
        .expect("discovery");
    assert_eq!(verifier.status().key_count, 1);
    verifier
        .verify(&key(0).sign(&claims()))
        .await
        .expect("valid");

    // No discovery document there: the server refuses, naming the status.
    let error = Verifier::new(
        KeySource::oidc_discovery(format!("{}/other", server.base)),
        validation(),
    )
    .await
    .expect_err("no discovery document");
    assert!(
        matches!(&error, KeyError::Refused { status: 404, .. }),
        "{error}"
    );

    // A discovery document that claims another issuer is refused (OIDC Discovery §4.3).
    server.set_discovery_issuer("https://impostor.example");
    let error = Verifier::new(KeySource::oidc_discovery(&server.base), validation())
        .await
        .expect_err("issuer mismatch");
    assert!(
        matches!(&error, KeyError::IssuerMismatch { found, .. } if found == "https://impostor.example"),
        "{error}"
    );
}

// Virtual time: the sleeps below advance a paused clock, not the wall clock.
#[tokio::test(start_paused = true)]
async fn a_dropped_verifier_stops_its_background_task() {
    let server = JwksServer::start(&[key(0)]).await;
    server.set_cache_control("max-age=1");
    let verifier = Verifier::builder(KeySource::jwks(&server.url), validation())
        .refresh_interval_bounds(Duration::from_secs(1), Duration::from_secs(1))
        .build()
        .await
        .expect("verifier");
    drop(verifier);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        server.hits() <= 2,
        "at most one refresh already in its sleep, got {}",
        server.hits()
    );
}
