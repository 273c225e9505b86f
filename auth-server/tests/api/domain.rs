//! The domain services called directly, without HTTP: what each returns, what
//! it writes, and that its audit row travels with the change it records.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use auth_server::accounts::password::Password;
use auth_server::accounts::{self, AccountError, NewUser};
use auth_server::api_keys::{self, Actor, ApiKeyError, ClientAuthError, NewApiKey};
use auth_server::audit::entity as audit_event;
use auth_server::sessions::sign_in::{password_sign_in, Credentials, SignInError, SignedIn};
use auth_server::sessions::{self, RefreshError};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::helpers::{backend_tests, Backend, TestApp, PASSWORD};

const IP: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)));

async fn events(app: &TestApp, event: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::Event.eq(event))
        .count(&app.state.db)
        .await
        .expect("count")
}

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: email.into(),
        password: Password::new(PASSWORD),
        display_name: None,
        roles: Vec::new(),
    }
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Result<SignedIn, SignInError> {
    let state = &app.state;
    password_sign_in(
        &state.db,
        state.password_gate(),
        &state.config.sessions,
        Credentials {
            email,
            password: &Password::new(password),
            ip: IP,
            user_agent: None,
            audience: &state.config.login_audience,
            require_verified_email: false,
            mfa_required_roles: &[],
            site: None,
        },
        state.clock.now(),
    )
    .await
}

async fn sign_up_writes_the_account_its_audit_row_and_its_mail_and_a_taken_email_changes_nothing(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let state = &app.state;
    accounts::email::sign_up(
        &state.db,
        &state.hasher,
        state.outgoing(),
        new_user("Ann@Example.com"),
        IP,
        state.clock.now(),
    )
    .await
    .expect("signed up");
    let created = accounts::find_by_email(&state.db, "ann@example.com")
        .await
        .expect("query")
        .expect("created, normalised");
    assert!(!created.email_verified);
    assert_eq!(events(&app, "user.signup").await, 1);
    let queued = app.count_rows("mail_outbox").await + app.count_rows("email_tokens").await;
    assert!(queued >= 1, "a verification link was issued");

    accounts::email::sign_up(
        &state.db,
        &state.hasher,
        state.outgoing(),
        new_user("ann@example.com"),
        IP,
        state.clock.now(),
    )
    .await
    .expect("the same answer for a taken address");
    assert_eq!(events(&app, "user.signup").await, 1, "no second account");
    let invalid = accounts::email::sign_up(
        &state.db,
        &state.hasher,
        state.outgoing(),
        NewUser {
            email: "not an email".into(),
            password: Password::new("short"),
            display_name: Some("\u{7}".into()),
            roles: Vec::new(),
        },
        IP,
        state.clock.now(),
    )
    .await;
    let Err(accounts::email::EmailError::Account(AccountError::Invalid(fields))) = invalid else {
        panic!("expected Invalid, got {invalid:?}");
    };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["email", "password", "display_name"]);
    assert_eq!(events(&app, "user.signup").await, 1, "no row for a refusal");
    assert_eq!(app.count_rows("users").await, 1);
}

async fn password_sign_in_opens_a_session_or_answers_one_error_for_every_failure(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("bo@example.com").await; // signs in once
    let signed_in = sign_in(&app, "  BO@example.com ", PASSWORD)
        .await
        .expect("signed in");
    assert_eq!(signed_in.user.email, "bo@example.com");
    assert!(signed_in.started.refresh_token.starts_with("sgr_"));
    assert_eq!(events(&app, "login.success").await, 2);

    for (email, password) in [
        ("bo@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("typed-a-password-here", PASSWORD),
    ] {
        let failed = sign_in(&app, email, password).await;
        assert!(
            matches!(failed, Err(SignInError::InvalidCredentials)),
            "{email}: {:?}",
            failed.err()
        );
    }
    assert_eq!(events(&app, "login.failure").await, 3);
    assert_eq!(app.count_rows("sessions").await, 2);
}

async fn a_detected_refresh_reuse_ends_the_session_with_exactly_one_audit_row(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("cy@example.com").await;
    let state = &app.state;
    let policy = &state.config.sessions;
    let first = sign_in(&app, "cy@example.com", PASSWORD)
        .await
        .expect("signed in")
        .started
        .refresh_token;
    sessions::rotate(&state.db, &first, None, policy, None, IP, state.clock.now())
        .await
        .expect("rotated");
    // Past the grace window, the old token again: theft.
    state
        .clock
        .advance(policy.reuse_grace + Duration::from_secs(1));
    let reused =
        sessions::rotate(&state.db, &first, None, policy, None, IP, state.clock.now()).await;
    assert!(
        matches!(reused, Err(RefreshError::Reused { .. })),
        "{:?}",
        reused.err()
    );
    assert_eq!(events(&app, "refresh.reuse_detected").await, 1);
    // The family is over: a third try is refused without a second row.
    let again =
        sessions::rotate(&state.db, &first, None, policy, None, IP, state.clock.now()).await;
    assert!(
        matches!(again, Err(RefreshError::SessionEnded)),
        "{:?}",
        again.err()
    );
    assert_eq!(events(&app, "refresh.reuse_detected").await, 1);
}

async fn changing_the_password_needs_the_old_one_and_ends_every_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("di@example.com").await; // the first session
    let state = &app.state;
    let signed_in = sign_in(&app, "di@example.com", PASSWORD)
        .await
        .expect("signed in");
    let user = signed_in.user;
    let wrong = accounts::change_password(
        &state.db,
        state.password_gate(),
        user.clone(),
        &Password::new("not the password"),
        &Password::new("a new long password"),
        IP,
        state.clock.now(),
    )
    .await;
    assert!(
        matches!(wrong, Err(AccountError::WrongPassword)),
        "{wrong:?}"
    );
    assert_eq!(events(&app, "password.change_failed").await, 1);
    let live = sessions::active_for_user(&state.db, user.id, state.clock.now())
        .await
        .expect("sessions");
    assert_eq!(live.len(), 2, "a refused change ends nothing");

    accounts::change_password(
        &state.db,
        state.password_gate(),
        user.clone(),
        &Password::new(PASSWORD),
        &Password::new("a new long password"),
        IP,
        state.clock.now(),
    )
    .await
    .expect("changed");
    assert_eq!(events(&app, "password.changed").await, 1);
    let live = sessions::active_for_user(&state.db, user.id, state.clock.now())
        .await
        .expect("sessions");
    assert!(live.is_empty());
    assert!(sign_in(&app, "di@example.com", "a new long password")
        .await
        .is_ok());
}

