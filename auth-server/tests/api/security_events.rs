//! The security-event feed: each revocation becomes a signed SET (RFC 8417)
//! written with the change, served after a cursor to API keys holding
//! `events:read`, long-polled, and forgotten once no token it could match
//! is still valid.

use std::time::Duration;

use jwt_verify::{Validation, Verifier};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{backend_tests, client_id_of, json_body, Backend, TestApp, PASSWORD};

const SESSION_REVOKED: &str = "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
const CREDENTIAL_CHANGE: &str =
    "https://schemas.openid.net/secevent/caep/event-type/credential-change";
const ACCOUNT_DISABLED: &str =
    "https://schemas.openid.net/secevent/risc/event-type/account-disabled";
const CLIENT_REVOKED: &str = "urn:signet:secevent:client-revoked";

/// A receiver's API key (`events:read`), as `client_id:secret`.
async fn receiver(app: &TestApp) -> (String, String) {
    let admin = app.admin_named("events-admin@example.com").await;
    let (_, key) = app.api_key(&admin, "verifier", &["events:read"]).await;
    (client_id_of(&key), key)
}

async fn read(app: &TestApp, key: &(String, String), query: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/security-events{query}")))
        .basic_auth(&key.0, Some(&key.1))
        .send()
        .await
        .expect("request")
}

