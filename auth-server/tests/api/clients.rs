//! The OpenID Connect client registry: admin API, the redirect-URI rules,
//! secrets shown once, and client authentication.

use auth_server::clients::{self, Actor, ClientAuthError, NewClient};
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, backend_tests, json_body, Backend, TestApp};

const CALLBACK: &str = "http://127.0.0.1:8081/auth/callback";

async fn register(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/clients"))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn a_confidential_client_gets_its_secret_once_and_is_listed_without_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let response = register(
        &app,
        &admin.token,
        &json!({
            "name": "Blog",
            "redirect_uris": [CALLBACK],
            "post_logout_redirect_uris": ["http://127.0.0.1:8081/"],
            "first_party": true,
        }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body = json_body(response).await;
    let client_id = body["client_id"].as_str().expect("client_id").to_owned();
    let secret = body["client_secret"].as_str().expect("secret").to_owned();
    assert!(client_id.starts_with("sgc_") && secret.starts_with("sgcs_"));
    assert_eq!(body["public"], false);
    assert_eq!(body["scopes"], json!(["openid", "profile", "email"]));
    assert_eq!(
        body["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );

    let listed = json_body(app.get_with_token("/api/v1/clients", &admin.token).await).await;
    assert_eq!(listed[0]["client_id"], client_id.as_str());
    assert!(!listed.to_string().contains(&secret), "never shown again");
    let stored = auth_server::clients::entity::Entity::find()
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("row")
        .secret_hash
        .expect("hash");
    assert!(
        stored.len() == 64 && !secret.contains(&stored),
        "only a hash is stored"
    );
    assert_eq!(app.audit(&admin, "client.created").await.len(), 1);

    // Authentication: the secret, and only the secret.
    let db = &app.state.db;
    assert!(clients::authenticate(db, &client_id, Some(&secret))
        .await
        .is_ok());
    for (presented, expected) in [
        (Some("sgcs_wrong"), "WrongSecret"),
        (None, "SecretRequired"),
    ] {
        let error = clients::authenticate(db, &client_id, presented)
            .await
            .expect_err("refused");
        assert!(format!("{error:?}").starts_with(expected), "{error:?}");
    }
    assert!(matches!(
        clients::authenticate(db, "sgc_nosuchclient0000", Some(&secret)).await,
        Err(ClientAuthError::Unknown)
    ));
}

async fn a_public_client_has_no_secret_and_may_not_present_one(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let response = register(
        &app,
        &admin.token,
        &json!({ "name": "Mobile", "public": true,
                 "redirect_uris": ["com.example.mobile:/oauth2redirect", "http://[::1]:7000/cb"] }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_body(response).await;
    assert!(body.get("client_secret").is_none(), "{body}");
    let client_id = body["client_id"].as_str().expect("client_id");
    let db = &app.state.db;
    assert!(clients::authenticate(db, client_id, None).await.is_ok());
    assert!(matches!(
        clients::authenticate(db, client_id, Some("sgcs_anything")).await,
        Err(ClientAuthError::UnexpectedSecret)
    ));
}

async fn hostile_registrations_are_refused_field_by_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for (body, field) in [
        (
            json!({ "name": "W", "redirect_uris": ["https://*.example.com/cb"] }),
            "redirect_uris",
        ),
        (
            json!({ "name": "F", "redirect_uris": ["https://example.com/cb#x"] }),
            "redirect_uris",
        ),
        (
            json!({ "name": "H", "redirect_uris": ["http://example.com/cb"] }),
            "redirect_uris",
        ),
        (
            json!({ "name": "J", "public": true, "redirect_uris": ["javascript:alert(1)"] }),
            "redirect_uris",
        ),
        (
            json!({ "name": "C", "redirect_uris": ["com.example.app:/cb"] }),
            "redirect_uris",
        ),
        (
            json!({ "name": "R", "redirect_uris": ["/relative"] }),
            "redirect_uris",
        ),
        (json!({ "name": "N", "redirect_uris": [] }), "redirect_uris"),
        (
            json!({ "name": "L", "redirect_uris": [CALLBACK],
                 "post_logout_redirect_uris": ["https://evil.example/#"] }),
            "post_logout_redirect_uris",
        ),
        (json!({ "name": "", "redirect_uris": [CALLBACK] }), "name"),
        (
            json!({ "name": "S", "redirect_uris": [CALLBACK], "scopes": ["Not A Scope"] }),
            "scopes",
        ),
        (
            json!({ "name": "G", "redirect_uris": [CALLBACK], "grant_types": ["implicit"] }),
            "grant_types",
        ),
        (
            json!({ "name": "G", "redirect_uris": [CALLBACK], "grant_types": ["password"] }),
            "grant_types",
        ),
        (
            json!({ "name": "G", "redirect_uris": [CALLBACK], "grant_types": ["refresh_token"] }),
            "grant_types",
        ),
        (
            json!({ "name": "X", "redirect_uris": [CALLBACK], "secret": "mine" }),
            "secret",
        ),
    ] {
        let problem = assert_problem(
            register(&app, &admin.token, &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(problem["errors"][0]["field"], field, "{body}");
    }
    assert_eq!(app.count_rows("oauth_clients").await, 0);
}

async fn only_admins_manage_clients_and_deletion_is_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("plain@example.com").await;
    let body = json!({ "name": "Blog", "redirect_uris": [CALLBACK] });
    assert_eq!(
        register(&app, &user.token, &body).await.status(),
        StatusCode::FORBIDDEN
    );
    let client_id = json_body(register(&app, &admin.token, &body).await).await["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    let delete = |token: String, id: String| {
        let request = app
            .client
            .delete(app.url(&format!("/api/v1/clients/{id}")))
            .bearer_auth(token);
        async move { request.send().await.expect("request").status() }
    };
    assert_eq!(
        delete(user.token.clone(), client_id.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(admin.token.clone(), client_id.clone()).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(admin.token.clone(), client_id.clone()).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.audit(&admin, "client.deleted").await.len(), 1);
    assert!(matches!(
        clients::authenticate(&app.state.db, &client_id, None).await,
        Err(ClientAuthError::Unknown)
    ));

    // The domain service directly: the same rules.
    let registered = clients::register(
        &app.state.db,
        NewClient {
            name: "Direct".into(),
            redirect_uris: vec![CALLBACK.into()],
            ..NewClient::default()
        },
        Actor {
            id: "test",
            ip: None,
        },
        app.state.clock.now(),
    )
    .await
    .expect("registered");
    assert!(registered.secret.is_some());
    assert!(registered.client.has_redirect_uri(CALLBACK));
    assert!(!registered
        .client
        .has_redirect_uri("http://127.0.0.1:8081/auth/callback/"));
    assert!(!registered
        .client
        .has_redirect_uri("http://127.0.0.1:8081/auth"));
}

backend_tests!(
    a_confidential_client_gets_its_secret_once_and_is_listed_without_it,
    a_public_client_has_no_secret_and_may_not_present_one,
    hostile_registrations_are_refused_field_by_field,
    only_admins_manage_clients_and_deletion_is_audited,
);
