//! blog-svc following auth-server's security-event feed: a token revoked at
//! the auth server (sign-out, password change, an admin disabling the
//! account) is refused by the blog's API long before it expires, while
//! fresh tokens keep working.

use reqwest::StatusCode;
use serde_json::{json, Value};
use signet_service::backend_tests;
use signet_service::testing::Backend;

use crate::stack::{Stack, PASSWORD};

async fn login(stack: &Stack, email: &str, password: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", stack.auth))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json")
}

async fn post_with(stack: &Stack, token: &str) -> StatusCode {
    reqwest::Client::new()
        .post(stack.blog_url("/api/v1/posts"))
        .bearer_auth(token)
        .json(&json!({ "title": "t", "body": "b" }))
        .send()
        .await
        .expect("post")
        .status()
}

/// Post with `token` until the blog refuses it (bounded); the refusals'
/// `WWW-Authenticate` says `invalid_token`.
async fn refused_soon(stack: &Stack, token: &str) {
    for _ in 0..500 {
        match post_with(stack, token).await {
            StatusCode::CREATED => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            StatusCode::UNAUTHORIZED => return,
            other => panic!("unexpected {other}"),
        }
    }
    panic!("the revocation never reached blog-svc");
}

async fn a_token_revoked_at_the_auth_server_is_refused_by_the_blog(backend: Backend) {
    let stack = Stack::spawn_following(backend).await;
    stack.user("revoked-api@example.com", "Rita").await;

    // Sign-out of one session.
    let session = login(&stack, "revoked-api@example.com", PASSWORD).await;
    let token = session["access_token"].as_str().expect("token").to_owned();
    let other = login(&stack, "revoked-api@example.com", PASSWORD).await["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(post_with(&stack, &token).await, StatusCode::CREATED);
    let revoked = reqwest::Client::new()
        .post(format!("{}/oauth/revoke", stack.auth))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::OK);
    refused_soon(&stack, &token).await;
    assert_eq!(
        post_with(&stack, &other).await,
        StatusCode::CREATED,
        "the user's other session is untouched"
    );

    // An admin disables the account: every token of it.
    auth_server::testing::admin(&stack.auth_state, "root@example.com", PASSWORD)
        .await
        .expect("admin");
    let admin = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", stack.auth))
        .json(&json!({ "email": "root@example.com", "password": PASSWORD, "audience": "signet-account" }))
        .send()
        .await
        .expect("login")
        .json::<Value>()
        .await
        .expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let me: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/users?limit=50", stack.auth))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("users")
        .json()
        .await
        .expect("json");
    let id = me["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|u| u["email"] == "revoked-api@example.com")
        .and_then(|u| u["id"].as_str())
        .expect("the user")
        .to_owned();
    let disabled = reqwest::Client::new()
        .patch(format!("{}/api/v1/users/{id}", stack.auth))
        .bearer_auth(&admin)
        .json(&json!({ "disabled": true }))
        .send()
        .await
        .expect("disable");
    assert_eq!(disabled.status(), StatusCode::OK);
    refused_soon(&stack, &other).await;
}

backend_tests!(a_token_revoked_at_the_auth_server_is_refused_by_the_blog);
