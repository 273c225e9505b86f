use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::helpers::backend_tests;
use crate::helpers::{assert_problem, json_body, Backend, TestApp};

async fn an_admin_creates_a_key_and_sees_its_secret_exactly_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let response = app
        .create_api_key(
            &admin.token,
            &json!({ "name": "scraper", "scopes": ["posts:write"] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let created = json_body(response).await;
    let key = created["api_key"]
        .as_str()
        .expect("secret shown at creation");
    let client_id = created["client_id"].as_str().expect("client id");
    assert!(key.starts_with(&format!("{client_id}_")), "{key}");
    assert!(client_id.starts_with("sgn_"));
    assert_eq!(created["scopes"], json!(["posts:write"]));
    assert_eq!(created["created_by"], admin.id.as_str());

    let listing = app.get_with_token("/api/v1/api-keys", &admin.token).await;
    assert_eq!(listing.status(), StatusCode::OK);
    let text = listing.text().await.expect("body");
    // The secret is everything after `<client_id>_` (it may itself contain `_`).
    let secret = key
        .strip_prefix(&format!("{client_id}_"))
        .expect("secret part");
    assert!(!text.contains(secret), "no secret in listings");
    assert!(
        !text.contains("secret_hash") && !text.contains("api_key\""),
        "{text}"
    );
    let listed: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(listed[0]["client_id"], client_id);
    assert!(listed[0]["revoked_at"].is_null());
}

async fn only_a_hash_of_the_key_is_stored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (_, key) = app.api_key(&admin, "hashed", &[]).await;
    let stored = auth_server::api_keys::entity::Entity::find()
        .all(&app.state.db)
        .await
        .expect("query");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].secret_hash.len(), 64);
    assert!(!key.contains(&stored[0].secret_hash));
    use sha2::Digest as _;
    assert_eq!(
        stored[0].secret_hash,
        format!("{:x}", sha2::Sha256::digest(key.as_bytes()))
    );
}

async fn api_key_management_is_for_admins_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("nosy@example.com").await;
    let response = app
        .create_api_key(&user.token, &json!({ "name": "mine" }))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get_with_token("/api/v1/api-keys", &user.token)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/api-keys").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn invalid_key_requests_are_422(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for body in [
        json!({ "name": "" }),
        json!({ "name": "x", "scopes": ["Bad Scope"] }),
        json!({ "name": "x", "expires_at": "2001-01-01T00:00:00Z" }),
        json!({ "name": "x", "secret": "chosen" }),
    ] {
        assert_problem(
            app.create_api_key(&admin.token, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
}

async fn revoking_a_key_marks_it_and_unknown_ids_are_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (id, _) = app.api_key(&admin, "temp", &[]).await;
    let revoke = |id: String| {
        let app = &app;
        let token = admin.token.clone();
        async move {
            app.client
                .delete(app.url(&format!("/api/v1/api-keys/{id}")))
                .bearer_auth(token)
                .send()
                .await
                .expect("request")
        }
    };
    assert_eq!(revoke(id.clone()).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        revoke(id).await.status(),
        StatusCode::NO_CONTENT,
        "idempotent"
    );
    let listed = json_body(app.get_with_token("/api/v1/api-keys", &admin.token).await).await;
    assert!(listed[0]["revoked_at"].is_string());
    assert_problem(
        revoke(uuid::Uuid::now_v7().to_string()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

backend_tests!(
    an_admin_creates_a_key_and_sees_its_secret_exactly_once,
    only_a_hash_of_the_key_is_stored,
    api_key_management_is_for_admins_only,
    invalid_key_requests_are_422,
    revoking_a_key_marks_it_and_unknown_ids_are_404,
);
