use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::backend_tests;
use crate::helpers::{assert_problem, json_body, Backend, TestApp, PASSWORD};

async fn signup_answers_202_and_the_account_exists_with_its_fields(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .signup(
            &json!({ "email": "Ada@Example.com", "password": PASSWORD, "display_name": "  Ada  " }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let text = response.text().await.expect("body");
    assert!(
        !text.contains("argon2") && !text.contains("password") && !text.contains("ada@"),
        "{text}"
    );
    let token = app.token_for("ada@example.com", PASSWORD).await;
    let body = json_body(app.me(&token).await).await;
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["display_name"], "Ada");
    assert_eq!(body["roles"], json!([]));
    assert_eq!(body["disabled"], false);
    assert_eq!(body["email_verified"], false);
    assert!(uuid::Uuid::parse_str(body["id"].as_str().expect("id")).is_ok());
}

async fn passwords_are_stored_as_argon2id_phc_strings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("hash@example.com").await;
    let stored = auth_server::accounts::entity::Entity::find()
        .filter(auth_server::accounts::entity::Column::Email.eq("hash@example.com"))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("user");
    assert!(stored.password_hash.starts_with("$argon2id$v=19$"));
    assert!(!stored.password_hash.contains(PASSWORD));
}

async fn a_registered_email_gets_the_same_answer_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.user("dup@example.com").await;
    let fresh = app
        .signup(&json!({ "email": "new@example.com", "password": PASSWORD }))
        .await;
    let taken = app
        .signup(&json!({ "email": "DUP@example.com", "password": "another long passphrase" }))
        .await;
    assert_eq!(fresh.status(), StatusCode::ACCEPTED);
    assert_eq!(taken.status(), StatusCode::ACCEPTED);
    assert_eq!(
        fresh.text().await.expect("body"),
        taken.text().await.expect("body"),
        "the same body: nothing tells the two apart"
    );
    // The existing account's password is unchanged.
    assert_eq!(
        app.login("dup@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.count_rows("users").await, 2);
}

async fn concurrent_signups_with_one_email_create_one_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let body = json!({ "email": "race@example.com", "password": PASSWORD });
    let attempts = futures_join(&app, &body, 6).await;
    assert!(
        attempts.iter().all(|s| *s == StatusCode::ACCEPTED),
        "{attempts:?}"
    );
    assert_eq!(app.count_rows("users").await, 1);
}

/// SQLite allows one writer at a time: with WAL and a busy timeout, writers
/// queue instead of failing with "database is locked".
async fn many_concurrent_signups_and_logins_all_succeed(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("RATE_LIMIT_SIGNUP_PER_IP", "1000/1m"),
            ("RATE_LIMIT_LOGIN_PER_IP", "1000/1m"),
        ],
    )
    .await;
    let emails: Vec<String> = (0..40).map(|i| format!("writer{i}@example.com")).collect();
    let signups: Vec<_> = emails
        .iter()
        .map(|email| {
            let (client, url) = (app.client.clone(), app.url("/api/v1/users"));
            let body = json!({ "email": email, "password": PASSWORD });
            tokio::spawn(async move {
                let response = client.post(url).json(&body).send().await.expect("request");
                (response.status(), response.text().await.expect("body"))
            })
        })
        .collect();
    for signup in signups {
        let (status, body) = signup.await.expect("task");
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    // Each login writes a session and its refresh token in one transaction.
    let logins: Vec<_> = emails
        .iter()
        .map(|email| {
            let (client, url) = (app.client.clone(), app.url("/api/v1/auth/login"));
            let body = json!({ "email": email, "password": PASSWORD });
            tokio::spawn(async move {
                let response = client.post(url).json(&body).send().await.expect("request");
                (response.status(), response.text().await.expect("body"))
            })
        })
        .collect();
    for login in logins {
        let (status, body) = login.await.expect("task");
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let users = auth_server::accounts::entity::Entity::find()
        .all(&app.state.db)
        .await
        .expect("users");
    assert_eq!(users.len(), 40);
}

async fn futures_join(app: &TestApp, body: &serde_json::Value, n: usize) -> Vec<StatusCode> {
    let mut handles = Vec::new();
    for _ in 0..n {
        let client = app.client.clone();
        let url = app.url("/api/v1/users");
        let body = body.clone();
        handles.push(tokio::spawn(async move {
            client
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("request")
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for handle in handles {
        statuses.push(handle.await.expect("task"));
    }
    statuses
}

async fn invalid_fields_are_listed_one_by_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .signup(&json!({ "email": "not-an-email", "password": "short", "display_name": "x".repeat(101) }))
        .await;
    let body = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, vec!["display_name", "email", "password"]);
}

async fn long_passphrases_are_welcome_up_to_256_characters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let passphrase = "correct horse battery staple ".repeat(8); // 232 characters
    let response = app
        .signup(&json!({ "email": "long@example.com", "password": passphrase }))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        app.login("long@example.com", &passphrase).await.status(),
        StatusCode::OK
    );
    let too_long = "x".repeat(257);
    let response = app
        .signup(&json!({ "email": "longer@example.com", "password": too_long }))
        .await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
}

async fn roles_cannot_be_chosen_at_signup(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .signup(&json!({ "email": "sneaky@example.com", "password": PASSWORD, "roles": ["admin"] }))
        .await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        app.login("sneaky@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn me_returns_the_callers_own_profile(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("me@example.com").await;
    let response = app.me(&user.token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    assert_eq!(body["id"], user.id.as_str());
    assert_eq!(body["email"], "me@example.com");
}

async fn me_without_a_token_is_401_with_a_bare_bearer_challenge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get("/api/v1/users/me").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"signet\""
    );
}

async fn changing_the_password_needs_the_old_one_and_then_only_the_new_one_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("change@example.com").await;
    let response = app
        .change_password(&user.token, "wrong old password", "a brand new passphrase")
        .await;
    assert_problem(response, StatusCode::FORBIDDEN).await;
    let response = app.change_password(&user.token, PASSWORD, "short").await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let response = app
        .change_password(&user.token, PASSWORD, "a brand new passphrase")
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&user.email, "a brand new passphrase")
            .await
            .status(),
        StatusCode::OK
    );
}

async fn deleting_ones_account_removes_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("bye@example.com").await;
    assert_eq!(
        app.delete_me(&user.token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The email is free again: a new account with it can sign in.
    assert_eq!(
        app.signup(&json!({ "email": user.email, "password": PASSWORD }))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

backend_tests!(
    signup_answers_202_and_the_account_exists_with_its_fields,
    passwords_are_stored_as_argon2id_phc_strings,
    a_registered_email_gets_the_same_answer_and_changes_nothing,
    concurrent_signups_with_one_email_create_one_account,
    many_concurrent_signups_and_logins_all_succeed,
    invalid_fields_are_listed_one_by_one,
    long_passphrases_are_welcome_up_to_256_characters,
    roles_cannot_be_chosen_at_signup,
    me_returns_the_callers_own_profile,
    me_without_a_token_is_401_with_a_bare_bearer_challenge,
    changing_the_password_needs_the_old_one_and_then_only_the_new_one_works,
    deleting_ones_account_removes_it,
);
