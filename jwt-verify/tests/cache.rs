//! The verified-token cache: faster, never more permissive.

mod common;

use std::time::{Duration, SystemTime};

use common::{claims, jwks, key, now, validation};
use jwt_verify::{KeySet, KeySource, ManualClock, Verifier, VerifyError};
use serde_json::json;

async fn cached(
    keys: &[&common::TestKey],
    validation: jwt_verify::Validation,
    capacity: usize,
) -> Verifier {
    cached_with_clock(
        keys,
        validation,
        capacity,
        ManualClock::new(SystemTime::now()),
    )
    .await
}

async fn cached_with_clock(
    keys: &[&common::TestKey],
    validation: jwt_verify::Validation,
    capacity: usize,
    clock: ManualClock,
) -> Verifier {
    Verifier::builder(
        KeySource::Static(KeySet::from_jwks_json(&jwks(keys)).expect("jwks")),
        validation,
    )
    .token_cache(capacity)
    .clock(clock)
    .build()
    .await
    .expect("verifier")
}

#[tokio::test]
async fn a_repeated_token_is_served_from_the_cache() {
    let verifier = cached(&[key(0)], validation(), 100).await;
    let token = key(0).sign(&claims());
    let first = verifier.verify(&token).await.expect("valid");
    let second = verifier.verify(&token).await.expect("cached");
    assert_eq!(first.claims(), second.claims());
    assert_eq!(verifier.cached_tokens(), 1);
    assert_eq!(verifier.verified(), 2, "hits count as verifications");
}

#[tokio::test]
async fn a_token_that_expires_while_cached_is_rejected() {
    let clock = ManualClock::new(SystemTime::now());
    let verifier = cached_with_clock(
        &[key(0)],
        validation().leeway(Duration::ZERO),
        100,
        clock.clone(),
    )
    .await;
    let mut short = claims();
    short["exp"] = json!(now() + 1);
    let token = key(0).sign(&short);
    verifier.verify(&token).await.expect("valid now");
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        verifier.verify(&token).await.expect_err("expired"),
        VerifyError::Expired
    );
}

#[tokio::test]
async fn removing_the_key_invalidates_its_cached_tokens() {
    let verifier = cached(&[key(0), key(1)], validation(), 100).await;
    let token = key(0).sign(&claims());
    verifier.verify(&token).await.expect("valid");
    verifier.replace_keys(KeySet::from_jwks_json(&jwks(&[key(1)])).expect("jwks"));
    assert_eq!(
        verifier.verify(&token).await.expect_err("key gone"),
        VerifyError::UnknownKid
    );
}

#[tokio::test]
async fn a_different_token_with_the_same_claims_is_verified_in_full() {
    let verifier = cached(&[key(0)], validation(), 100).await;
    let token = key(0).sign(&claims());
    verifier.verify(&token).await.expect("valid");
    // Same header and claims, another key's signature.
    let forged = key(1).sign_with_header(key(0).header(), &claims());
    assert_eq!(
        verifier.verify(&forged).await.expect_err("forged"),
        VerifyError::InvalidSignature
    );
    // The cached token with one signature character changed (one that carries
    // signature bits; the last one also carries padding bits, see rejections.rs).
    let mut tampered: Vec<char> = token.chars().collect();
    let at = tampered.len() - 10;
    tampered[at] = if tampered[at] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    assert_eq!(
        verifier.verify(&tampered).await.expect_err("tampered"),
        VerifyError::InvalidSignature
    );
    verifier
        .verify(&token)
        .await
        .expect("the original still verifies");
}

#[tokio::test]
async fn the_cache_is_bounded() {
    let verifier = cached(&[key(0)], validation(), 32).await;
    for i in 0..100 {
        let mut distinct = claims();
        distinct["jti"] = json!(format!("token-{i}"));
        verifier
            .verify(&key(0).sign(&distinct))
            .await
            .expect("valid");
    }
    assert!(
        verifier.cached_tokens() <= 32,
        "{}",
        verifier.cached_tokens()
    );
}