/// The feed's SETs after `cursor`, verified (signature over this server's
/// keys, `typ` secevent+jwt, issuer), with the next cursor.
async fn events_after(app: &TestApp, key: &(String, String), cursor: &str) -> (Vec<Value>, String) {
    let response = read(app, key, &format!("?after={cursor}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json_body(response).await;
    let verifier = Verifier::from_key_set(
        (*app.state.keys.verifier().keys()).clone(),
        Validation::new(app.state.config.issuer.clone())
            .require_type("secevent+jwt")
            .insecure_disable_exp_check(),
    );
    let mut sets = Vec::new();
    for (jti, set) in body["sets"].as_object().expect("sets") {
        let verified = verifier
            .verify_with_current_keys(set.as_str().expect("a SET"))
            .expect("a SET signed by this server");
        let claims: Value = verified.deserialize().expect("json");
        assert_eq!(claims["jti"], jti.as_str());
        sets.push(claims);
    }
    (sets, body["cursor"].as_str().expect("cursor").to_owned())
}

fn event_of(set: &Value) -> (&str, &Value) {
    let (kind, body) = set["events"]
        .as_object()
        .expect("events")
        .iter()
        .next()
        .expect("one event");
    (kind.as_str(), body)
}

async fn only_api_keys_with_events_read_may_read_the_feed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anonymous = app
        .client
        .get(app.url("/api/v1/security-events"))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let admin = app.admin().await;
    let (_, other) = app.api_key(&admin, "no-events", &["posts:write"]).await;
    let refused = read(&app, &(client_id_of(&other), other.clone()), "").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(json_body(refused).await["error"], "insufficient_scope");
    let wrong = read(&app, &(client_id_of(&other), format!("{other}x")), "").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // A user's bearer token is no receiver credential.
    let bearer = app
        .client
        .get(app.url("/api/v1/security-events"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request");
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);

    let key = receiver(&app).await;
    let empty = json_body(read(&app, &key, "").await).await;
    assert_eq!(
        empty,
        json!({ "sets": {}, "cursor": "0", "moreAvailable": false })
    );
    for bad in [
        "?after=x",
        "?limit=0",
        "?limit=1001",
        "?wait=-1",
        "?other=1",
    ] {
        assert_eq!(
            read(&app, &key, bad).await.status(),
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

async fn each_revocation_becomes_a_signed_event_with_its_subject(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = receiver(&app).await;
    let (_, start) = events_after(&app, &key, "0").await;

    // Logout: the session.
    let user = app.user("events-user@example.com").await;
    let sid = {
        let verified = app
            .state
            .keys
            .verifier()
            .verify_with_current_keys(&user.token)
            .expect("token");
        let claims: Value = verified.deserialize().expect("json");
        claims["sid"].as_str().expect("sid").to_owned()
    };
    assert_eq!(
        app.logout(&user.token).await.status(),
        StatusCode::NO_CONTENT
    );
    let (sets, cursor) = events_after(&app, &key, &start).await;
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(event_of(&sets[0]).0, SESSION_REVOKED);
    assert_eq!(sets[0]["sub_id"], json!({ "format": "opaque", "id": sid }));
    assert_eq!(sets[0]["iss"], app.state.config.issuer.as_str());
    assert!(event_of(&sets[0]).1["event_timestamp"].is_i64());

    // A password change: every session of the user, and the user.
    let token = app.token_for(&user.email, PASSWORD).await;
    let changed = app
        .change_password(&token, PASSWORD, "another long passphrase")
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let (sets, cursor) = events_after(&app, &key, &cursor).await;
    let kinds: Vec<&str> = sets.iter().map(|s| event_of(s).0).collect();
    assert!(kinds.contains(&SESSION_REVOKED), "{kinds:?}");
    let change = sets
        .iter()
        .find(|s| event_of(s).0 == CREDENTIAL_CHANGE)
        .expect("credential-change");
    assert_eq!(
        change["sub_id"],
        json!({ "format": "iss_sub", "iss": app.state.config.issuer, "sub": user.id })
    );

    // An admin disables the account.
    let admin = app.admin().await;
    app.patch_user(&admin.token, &user.id, &json!({ "disabled": true }))
        .await;
    let (sets, cursor) = events_after(&app, &key, &cursor).await;
    assert!(
        sets.iter()
            .any(|s| event_of(s).0 == ACCOUNT_DISABLED && s["sub_id"]["sub"] == user.id.as_str()),
        "{sets:?}"
    );

    // An API key is revoked: its client id.
    let (key_id, scraper) = app.api_key(&admin, "scraper", &["posts:write"]).await;
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/api-keys/{key_id}")))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let (sets, cursor) = events_after(&app, &key, &cursor).await;
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(event_of(&sets[0]).0, CLIENT_REVOKED);
    assert_eq!(sets[0]["sub_id"]["id"], client_id_of(&scraper).as_str());

    // Nothing new: nothing served, the cursor stays.
    let (sets, same) = events_after(&app, &key, &cursor).await;
    assert!(sets.is_empty());
    assert_eq!(same, cursor);
}

async fn a_new_reader_gets_the_current_state_in_pages_then_only_news(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = receiver(&app).await;
    for n in 0..3 {
        let user = app.user(&format!("page{n}@example.com")).await;
        app.logout(&user.token).await;
    }
    let first = json_body(read(&app, &key, "?limit=2").await).await;
    assert_eq!(first["sets"].as_object().expect("sets").len(), 2);
    assert_eq!(first["moreAvailable"], true);
    let cursor = first["cursor"].as_str().expect("cursor");
    let rest = json_body(read(&app, &key, &format!("?after={cursor}&limit=2")).await).await;
    assert_eq!(rest["sets"].as_object().expect("sets").len(), 1);
    assert_eq!(rest["moreAvailable"], false);
    // Every replica serves the same signed bytes: read twice, same SETs.
    let again = json_body(read(&app, &key, "?limit=2").await).await;
    assert_eq!(again["sets"], first["sets"]);

    // Once no token it could match can still be valid, an event is gone
    // from the state a new reader loads.
    app.state
        .clock
        .advance(Duration::from_secs(24 * 3600 + 6 * 60));
    let later = json_body(read(&app, &key, "").await).await;
    assert_eq!(later["sets"], json!({}));
}

async fn a_waiting_reader_hears_of_a_revocation_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = receiver(&app).await;
    let user = app.user("waiting@example.com").await;
    let (_, cursor) = events_after(&app, &key, "0").await;
    let request = app
        .client
        .get(app.url(&format!("/api/v1/security-events?after={cursor}&wait=30")))
        .basic_auth(&key.0, Some(&key.1))
        .send();
    let waiting = tokio::spawn(request);
    // Until the read is waiting (nothing new)…
    while app.state.events.waiting() == 0 {
        tokio::task::yield_now().await;
    }
    // …then the user signs out.
    assert_eq!(
        app.logout(&user.token).await.status(),
        StatusCode::NO_CONTENT
    );
    let body = json_body(waiting.await.expect("task").expect("response")).await;
    let sets = body["sets"].as_object().expect("sets");
    assert_eq!(sets.len(), 1, "the wait ended with the event: {body}");
}

/// A verifier as a service builds it (JWKS, issuer, audience, `at+jwt`,
/// the token cache on), following this server's feed.
async fn following_verifier(app: &TestApp, key: &(String, String)) -> Verifier {
    let verifier = Verifier::builder(
        jwt_verify::KeySource::jwks(app.url("/.well-known/jwks.json")),
        Validation::new(app.state.config.issuer.clone())
            .audience("signet")
            .require_type("at+jwt"),
    )
    .token_cache(1000)
    .revocation_feed(jwt_verify::RevocationFeed::with_api_key(
        app.url("/api/v1/security-events"),
        &key.1,
    ))
    .build()
    .await
    .expect("verifier");
    // Until it has loaded the current state (a follower that cannot is a failure, not a hang).
    for _ in 0..1000 {
        if verifier
            .revocation_status()
            .and_then(|s| s.last_synced_at)
            .is_some()
        {
            return verifier;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the verifier never loaded the feed: {:?}",
        verifier.revocation_status()
    );
}

/// Verify `token` until the verifier refuses it as revoked (bounded).
async fn refused_soon(verifier: &Verifier, token: &str) {
    for _ in 0..500 {
        match verifier.verify(token).await {
            Err(jwt_verify::VerifyError::Revoked) => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(other) => panic!("refused for another reason: {other:?}"),
        }
    }
    panic!("the revocation never reached the verifier");
}

async fn a_verifier_following_the_feed_refuses_revoked_tokens_and_keeps_fresh_ones(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let key = receiver(&app).await;
    let verifier = following_verifier(&app, &key).await;

    // One session's end (RFC 7009 revocation of its access token): that
    // session's token is refused; the user's other session's is not, even
    // though the verifier had cached it.
    let user = app.user("follower@example.com").await;
    let token = app.service_audience_token(&user.email).await;
    verifier.verify(&token).await.expect("valid, and cached");
    let signed_out = app.service_audience_token(&user.email).await;
    verifier.verify(&signed_out).await.expect("valid");
    let revoke = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[("token", signed_out.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoke.status(), StatusCode::OK);
    refused_soon(&verifier, &signed_out).await;
    verifier
        .verify(&token)
        .await
        .expect("another session: still valid");

    // A password change: every earlier token of the user.
    let account = app.token_for(&user.email, PASSWORD).await;
    assert_eq!(
        app.change_password(&account, PASSWORD, "a brand new passphrase")
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    refused_soon(&verifier, &token).await;

    // An API key revoked: its service tokens.
    let admin = app.admin().await;
    let (key_id, service_key) = app.api_key(&admin, "svc", &["posts:write"]).await;
    let service = app.service_token(&service_key).await;
    verifier.verify(&service).await.expect("valid");
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/api-keys/{key_id}")))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    refused_soon(&verifier, &service).await;

    // A verifier started after all this loads the state and agrees.
    let late = following_verifier(&app, &key).await;
    for old in [&token, &signed_out, &service] {
        assert_eq!(
            late.verify(old).await.err(),
            Some(jwt_verify::VerifyError::Revoked)
        );
    }
    let fresh = json_body(
        app.login_for(&user.email, "a brand new passphrase", None)
            .await,
    )
    .await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    late.verify(&fresh)
        .await
        .expect("a token from after the password change is accepted");
    let status = late.revocation_status().expect("following");
    assert!(status.entries >= 3, "{status:?}");
    assert!(!status.stale);
}

async fn a_compromised_signing_key_is_replaced_and_its_tokens_refused(backend: Backend) {
    use base64::Engine as _;
    let kek = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
    let app = TestApp::spawn_with(backend, &[("KEY_ENCRYPTION_KEY", kek.as_str())]).await;
    let key = receiver(&app).await;
    let verifier = following_verifier(&app, &key).await;
    let user = app.user("compromised@example.com").await;
    let before = app.service_audience_token(&user.email).await;
    verifier.verify(&before).await.expect("valid");
    let leaked = app.state.keys.ring().active().kid.clone();

    let manager = app.state.keys.manager().expect("database key store");
    let replacement = manager
        .compromise(&leaked)
        .await
        .expect("compromised")
        .expect("the signing key was replaced");
    assert_ne!(replacement, leaked);
    // Refused: as revoked (the key-revoked event), or as signed by a key no
    // longer published (the verifier refetched the JWKS for the new key).
    let mut refused = false;
    for _ in 0..500 {
        match verifier.verify(&before).await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(jwt_verify::VerifyError::Revoked | jwt_verify::VerifyError::UnknownKid) => {
                refused = true;
                break;
            }
            Err(other) => panic!("refused for another reason: {other:?}"),
        }
    }
    assert!(refused, "the compromised key's token is still accepted");

    // The leaked key is no longer published; a new token is signed with the
    // new key, which the verifier fetches on its first unknown kid.
    let jwks = json_body(app.get("/.well-known/jwks.json").await).await;
    assert!(
        !jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["kid"] == leaked.as_str()),
        "{jwks}"
    );
    let after = app.service_audience_token(&user.email).await;
    verifier
        .verify(&after)
        .await
        .expect("signed by the new key");
    assert!(matches!(
        manager.compromise("no-such-kid").await,
        Err(auth_server::keys::store::KeyStoreError::UnknownKid(_))
    ));
}

/// Issue 23, finding 2: SETs were signed once and stored, so after a
/// rotation retired (here: removed) their key, a verifier started later
/// could not verify the stored events and stalled at the first one, missing
/// every later revocation for a day.
async fn a_verifier_started_after_a_key_rotation_follows_every_revocation(backend: Backend) {
    use base64::Engine as _;
    let kek = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let app = TestApp::spawn_with(backend, &[("KEY_ENCRYPTION_KEY", kek.as_str())]).await;
    let key = receiver(&app).await;
    let user = app.user("rotation@example.com").await;

    // A revocation, read once: its SET is signed with the key of the day and stored.
    let first = app.service_audience_token(&user.email).await;
    assert_eq!(app.logout(&first).await.status(), StatusCode::NO_CONTENT);
    let (before, _) = events_after(&app, &key, "0").await;
    assert!(!before.is_empty());
    let old_kid = app.state.keys.ring().active().kid.clone();

    // The key leaves the JWKS (compromised: removed at once; a retirement
    // after KEY_RETIRE_AFTER has the same effect on stored SETs).
    let manager = app.state.keys.manager().expect("database key store");
    manager
        .compromise(&old_kid)
        .await
        .expect("compromised")
        .expect("replaced");
    let jwks = json_body(app.get("/.well-known/jwks.json").await).await;
    assert!(!jwks.to_string().contains(&old_kid), "{jwks}");

    // Every SET the feed serves verifies with the keys published now.
    let (after, _) = events_after(&app, &key, "0").await;
    assert!(after.len() > before.len(), "the key-revoked event too");

    // A verifier started now loads everything, and hears of a new revocation.
    let late = following_verifier(&app, &key).await;
    assert!(matches!(
        late.verify(&first).await.err(),
        Some(jwt_verify::VerifyError::UnknownKid | jwt_verify::VerifyError::Revoked)
    ));
    let second = app.service_audience_token(&user.email).await;
    late.verify(&second).await.expect("valid");
    assert_eq!(app.logout(&second).await.status(), StatusCode::NO_CONTENT);
    refused_soon(&late, &second).await;
    let status = late.revocation_status().expect("following");
    assert_eq!((status.skipped, status.untrusted), (0, false), "{status:?}");
}

/// The same across a scheduled rotation: the next key is published, signs
/// after `KEY_PUBLISH_DELAY`, and the old one is removed after
/// `KEY_RETIRE_AFTER` (the clock is passed to the key manager, not waited).
async fn a_verifier_started_after_a_retirement_follows_every_revocation(backend: Backend) {
    use base64::Engine as _;
    let kek = base64::engine::general_purpose::STANDARD.encode([11u8; 32]);
    let app = TestApp::spawn_with(
        backend,
        &[
            ("KEY_ENCRYPTION_KEY", kek.as_str()),
            ("JWKS_MAX_AGE", "20s"),
            ("KEY_PUBLISH_DELAY", "20s"),
            ("KEY_RETIRE_AFTER", "20s"),
            ("KEY_REFRESH_INTERVAL", "1h"),
        ],
    )
    .await;
    let key = receiver(&app).await;
    let user = app.user("retired@example.com").await;
    let first = app.service_audience_token(&user.email).await;
    assert_eq!(app.logout(&first).await.status(), StatusCode::NO_CONTENT);
    events_after(&app, &key, "0").await; // signed now, with the old key, and stored
    let old_kid = app.state.keys.ring().active().kid.clone();

    let manager = app.state.keys.manager().expect("database key store");
    let new_kid = manager.rotate().await.expect("rotate");
    let now = chrono::Utc::now();
    manager
        .tick_at(now + chrono::Duration::seconds(21))
        .await
        .expect("the new key signs");
    assert_eq!(app.state.keys.ring().active().kid, new_kid);
    // Retired after the longest token lifetime (ACCESS_TOKEN_TTL 15 min here).
    manager
        .tick_at(now + chrono::Duration::minutes(16) + chrono::Duration::seconds(42))
        .await
        .expect("the old key is removed");
    let jwks = json_body(app.get("/.well-known/jwks.json").await).await;
    assert!(!jwks.to_string().contains(&old_kid), "{jwks}");

    let (after, _) = events_after(&app, &key, "0").await;
    assert!(!after.is_empty(), "every SET verifies with today's keys");
    let late = following_verifier(&app, &key).await;
    let second = app.service_audience_token(&user.email).await;
    late.verify(&second).await.expect("valid");
    assert_eq!(app.logout(&second).await.status(), StatusCode::NO_CONTENT);
    refused_soon(&late, &second).await;
    let status = late.revocation_status().expect("following");
    assert_eq!((status.skipped, status.untrusted), (0, false), "{status:?}");
}

/// The count of `security_event_reads_total{wake}` on `app`.
async fn reads_woken_by(app: &TestApp, wake: &str) -> u64 {
    let text = app.metrics().await.text().await.expect("metrics");
    let prefix = format!("security_event_reads_total{{wake=\"{wake}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().expect("count"))
}

/// Forward-auth verifies without a database read, from the events it has
/// applied. A logout on one replica reaches the other's: on PostgreSQL
/// through its notification (the other replica reads the table because it
/// was told to, not because a poll came round), on SQLite by the poll.
async fn a_logout_on_one_replica_closes_forward_auth_on_another(backend: Backend) {
    // One public name for both, as behind a load balancer.
    let issuer = [("JWT_ISSUER", "http://localhost:8080")];
    let first = TestApp::spawn_with(backend, &issuer).await;
    let second = TestApp::spawn_on(&first.database_url, &issuer).await;
    first.user("replicated@example.com").await;
    let token = first.service_audience_token("replicated@example.com").await;
    async fn verify(app: &TestApp, token: &str) -> StatusCode {
        app.get_with_token("/api/v1/auth/verify", token)
            .await
            .status()
    }
    assert_eq!(verify(&second, &token).await, StatusCode::OK);
    let notified_before = if backend == Backend::Postgres {
        // Connected and caught up (its first wake-up) before the logout.
        let mut waited = 0;
        while !(second.state.events.wakeups.listening()
            && reads_woken_by(&second, "notified").await >= 1)
        {
            assert!(waited < 500, "the second replica never listened");
            waited += 1;
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        reads_woken_by(&second, "notified").await
    } else {
        0
    };
    // Logout takes a token of any audience: this ends the token's own session.
    assert_eq!(first.logout(&token).await.status(), StatusCode::NO_CONTENT);
    let mut polls = 0;
    while verify(&second, &token).await != StatusCode::UNAUTHORIZED {
        assert!(polls < 500, "the second replica still accepts the token");
        polls += 1;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    if backend != Backend::Postgres {
        return;
    }
    assert!(
        reads_woken_by(&second, "notified").await > notified_before,
        "read on the notification"
    );
    // The listeners' connections are cut: the next logout still arrives
    // (a reconnect reads what it missed; meanwhile the poll covers it).
    let token = first.service_audience_token("replicated@example.com").await;
    assert_eq!(verify(&second, &token).await, StatusCode::OK);
    use sea_orm::ConnectionTrait as _;
    let cut = first
        .state
        .db
        .execute_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN %'",
        ))
        .await
        .expect("terminate");
    assert_eq!(cut.rows_affected(), 2, "one listener per replica");
    assert_eq!(first.logout(&token).await.status(), StatusCode::NO_CONTENT);
    let mut polls = 0;
    while verify(&second, &token).await != StatusCode::UNAUTHORIZED {
        assert!(polls < 500, "the revocation was lost with the connection");
        polls += 1;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

backend_tests!(
    a_logout_on_one_replica_closes_forward_auth_on_another,
    a_verifier_started_after_a_retirement_follows_every_revocation,
    a_verifier_started_after_a_key_rotation_follows_every_revocation,
    a_compromised_signing_key_is_replaced_and_its_tokens_refused,
    a_verifier_following_the_feed_refuses_revoked_tokens_and_keeps_fresh_ones,
    only_api_keys_with_events_read_may_read_the_feed,
    each_revocation_becomes_a_signed_event_with_its_subject,
    a_new_reader_gets_the_current_state_in_pages_then_only_news,
    a_waiting_reader_hears_of_a_revocation_at_once,
);
