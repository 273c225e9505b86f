//! Back-Channel Logout from auth-server to the blog: signing out at
//! auth-server ends the blog's browser session, which the blog learns from
//! a logout token posted to it (no browser involved); anything else posted
//! there is refused and ends nothing.

use reqwest::header::LOCATION;
use reqwest::StatusCode;
use signet_service::backend_tests;
use signet_service::testing::Backend;

use crate::pages::{browser, csrf_of, get, sign_in};
use crate::stack::Stack;

/// Whether `/my` still shows the signed-in page (else it sends to sign in).
async fn signed_in_to_blog(stack: &Stack, browser: &reqwest::Client) -> bool {
    let response = browser.get(stack.blog_url("/my")).send().await.expect("my");
    response.status() == StatusCode::OK
}

async fn signing_out_at_auth_server_ends_the_blog_session(backend: Backend) {
    let stack = Stack::spawn(backend).await;
    stack.user("reader@example.com", "Reader").await;
    let browser = browser();
    sign_in(&stack, &browser, "reader@example.com").await;
    assert!(signed_in_to_blog(&stack, &browser).await);

    // At auth-server's account page: sign out.
    let (page, _) = get(&browser, &format!("{}/account", stack.auth)).await;
    let csrf = csrf_of(&page.text().await.expect("html"));
    let out = browser
        .post(format!("{}/account/sign-out", stack.auth))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("sign out");
    assert_eq!(out.status(), StatusCode::OK);

    // The notice travels through auth-server's outbox; the blog session
    // ends when it arrives (waited for, bounded; nothing timed).
    for _ in 0..500 {
        stack.auth_state.mail.wake();
        if !signed_in_to_blog(&stack, &browser).await {
            let again = browser.get(stack.blog_url("/my")).send().await.expect("my");
            assert_eq!(again.status(), StatusCode::SEE_OTHER);
            assert!(again.headers()[LOCATION]
                .to_str()
                .expect("location")
                .starts_with("/auth/login"));
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the blog session outlived the sign-out at auth-server");
}

async fn only_a_logout_token_for_the_blog_ends_anything(backend: Backend) {
    let stack = Stack::spawn(backend).await;
    stack.user("other@example.com", "Other").await;
    let browser = browser();
    sign_in(&stack, &browser, "other@example.com").await;
    // A real token of the issuer, but an access token, not a logout token.
    let access = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", stack.auth))
        .json(&serde_json::json!({
            "email": "other@example.com",
            "password": crate::stack::PASSWORD,
        }))
        .send()
        .await
        .expect("login")
        .json::<serde_json::Value>()
        .await
        .expect("json")["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let url = stack.blog_url("/auth/backchannel-logout");
    let http = reqwest::Client::new();
    for form in [
        vec![],
        vec![("logout_token", "not.a.token")],
        vec![("logout_token", access.as_str())],
    ] {
        let response = http.post(&url).form(&form).send().await.expect("post");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{form:?}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["error"], "invalid_request");
    }
    let json = http
        .post(&url)
        .json(&serde_json::json!({ "logout_token": access }))
        .send()
        .await
        .expect("post");
    assert_eq!(json.status(), StatusCode::BAD_REQUEST);
    assert!(signed_in_to_blog(&stack, &browser).await, "nothing ended");
}

backend_tests!(
    signing_out_at_auth_server_ends_the_blog_session,
    only_a_logout_token_for_the_blog_ends_anything,
);