async fn api_key_authentication_names_each_failure_at_the_time_given(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let state = &app.state;
    let now = state.clock.now();
    let actor = || Actor {
        id: "test",
        ip: None,
    };
    let minted = api_keys::create_audited(
        &state.db,
        NewApiKey {
            name: "feeds".into(),
            scopes: vec!["posts:write".into()],
            audiences: Vec::new(),
            expires_at: Some(now + chrono::Duration::hours(1)),
            created_by: None,
            dpop: Default::default(),
            exchange_audiences: Vec::new(),
            exchange_scopes: Vec::new(),
        },
        &state.config.audiences,
        actor(),
        now,
    )
    .await
    .expect("minted");
    let client_id = minted.model.client_id();
    let check = |secret: String, at| {
        let db = state.db.clone();
        let client_id = client_id.clone();
        async move { api_keys::authenticate(&db, &client_id, &secret, at).await }
    };
    assert!(check(minted.secret.clone(), now).await.is_ok());
    let wrong = check(format!("{}x", minted.secret), now).await;
    assert!(matches!(wrong, Err(ClientAuthError::WrongSecret)));
    let later = check(minted.secret.clone(), now + chrono::Duration::hours(2)).await;
    assert!(matches!(later, Err(ClientAuthError::Expired)), "{later:?}");
    let unknown = api_keys::authenticate(&state.db, "sgn_aaaaaaaaaaaaaaaa", "x", now).await;
    assert!(matches!(unknown, Err(ClientAuthError::Unknown)));

    api_keys::revoke_audited(&state.db, minted.model.id, actor(), now)
        .await
        .expect("revoked")
        .expect("exists");
    // Revoking again is harmless and records nothing more.
    api_keys::revoke_audited(&state.db, minted.model.id, actor(), now)
        .await
        .expect("revoked")
        .expect("exists");
    assert!(matches!(
        check(minted.secret.clone(), now).await,
        Err(ClientAuthError::Revoked)
    ));
    assert_eq!(events(&app, "api_key.created").await, 1);
    assert_eq!(events(&app, "api_key.revoked").await, 1);

    let invalid = api_keys::create_audited(
        &state.db,
        NewApiKey {
            name: " ".into(),
            scopes: vec!["Not A Scope".into()],
            audiences: vec!["elsewhere".into()],
            expires_at: Some(now),
            created_by: None,
            dpop: Default::default(),
            exchange_audiences: Vec::new(),
            exchange_scopes: Vec::new(),
        },
        &state.config.audiences,
        actor(),
        now,
    )
    .await;
    let Err(ApiKeyError::Invalid(fields)) = invalid else {
        panic!("expected Invalid");
    };
    let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(names, ["audiences", "name", "scopes", "expires_at"]);
    assert_eq!(events(&app, "api_key.created").await, 1);
}

backend_tests!(
    sign_up_writes_the_account_its_audit_row_and_its_mail_and_a_taken_email_changes_nothing,
    password_sign_in_opens_a_session_or_answers_one_error_for_every_failure,
    a_detected_refresh_reuse_ends_the_session_with_exactly_one_audit_row,
    changing_the_password_needs_the_old_one_and_ends_every_session,
    api_key_authentication_names_each_failure_at_the_time_given,
);
