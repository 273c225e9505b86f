//! Following a security-event feed: a local feed server serves SETs; the
//! verifier applies the ones its keys verify, refuses what they revoke, and
//! fails open or closed when the feed goes silent, as configured.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use common::{claims, jwks, key, now, validation, TestKey, ISSUER};
use jwt_verify::{KeySet, KeySource, ManualClock, RevocationFeed, Verifier, VerifyError};
use serde_json::{json, Value};

const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";

#[derive(Clone, Default)]
struct Feed {
    sets: Arc<Mutex<Vec<String>>>,
}

#[derive(serde::Deserialize)]
struct Params {
    after: i64,
    wait: u64,
}

async fn serve(State(feed): State<Feed>, Query(params): Query<Params>) -> Json<Value> {
    let pending = |feed: &Feed| -> Vec<(usize, String)> {
        let sets = feed.sets.lock().expect("lock");
        sets.iter()
            .enumerate()
            .skip(usize::try_from(params.after).unwrap_or(0))
            .map(|(i, s)| (i + 1, s.clone()))
            .collect()
    };
    let mut news = pending(&feed);
    if news.is_empty() && params.wait > 0 {
        // A short long-poll, so the follower does not spin.
        tokio::time::sleep(Duration::from_millis(20)).await;
        news = pending(&feed);
    }
    let cursor = news.last().map_or(params.after, |(i, _)| *i as i64);
    let sets: serde_json::Map<String, Value> = news
        .into_iter()
        .map(|(i, s)| (format!("jti-{i}"), Value::String(s)))
        .collect();
    Json(json!({ "sets": sets, "cursor": cursor.to_string(), "moreAvailable": false }))
}

async fn feed_server(feed: Feed) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/events", listener.local_addr().expect("addr"));
    let app = Router::new().route("/events", get(serve)).with_state(feed);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn set(signer: &TestKey, sid: &str) -> String {
    let mut header = signer.header();
    header.typ = Some("secevent+jwt".into());
    signer.sign_with_header(
        header,
        &json!({
            "iss": ISSUER,
            "iat": now(),
            "jti": format!("e-{sid}"),
            "sub_id": { "format": "opaque", "id": sid },
            "events": { SESSION_REVOKED: { "event_timestamp": now() } },
        }),
    )
}

fn token_of_session(sid: &str) -> String {
    let mut claims = claims();
    claims["sid"] = json!(sid);
    key(0).sign(&claims)
}

async fn follower(url: &str) -> Verifier {
    Verifier::builder(
        KeySource::Static(KeySet::from_jwks_json(&jwks(&[key(0)])).expect("jwks")),
        validation(),
    )
    .token_cache(100)
    .revocation_feed(RevocationFeed::new(url, "sgn_reader", "secret"))
    .build()
    .await
    .expect("verifier")
}

async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened");
}

#[tokio::test]
async fn a_revoked_session_is_refused_even_from_the_token_cache() {
    let feed = Feed::default();
    let url = feed_server(feed.clone()).await;
    let verifier = follower(&url).await;
    let token = token_of_session("s-1");
    let other = token_of_session("s-2");
    verifier.verify(&token).await.expect("valid, now cached");
    feed.sets.lock().expect("lock").push(set(key(0), "s-1"));
    until(|| verifier.revocation_status().is_some_and(|s| s.entries == 1)).await;
    assert_eq!(
        verifier.verify(&token).await.err(),
        Some(VerifyError::Revoked)
    );
    verifier.verify(&other).await.expect("another session");
    let status = verifier.revocation_status().expect("following");
    assert_eq!(status.cursor, 1);
    assert!(status.last_synced_at.is_some());
    assert_eq!(status.failures, 0);
}

#[tokio::test]
async fn a_set_signed_by_another_key_is_never_applied() {
    let feed = Feed::default();
    feed.sets.lock().expect("lock").push(set(key(1), "s-1"));
    let url = feed_server(feed.clone()).await;
    let verifier = follower(&url).await;
    until(|| verifier.revocation_status().is_some_and(|s| s.failures > 0)).await;
    verifier
        .verify(&token_of_session("s-1"))
        .await
        .expect("a forged revocation revokes nothing");
    let status = verifier.revocation_status().expect("following");
    assert_eq!((status.cursor, status.entries), (0, 0), "not past it");
    assert!(
        status.untrusted,
        "a page none of whose SETs verify: {status:?}"
    );
}

#[tokio::test]
async fn a_set_that_does_not_verify_is_skipped_and_the_follower_moves_on() {
    // A SET signed by a key the verifier does not hold (retired before it
    // started), then a good one: the first is skipped and counted, the
    // second applies, and later revocations keep arriving.
    let feed = Feed::default();
    feed.sets.lock().expect("lock").push(set(key(1), "s-old"));
    feed.sets.lock().expect("lock").push(set(key(0), "s-1"));
    let url = feed_server(feed.clone()).await;
    let verifier = follower(&url).await;
    until(|| verifier.revocation_status().is_some_and(|s| s.cursor == 2)).await;
    let status = verifier.revocation_status().expect("following");
    assert_eq!((status.entries, status.skipped), (1, 1), "{status:?}");
    assert!(!status.untrusted);
    assert_eq!(
        verifier.verify(&token_of_session("s-1")).await.err(),
        Some(VerifyError::Revoked)
    );
    verifier
        .verify(&token_of_session("s-old"))
        .await
        .expect("an unverified SET revokes nothing");

    let later = token_of_session("s-2");
    verifier.verify(&later).await.expect("valid");
    feed.sets.lock().expect("lock").push(set(key(0), "s-2"));
    until(|| verifier.revocation_status().is_some_and(|s| s.cursor == 3)).await;
    assert_eq!(
        verifier.verify(&later).await.err(),
        Some(VerifyError::Revoked)
    );
}

#[tokio::test]
async fn a_silent_feed_fails_open_by_default_and_closed_when_asked() {
    // Nothing listens here: the feed never answers.
    let url = format!("http://127.0.0.1:{}/events", common_free_port());
    let clock = ManualClock::new(std::time::SystemTime::now());
    let open = Verifier::builder(
        KeySource::Static(KeySet::from_jwks_json(&jwks(&[key(0)])).expect("jwks")),
        validation(),
    )
    .clock(clock.clone())
    .revocation_feed(RevocationFeed::new(&url, "sgn_reader", "secret"))
    .revocation_max_staleness(Duration::from_secs(30))
    .build()
    .await
    .expect("verifier");
    let token = token_of_session("s-1");
    open.verify(&token).await.expect("fail-open: accepted");
    assert!(open.revocation_status().expect("following").stale);

    let closed = Verifier::builder(
        KeySource::Static(KeySet::from_jwks_json(&jwks(&[key(0)])).expect("jwks")),
        validation(),
    )
    .clock(clock)
    .revocation_feed(RevocationFeed::new(&url, "sgn_reader", "secret"))
    .revocation_max_staleness(Duration::from_secs(30))
    .revocation_fail_closed(true)
    .build()
    .await
    .expect("verifier");
    assert_eq!(
        closed.verify(&token).await.err(),
        Some(VerifyError::RevocationsStale)
    );
    assert_eq!(VerifyError::RevocationsStale.reason(), "revocations_stale");
}

fn common_free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn the_feed_credentials_never_show_in_debug() {
    let feed = RevocationFeed::with_api_key(
        "https://auth.example/api/v1/security-events",
        "sgn_abcdef0123456789_s3cr3tsecretsecret",
    );
    let shown = format!("{feed:?}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
    assert!(shown.contains("sgn_abcdef0123456789"), "{shown}");
}
