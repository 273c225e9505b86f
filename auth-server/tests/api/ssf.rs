//! The revocation feed as an OpenID Shared Signals Framework transmitter,
//! driven as an SSF receiver would by the specification alone: the
//! transmitter metadata, a stream created and read, a verification event,
//! revocations polled (RFC 8936) in their CAEP and RISC formats and
//! acknowledged, pause and disable, another receiver's stream, and bad
//! requests.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, backend_tests, claims_of, client_id_of, decode_segment, json_body, Backend,
    TestApp, PASSWORD,
};

const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
const ACCOUNT_DISABLED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
const VERIFICATION: &str = "https://schemas.openid.net/secevent/ssf/event-type/verification";

struct Receiver {
    id: String,
    secret: String,
}

async fn receiver(app: &TestApp, name: &str, scopes: &[&str]) -> Receiver {
    let admin = app.admin_named(&format!("{name}-admin@example.com")).await;
    let (_, key) = app.api_key(&admin, "receiver", scopes).await;
    Receiver {
        id: client_id_of(&key),
        secret: key,
    }
}

async fn call(
    app: &TestApp,
    who: &Receiver,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method, app.url(path))
        .basic_auth(&who.id, Some(&who.secret));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request")
}

async fn poll(app: &TestApp, who: &Receiver, endpoint: &str, ack: &[String]) -> Value {
    let path = endpoint.trim_start_matches(&app.address);
    let response = call(
        app,
        who,
        reqwest::Method::POST,
        path,
        Some(json!({ "ack": ack, "returnImmediately": true })),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    json_body(response).await
}

/// The SETs of a poll answer, decoded: (jti, header, claims).
fn sets_of(answer: &Value) -> Vec<(String, Value, Value)> {
    answer["sets"]
        .as_object()
        .expect("sets")
        .iter()
        .map(|(jti, set)| {
            let set = set.as_str().expect("a SET");
            (jti.clone(), decode_segment(set, 0), claims_of(set))
        })
        .collect()
}

async fn a_receiver_follows_revocations_through_its_stream(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let metadata = json_body(app.get("/.well-known/ssf-configuration").await).await;
    assert_eq!(metadata["spec_version"], "1_0");
    assert_eq!(metadata["issuer"], app.address.as_str());
    assert_eq!(metadata["jwks_uri"], app.url("/.well-known/jwks.json"));
    assert_eq!(
        metadata["delivery_methods_supported"],
        json!(["urn:ietf:rfc:8936"])
    );
    let who = receiver(&app, "gateway", &["ssf:stream"]).await;

    // Create: poll delivery, the events it wants.
    let created = call(
        &app,
        &who,
        reqwest::Method::POST,
        "/ssf/streams",
        Some(json!({
            "delivery": { "method": "urn:ietf:rfc:8936" },
            "events_requested": [SESSION_REVOKED, CREDENTIAL_CHANGE, ACCOUNT_DISABLED, VERIFICATION, "urn:example:unknown"],
            "description": "our gateway",
        })),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let stream = json_body(created).await;
    let stream_id = stream["stream_id"].as_str().expect("id").to_owned();
    assert_eq!(stream["iss"], app.address.as_str());
    assert_eq!(stream["aud"], who.id.as_str());
    assert_eq!(
        stream["events_delivered"],
        json!([
            SESSION_REVOKED,
            CREDENTIAL_CHANGE,
            ACCOUNT_DISABLED,
            VERIFICATION
        ])
    );
    let endpoint = stream["delivery"]["endpoint_url"]
        .as_str()
        .expect("endpoint")
        .to_owned();
    assert_eq!(endpoint, app.url(&format!("/ssf/poll/{stream_id}")));
    let read = call(
        &app,
        &who,
        reqwest::Method::GET,
        &format!("/ssf/streams?stream_id={stream_id}"),
        None,
    )
    .await;
    assert_eq!(json_body(read).await["description"], "our gateway");

    // Verification: the state comes back in a verification event.
    let verified = call(
        &app,
        &who,
        reqwest::Method::POST,
        "/ssf/verify",
        Some(json!({ "stream_id": stream_id, "state": "VGhpcyBpcyBhbiBleGFtcGxl" })),
    )
    .await;
    assert_eq!(verified.status(), StatusCode::NO_CONTENT);
    let answer = poll(&app, &who, &endpoint, &[]).await;
    let sets = sets_of(&answer);
    assert_eq!(sets.len(), 1);
    let (jti, header, claims) = &sets[0];
    assert_eq!(header["typ"], "secevent+jwt");
    assert_eq!(claims["aud"], who.id.as_str());
    assert_eq!(
        claims["events"][VERIFICATION]["state"],
        "VGhpcyBpcyBhbiBleGFtcGxl"
    );
    assert_eq!(
        claims["sub_id"],
        json!({ "format": "opaque", "id": stream_id })
    );
    // Not acknowledged: sent again; acknowledged: gone.
    assert_eq!(sets_of(&poll(&app, &who, &endpoint, &[]).await).len(), 1);
    let answer = poll(&app, &who, &endpoint, std::slice::from_ref(jti)).await;
    assert!(sets_of(&answer).is_empty());
    assert_eq!(answer["moreAvailable"], false);
    // A SET the receiver reports in setErrs is not sent again either.
    call(
        &app,
        &who,
        reqwest::Method::POST,
        "/ssf/verify",
        Some(json!({ "stream_id": stream_id })),
    )
    .await;
    let failed = sets_of(&poll(&app, &who, &endpoint, &[]).await);
    assert_eq!(failed.len(), 1);
    let reported = call(
        &app,
        &who,
        reqwest::Method::POST,
        endpoint.trim_start_matches(&app.address),
        Some(json!({ "setErrs": { failed[0].0.clone(): { "err": "invalid_key", "description": "x" } } })),
    )
    .await;
    assert!(sets_of(&json_body(reported).await).is_empty());

    // Revocations: a session ends, a password changes, an account is disabled.
    let user = app.user("ssf-user@example.com").await;
    let sid = claims_of(&user.token)["sid"]
        .as_str()
        .expect("sid")
        .to_owned();
    assert_eq!(
        app.logout(&user.token).await.status(),
        StatusCode::NO_CONTENT
    );
    let other = app.user("ssf-other@example.com").await;
    let changed = app
        .change_password(&other.token, PASSWORD, "another long passphrase")
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let admin = app.admin_named("ssf-admin@example.com").await;
    let disabled = app
        .patch_user(&admin.token, &user.id, &json!({ "disabled": true }))
        .await;
    assert_eq!(disabled.status(), StatusCode::OK);

    let answer = poll(&app, &who, &endpoint, &[]).await;
    let sets = sets_of(&answer);
    let of = |event: &str| {
        sets.iter()
            .filter(|(_, _, claims)| claims["events"].get(event).is_some())
            .map(|(_, _, claims)| claims.clone())
            .collect::<Vec<_>>()
    };
    let revoked = of(SESSION_REVOKED);
    let ours = revoked
        .iter()
        .find(|c| c["sub_id"]["session"]["id"] == sid.as_str())
        .expect("the logout's session-revoked");
    assert_eq!(ours["sub_id"]["format"], "complex");
    assert_eq!(
        ours["sub_id"]["user"],
        json!({ "format": "iss_sub", "iss": app.address, "sub": user.id })
    );
    assert!(ours["events"][SESSION_REVOKED]["event_timestamp"].is_i64());
    let changes = of(CREDENTIAL_CHANGE);
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0]["sub_id"],
        json!({ "format": "iss_sub", "iss": app.address, "sub": other.id })
    );
    assert_eq!(
        changes[0]["events"][CREDENTIAL_CHANGE]["credential_type"],
        "password"
    );
    assert_eq!(
        changes[0]["events"][CREDENTIAL_CHANGE]["change_type"],
        "update"
    );
    let disabled = of(ACCOUNT_DISABLED);
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0]["sub_id"]["sub"], user.id.as_str());
    // Every SET verifies with the published keys, for this receiver.
    let verifier = jwt_verify::Verifier::builder(
        jwt_verify::KeySource::jwks(app.url("/.well-known/jwks.json")),
        jwt_verify::Validation::new(app.address.clone())
            .audience(who.id.clone())
            .require_type("secevent+jwt")
            .insecure_disable_exp_check(),
    )
    .build()
    .await
    .expect("verifier");
    for set in answer["sets"].as_object().expect("sets").values() {
        verifier
            .verify(set.as_str().expect("set"))
            .await
            .expect("a SET of this transmitter for this receiver");
    }
    let all: Vec<String> = sets.iter().map(|(jti, _, _)| jti.clone()).collect();
    assert!(sets_of(&poll(&app, &who, &endpoint, &all).await).is_empty());

    // Paused: events are held, and delivered once enabled again.
    let paused = call(
        &app,
        &who,
        reqwest::Method::POST,
        "/ssf/status",
        Some(json!({ "stream_id": stream_id, "status": "paused", "reason": "maintenance" })),
    )
    .await;
    assert_eq!(json_body(paused).await["status"], "paused");
    let third = app.user("ssf-third@example.com").await;
    app.logout(&third.token).await;
    assert!(sets_of(&poll(&app, &who, &endpoint, &[]).await).is_empty());
    call(
        &app,
        &who,
        reqwest::Method::POST,
        "/ssf/status",
        Some(json!({ "stream_id": stream_id, "status": "enabled" })),
    )
    .await;
    let held = sets_of(&poll(&app, &who, &endpoint, &[]).await);
    assert_eq!(held.len(), 1, "the held event");
    // Disabled: dropped, and not delivered when enabled again.
    let acked: Vec<String> = held.iter().map(|(jti, _, _)| jti.clone()).collect();
    poll(&app, &who, &endpoint, &acked).await;
    call(
        &app,
        &who,
        reqwest::Method::POST,
        "/ssf/status",
        Some(json!({ "stream_id": stream_id, "status": "disabled" })),
    )
    .await;
    let fourth = app.user("ssf-fourth@example.com").await;
    app.logout(&fourth.token).await;
    call(
        &app,
        &who,
        reqwest::Method::POST,
        "/ssf/status",
        Some(json!({ "stream_id": stream_id, "status": "enabled" })),
    )
    .await;
    assert!(sets_of(&poll(&app, &who, &endpoint, &[]).await).is_empty());
    let status = call(
        &app,
        &who,
        reqwest::Method::GET,
        &format!("/ssf/status?stream_id={stream_id}"),
        None,
    )
    .await;
    assert_eq!(json_body(status).await["status"], "enabled");

    // Delete: gone.
    let deleted = call(
        &app,
        &who,
        reqwest::Method::DELETE,
        &format!("/ssf/streams?stream_id={stream_id}"),
        None,
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = call(
        &app,
        &who,
        reqwest::Method::GET,
        &format!("/ssf/streams?stream_id={stream_id}"),
        None,
    )
    .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

async fn streams_are_their_receivers_own_and_bad_requests_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let who = receiver(&app, "first", &["ssf:stream"]).await;
    let other = receiver(&app, "second", &["ssf:stream"]).await;
    let reader = receiver(&app, "reader", &["events:read"]).await;
    let created = call(
        &app,
        &who,
        reqwest::Method::POST,
        "/ssf/streams",
        Some(json!({})),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let stream = json_body(created).await;
    let stream_id = stream["stream_id"].as_str().expect("id").to_owned();
    // By default every supported event.
    assert_eq!(
        stream["events_delivered"].as_array().expect("events").len(),
        5
    );

    // Another receiver sees no such stream, polls nothing, changes nothing.
    for (method, path, body) in [
        (
            reqwest::Method::GET,
            format!("/ssf/streams?stream_id={stream_id}"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("/ssf/poll/{stream_id}"),
            Some(json!({})),
        ),
        (
            reqwest::Method::POST,
            "/ssf/status".to_owned(),
            Some(json!({ "stream_id": stream_id, "status": "disabled" })),
        ),
        (
            reqwest::Method::DELETE,
            format!("/ssf/streams?stream_id={stream_id}"),
            None,
        ),
    ] {
        let response = call(&app, &other, method, &path, body).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let listed = call(&app, &other, reqwest::Method::GET, "/ssf/streams", None).await;
    assert_eq!(json_body(listed).await, json!([]));

    // No key, a key without the scope, a wrong secret.
    let anonymous = app
        .client
        .get(app.url("/ssf/streams"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let scoped = call(&app, &reader, reqwest::Method::GET, "/ssf/streams", None).await;
    assert_problem(scoped, StatusCode::FORBIDDEN).await;
    let wrong = Receiver {
        id: who.id.clone(),
        secret: format!("{}x", who.secret),
    };
    let refused = call(&app, &wrong, reqwest::Method::GET, "/ssf/streams", None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // Bad bodies: push delivery, a bad status, a malformed id, wrong types.
    for (method, path, body) in [
        (
            reqwest::Method::POST,
            "/ssf/streams",
            json!({ "delivery": { "method": "urn:ietf:rfc:8935", "endpoint_url": "https://x" } }),
        ),
        (
            reqwest::Method::POST,
            "/ssf/streams",
            json!({ "events_requested": "not a list" }),
        ),
        (
            reqwest::Method::POST,
            "/ssf/streams",
            json!({ "events_requested": ["has space"] }),
        ),
        (
            reqwest::Method::POST,
            "/ssf/status",
            json!({ "stream_id": stream_id, "status": "asleep" }),
        ),
        (
            reqwest::Method::PATCH,
            "/ssf/streams",
            json!({ "stream_id": "not-a-uuid", "description": "x" }),
        ),
        (
            reqwest::Method::POST,
            "/ssf/verify",
            json!({ "stream_id": 7 }),
        ),
    ] {
        let response = call(&app, &who, method, path, Some(body.clone())).await;
        assert!(
            response.status() == StatusCode::BAD_REQUEST
                || response.status() == StatusCode::UNPROCESSABLE_ENTITY,
            "{path} {body}: {}",
            response.status()
        );
    }
    // At most ten streams a receiver.
    for _ in 0..9 {
        let made = call(
            &app,
            &who,
            reqwest::Method::POST,
            "/ssf/streams",
            Some(json!({})),
        )
        .await;
        assert_eq!(made.status(), StatusCode::CREATED);
    }
    let eleventh = call(
        &app,
        &who,
        reqwest::Method::POST,
        "/ssf/streams",
        Some(json!({})),
    )
    .await;
    assert_problem(eleventh, StatusCode::CONFLICT).await;
}

/// jwt-verify's follower on an SSF stream instead of Signet's feed: a
/// logged-out session's token is refused once its SET is polled, and the
/// follower acknowledges what it applied.
async fn jwt_verify_follows_an_ssf_stream(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let who = receiver(&app, "verifier", &["ssf:stream"]).await;
    let stream = json_body(
        call(
            &app,
            &who,
            reqwest::Method::POST,
            "/ssf/streams",
            Some(json!({ "delivery": { "method": "urn:ietf:rfc:8936" } })),
        )
        .await,
    )
    .await;
    let endpoint = stream["delivery"]["endpoint_url"]
        .as_str()
        .expect("endpoint")
        .to_owned();
    let verifier = jwt_verify::Verifier::builder(
        jwt_verify::KeySource::jwks(app.url("/.well-known/jwks.json")),
        jwt_verify::Validation::new(app.address.clone()).audience("signet"),
    )
    .revocation_feed(
        jwt_verify::RevocationFeed::ssf_poll(endpoint, who.id.clone(), who.secret.clone())
            .poll_interval(std::time::Duration::from_millis(10)),
    )
    .build()
    .await
    .expect("verifier");
    let user = app.user("ssf-follow@example.com").await;
    let token = app.service_audience_token(&user.email).await;
    verifier.verify(&token).await.expect("live");
    assert_eq!(app.logout(&token).await.status(), StatusCode::NO_CONTENT);
    // The follower polls every 10 ms here when idle: wait for its effect.
    for _ in 0..500 {
        if matches!(
            verifier.verify(&token).await,
            Err(jwt_verify::VerifyError::Revoked)
        ) {
            let status = verifier.revocation_status().expect("following");
            assert!(status.entries >= 1 && status.failures == 0, "{status:?}");
            // Acknowledged: the stream no longer holds it, once the next
            // poll carried the ack.
            for _ in 0..500 {
                if app.count_rows("ssf_stream_sets").await == 0 {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            panic!("the follower never acknowledged the SET");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the logged-out session's token was never refused");
}

backend_tests!(
    jwt_verify_follows_an_ssf_stream,
    a_receiver_follows_revocations_through_its_stream,
    streams_are_their_receivers_own_and_bad_requests_are_refused,
);
