use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::backend_tests;
use crate::helpers::{assert_problem, json_body, Backend, TestApp, PASSWORD};

async fn a_user_without_the_admin_role_gets_403_insufficient_scope(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("plain@example.com").await;
    let response = app.list_users(&user.token, "").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    for path in [format!("/api/v1/users/{}", user.id)] {
        assert_eq!(
            app.get_with_token(&path, &user.token).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        app.patch_user(&user.token, &user.id, &json!({ "roles": ["admin"] }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/users").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn admins_page_through_users_with_a_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for i in 0..4 {
        app.user(&format!("page{i}@example.com")).await;
    }
    let first = json_body(app.list_users(&admin.token, "?limit=2").await).await;
    let first_items = first["items"].as_array().expect("items");
    assert_eq!(first_items.len(), 2);
    assert_eq!(first_items[0]["email"], "root@example.com", "oldest first");
    let cursor = first["next_cursor"].as_str().expect("more pages");
    let second = json_body(
        app.list_users(&admin.token, &format!("?limit=2&cursor={cursor}"))
            .await,
    )
    .await;
    assert_eq!(second["items"].as_array().expect("items").len(), 2);
    let cursor = second["next_cursor"].as_str().expect("one more page");
    let last = json_body(
        app.list_users(&admin.token, &format!("?limit=2&cursor={cursor}"))
            .await,
    )
    .await;
    assert_eq!(last["items"].as_array().expect("items").len(), 1);
    assert!(last["next_cursor"].is_null());
    for bad in ["?limit=0", "?limit=1000"] {
        assert_problem(
            app.list_users(&admin.token, bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    assert_problem(
        app.list_users(&admin.token, "?limit=abc").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        app.list_users(&admin.token, "?cursor=not-a-uuid").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

async fn admins_read_update_and_delete_a_user(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("managed@example.com").await;
    let response = app
        .get_with_token(&format!("/api/v1/users/{}", user.id), &admin.token)
        .await;
    assert_eq!(json_body(response).await["email"], "managed@example.com");

    let response = app
        .patch_user(
            &admin.token,
            &user.id,
            &json!({ "roles": ["editor", "editor"], "display_name": "Managed" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json_body(response).await;
    assert_eq!(body["roles"], json!(["editor"]));
    assert_eq!(body["display_name"], "Managed");
    // New roles appear in the next token.
    let token = app.token_for(&user.email, PASSWORD).await;
    let claims = token.split('.').nth(1).expect("payload").to_owned();
    use base64::Engine as _;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(claims["roles"], json!(["editor"]));

    assert_eq!(
        app.delete_user(&admin.token, &user.id).await.status(),
        StatusCode::NO_CONTENT
    );
    let response = app
        .get_with_token(&format!("/api/v1/users/{}", user.id), &admin.token)
        .await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
    assert_problem(
        app.delete_user(&admin.token, &user.id).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

async fn admin_input_is_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("target@example.com").await;
    let response = app
        .patch_user(&admin.token, &user.id, &json!({ "roles": ["Not A Role!"] }))
        .await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let response = app
        .patch_user(&admin.token, &user.id, &json!({ "password_hash": "x" }))
        .await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let response = app
        .get_with_token("/api/v1/users/not-a-uuid", &admin.token)
        .await;
    assert_problem(response, StatusCode::BAD_REQUEST).await;
}

async fn an_admin_cannot_lock_themselves_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for body in [json!({ "disabled": true }), json!({ "roles": [] })] {
        let response = app.patch_user(&admin.token, &admin.id, &body).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    assert_problem(
        app.delete_user(&admin.token, &admin.id).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        app.list_users(&admin.token, "").await.status(),
        StatusCode::OK
    );
}

async fn a_patch_that_changes_nothing_records_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("noop@example.com").await;
    for body in [json!({ "disabled": false }), json!({ "roles": [] })] {
        assert_eq!(
            app.patch_user(&admin.token, &user.id, &body).await.status(),
            StatusCode::OK
        );
    }
    assert!(app.audit(&admin, "user.enabled").await.is_empty());
    assert!(app.audit(&admin, "user.roles_changed").await.is_empty());
    // A real change is recorded, once, in the same transaction as the change.
    app.patch_user(&admin.token, &user.id, &json!({ "roles": ["editor"] }))
        .await;
    assert_eq!(app.audit(&admin, "user.roles_changed").await.len(), 1);
}

backend_tests!(
    a_patch_that_changes_nothing_records_nothing,
    a_user_without_the_admin_role_gets_403_insufficient_scope,
    admins_page_through_users_with_a_cursor,
    admins_read_update_and_delete_a_user,
    admin_input_is_validated,
    an_admin_cannot_lock_themselves_out,
);
