//! `/readyz` of a service following the revocation feed: a feed none of
//! whose events verify is not being followed, and the service says so.

use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use jwt_verify::{KeySet, KeySource, RevocationFeed, Validation, Verifier};
use serde_json::{json, Value};

/// A feed whose one event is not a SET anyone signed.
async fn untrusted_feed() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/events", listener.local_addr().expect("addr"));
    let app = Router::new().route(
        "/events",
        get(|| async {
            Json(json!({
                "sets": { "e-1": "eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl" },
                "cursor": "1",
                "moreAvailable": false,
            }))
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn readiness_reports_a_feed_none_of_whose_events_verify() {
    let mut modulus = vec![0xc5u8; 256];
    modulus[255] |= 1;
    let keys = KeySet::from_rsa_components([(modulus, vec![1, 0, 1])]).expect("key set");
    let verifier = Verifier::builder(
        KeySource::Static(keys),
        Validation::new("http://issuer.test").audience("svc"),
    )
    .revocation_feed(RevocationFeed::new(
        untrusted_feed().await,
        "sgn_reader",
        "secret",
    ))
    .build()
    .await
    .expect("verifier");
    let db = sea_orm::Database::connect("sqlite::memory:")
        .await
        .expect("sqlite");
    let mut answer = None;
    for _ in 0..500 {
        let (status, Json(body)) = signet_service::auth::readiness(&db, &verifier).await;
        if body["checks"]["revocation_feed"]["untrusted"] == true {
            answer = Some((status, body));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (status, body): (_, Value) = answer.expect("the follower never found the feed untrusted");
    assert_eq!(
        status,
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "{body}"
    );
    assert_eq!(body["status"], "unready");
    assert_eq!(
        body["checks"]["revocation_feed"]["cursor"], 0,
        "not past it"
    );
    assert_eq!(body["checks"]["revocation_feed"]["skipped"], 0);
}
