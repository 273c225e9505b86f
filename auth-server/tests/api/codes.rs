//! Authorization codes, called directly: PKCE S256, exact redirect URI,
//! client binding, 60 s of life, and exactly-once redemption whose replay
//! ends the session the first redemption started.

use std::time::Duration;

use auth_server::audit::entity as audit_event;
use auth_server::oauth::codes::{self, CodeError, NewCode, Redemption};
use auth_server::sessions;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{backend_tests, Backend, TestApp};

const CLIENT: &str = "sgc_aaaaaaaaaaaaaaaa";
const REDIRECT: &str = "http://127.0.0.1:8081/auth/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

async fn code_for(app: &TestApp, email: &str) -> (String, uuid::Uuid) {
    let user = app.user(email).await;
    let user_id = uuid::Uuid::parse_str(&user.id).expect("uuid");
    let challenge = codes::s256(VERIFIER);
    let code = codes::issue(
        &app.state.db,
        NewCode {
            client_id: CLIENT,
            user_id,
            redirect_uri: REDIRECT,
            scope: "openid email",
            nonce: Some("n-0S6_WzA2Mj"),
            code_challenge: &challenge,
            auth_time: app.state.clock.now(),
            idp: None,
            methods: &auth_server::sessions::methods::Methods::password(),
            resource: None,
            browser_session: None,
        },
        app.state.clock.now(),
    )
    .await
    .expect("issued");
    (code, user_id)
}

fn client() -> sessions::Client {
    sessions::Client {
        user_agent: None,
        ip: None,
        audience: Some("signet".into()),
        ..sessions::Client::default()
    }
}

async fn redeem(
    app: &TestApp,
    code: &str,
    client_id: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<codes::Redeemed, CodeError> {
    codes::redeem(
        &app.state.db,
        Redemption {
            code,
            client_id,
            redirect_uri,
            code_verifier: verifier,
            resource: None,
        },
        &app.state.config.sessions,
        client(),
        app.state.clock.now(),
    )
    .await
}

async fn a_code_is_redeemed_once_and_its_replay_ends_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (code, user_id) = code_for(&app, "code@example.com").await;
    assert!(code.starts_with("sgac_") && code.len() == 48, "{code}");
    let redeemed = match redeem(&app, &code, CLIENT, Some(REDIRECT), Some(VERIFIER)).await {
        Ok(redeemed) => redeemed,
        Err(error) => panic!("not redeemed: {error:?}"),
    };
    assert_eq!(redeemed.code.user_id, user_id);
    assert_eq!(redeemed.code.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    let session = redeemed.started.session.id;
    let live = |app: &TestApp| {
        let db = app.state.db.clone();
        let now = app.state.clock.now();
        async move {
            sessions::active_for_user(&db, user_id, now)
                .await
                .expect("sessions")
                .iter()
                .any(|s| s.id == session)
        }
    };
    assert!(live(&app).await);

    let replay = redeem(&app, &code, CLIENT, Some(REDIRECT), Some(VERIFIER)).await;
    assert!(
        matches!(replay, Err(CodeError::Replayed { ended_session: Some(s) }) if s == session),
        "{:?}",
        replay.err()
    );
    assert!(!live(&app).await, "the first redemption's session is ended");
    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq("code.replay_detected"))
        .count(&app.state.db)
        .await
        .expect("count");
    assert_eq!(audited, 1);
}

async fn every_binding_of_a_code_is_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (code, _) = code_for(&app, "bind@example.com").await;
    let wrong_verifier = "x".repeat(43);
    for (client_id, redirect, verifier, expected) in [
        (CLIENT, Some(REDIRECT), None, "InvalidVerifier"),
        (CLIENT, Some(REDIRECT), Some("short"), "InvalidVerifier"),
        (
            CLIENT,
            Some(REDIRECT),
            Some(wrong_verifier.as_str()),
            "VerifierMismatch",
        ),
        // A plain challenge would be the verifier itself: never accepted.
        (
            CLIENT,
            Some(REDIRECT),
            Some(codes::s256(VERIFIER).as_str()),
            "VerifierMismatch",
        ),
        (
            "sgc_bbbbbbbbbbbbbbbb",
            Some(REDIRECT),
            Some(VERIFIER),
            "WrongClient",
        ),
        (
            CLIENT,
            Some("http://127.0.0.1:8081/auth/callback/"),
            Some(VERIFIER),
            "WrongRedirectUri",
        ),
        (CLIENT, None, Some(VERIFIER), "WrongRedirectUri"),
    ] {
        let refused = redeem(&app, &code, client_id, redirect, verifier).await;
        let error = format!("{:?}", refused.err().expect("refused"));
        assert!(error.starts_with(expected), "{expected}: {error}");
    }
    for unknown in ["sgac_nope", "not-a-code", ""] {
        assert!(matches!(
            redeem(&app, unknown, CLIENT, Some(REDIRECT), Some(VERIFIER)).await,
            Err(CodeError::Unknown)
        ));
    }
    // The refusals spent nothing: the rightful client still redeems it…
    assert!(redeem(&app, &code, CLIENT, Some(REDIRECT), Some(VERIFIER))
        .await
        .is_ok());
    // …and a code left for more than 60 s has expired.
    let (late, _) = code_for(&app, "late@example.com").await;
    app.state.clock.advance(Duration::from_secs(61));
    assert!(matches!(
        redeem(&app, &late, CLIENT, Some(REDIRECT), Some(VERIFIER)).await,
        Err(CodeError::Expired)
    ));
}

async fn two_concurrent_redemptions_issue_nothing_that_survives(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (code, user_id) = code_for(&app, "race@example.com").await;
    let (a, b) = tokio::join!(
        redeem(&app, &code, CLIENT, Some(REDIRECT), Some(VERIFIER)),
        redeem(&app, &code, CLIENT, Some(REDIRECT), Some(VERIFIER)),
    );
    let (won, lost): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(Result::is_ok);
    assert_eq!(
        (won.len(), lost.len()),
        (1, 1),
        "exactly one redemption wins"
    );
    assert!(matches!(
        lost.into_iter().next().and_then(Result::err),
        Some(CodeError::Replayed { .. })
    ));
    let live = sessions::active_for_user(&app.state.db, user_id, app.state.clock.now())
        .await
        .expect("sessions");
    let winner = won
        .into_iter()
        .next()
        .and_then(Result::ok)
        .expect("winner")
        .started
        .session
        .id;
    assert!(
        !live.iter().any(|s| s.id == winner),
        "the replay ended the winner's session"
    );
}

backend_tests!(
    a_code_is_redeemed_once_and_its_replay_ends_the_session,
    every_binding_of_a_code_is_checked,
    two_concurrent_redemptions_issue_nothing_that_survives,
);
