//! The console's applications over HTTP: registered by the registry's rules
//! (its secret on that page alone), changed, given a new secret and deleted
//! after the admin's password; and the admin API's `PATCH` and `/secret`
//! that share those functions.

use reqwest::StatusCode;
use serde_json::json;

use crate::admin_pages::console;
use crate::helpers::{backend_tests, json_body, Backend, TestApp, PASSWORD};

fn text_in(html: &str, marker: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))
        + marker.len();
    html[at..].split('<').next().expect("text").to_owned()
}

async fn secret_works(app: &TestApp, client_id: &str, secret: &str) -> bool {
    auth_server::clients::authenticate(&app.state.db, client_id, Some(secret))
        .await
        .is_ok()
}

async fn an_application_is_registered_changed_given_a_new_secret_and_deleted_in_the_console(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let mut browser = console(&app, &admin).await;
    let page = browser.get("/admin/clients").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("No application is registered yet."));

    // The registry's rules: no wildcard, no plain http off loopback.
    let refused = browser
        .post(
            "/admin/clients/register",
            &[
                ("name", "<i>Blog</i>"),
                (
                    "redirect_uris",
                    "http://blog.example.com/cb\nhttps://*.example.com/cb",
                ),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("id=\"redirect_uris-error\""),
        "{}",
        refused.html
    );
    assert!(
        refused.html.contains("https://*.example.com/cb"),
        "the form keeps what was typed"
    );

    let made = browser
        .post(
            "/admin/clients/register",
            &[
                ("name", "<i>Blog</i>"),
                ("redirect_uris", "https://blog.example.com/cb"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);
    assert!(!made.html.contains("<i>Blog</i>"), "the name is text");
    let client_id = text_in(&made.html, "<code id=\"new-client-id\">");
    let secret = text_in(&made.html, "<code class=\"secret\">");
    assert!(secret_works(&app, &client_id, &secret).await);
    let listed = browser.get("/admin/clients").await;
    assert!(!listed.html.contains(&secret), "the secret is shown once");
    assert!(listed.html.contains(&client_id));

    let base = format!("/admin/clients/{client_id}");
    browser.get(&base).await;
    let saved = browser
        .post(
            &format!("{base}/edit"),
            &[
                ("name", "Blog"),
                (
                    "redirect_uris",
                    "https://blog.example.com/cb https://blog.example.com/cb2",
                ),
                ("resources", "not-an-audience"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        saved.html.contains("id=\"resources-error\""),
        "{}",
        saved.html
    );
    let saved = browser
        .post(
            &format!("{base}/edit"),
            &[
                ("name", "Blog"),
                (
                    "redirect_uris",
                    "https://blog.example.com/cb https://blog.example.com/cb2",
                ),
            ],
        )
        .await;
    assert_eq!(
        saved.location.as_deref(),
        Some(&*format!("{base}?done=saved"))
    );
    let clients = json_body(app.get_with_token("/api/v1/clients", &admin.token).await).await;
    assert_eq!(
        clients[0]["redirect_uris"],
        json!([
            "https://blog.example.com/cb",
            "https://blog.example.com/cb2"
        ])
    );
    assert_eq!(
        app.audit(&admin, "client.updated").await[0]["actor"],
        admin.id.as_str()
    );

    browser.get(&base).await;
    let wrong = browser
        .post(&format!("{base}/secret"), &[("password", "not mine")])
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(
        secret_works(&app, &client_id, &secret).await,
        "nothing changed"
    );
    let rotated = browser
        .post(&format!("{base}/secret"), &[("password", PASSWORD)])
        .await;
    assert_eq!(rotated.status, StatusCode::OK);
    let new_secret = text_in(&rotated.html, "<code class=\"secret\">");
    assert!(
        !secret_works(&app, &client_id, &secret).await,
        "the old secret is dead"
    );
    assert!(secret_works(&app, &client_id, &new_secret).await);
    assert_eq!(
        app.audit(&admin, "client.secret_rotated").await[0]["actor"],
        admin.id.as_str()
    );

    let deleted = browser
        .post(&format!("{base}/delete"), &[("password", PASSWORD)])
        .await;
    assert_eq!(
        deleted.location.as_deref(),
        Some("/admin/clients?done=deleted")
    );
    assert_eq!(browser.get(&base).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count_rows("oauth_clients").await, 0);
}

async fn the_admin_api_changes_a_client_and_rotates_its_secret_by_the_same_rules(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let registered = app
        .client
        .post(app.url("/api/v1/clients"))
        .bearer_auth(&admin.token)
        .json(&json!({ "name": "CLI", "redirect_uris": ["http://127.0.0.1:9/cb"] }))
        .send()
        .await
        .expect("request");
    let body = json_body(registered).await;
    let client_id = body["client_id"].as_str().expect("client_id").to_owned();
    let path = format!("/api/v1/clients/{client_id}");
    let patch = |body: serde_json::Value| {
        app.client
            .patch(app.url(&path))
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
    };
    let bad = patch(json!({ "redirect_uris": ["https://*.example.com/cb"] }))
        .await
        .expect("request");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown_field = patch(json!({ "public": true })).await.expect("request");
    assert_eq!(unknown_field.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let good = patch(json!({ "name": "CLI 2" })).await.expect("request");
    assert_eq!(good.status(), StatusCode::OK);
    let view = json_body(good).await;
    assert_eq!(view["name"], "CLI 2");
    assert_eq!(view["redirect_uris"], json!(["http://127.0.0.1:9/cb"]));
    let rotated = app
        .client
        .post(app.url(&format!("{path}/secret")))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request");
    assert_eq!(rotated.status(), StatusCode::OK);
    assert_eq!(rotated.headers()["cache-control"], "no-store");
    let secret = json_body(rotated).await["client_secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert!(secret_works(&app, &client_id, &secret).await);
    let missing = app
        .client
        .post(app.url("/api/v1/clients/sgc_nope/secret"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let user = app.user("ada@example.com").await;
    let forbidden = app
        .client
        .post(app.url(&format!("{path}/secret")))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("request");
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
}

async fn an_unknown_application_is_a_404_and_a_public_one_gets_no_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let mut browser = console(&app, &admin).await;
    assert_eq!(
        browser.get("/admin/clients/sgc_nope").await.status,
        StatusCode::NOT_FOUND
    );
    browser.get("/admin/clients").await;
    let edit = browser
        .post(
            "/admin/clients/sgc_nope/edit",
            &[("name", "x"), ("redirect_uris", "https://a.example/cb")],
        )
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND);
    browser.get("/admin/clients").await;
    let made = browser
        .post(
            "/admin/clients/register",
            &[
                ("name", "Phone app"),
                ("redirect_uris", "com.example.app:/cb"),
                ("public", "yes"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);
    assert!(
        !made.html.contains("class=\"secret\""),
        "a public client has no secret"
    );
    let client_id = text_in(&made.html, "<code id=\"new-client-id\">");
    let page = browser.get(&format!("/admin/clients/{client_id}")).await;
    assert!(!page.html.contains("/secret\""), "no secret form for it");
    // A forged post for one: refused, and the client still has no secret.
    let forged = browser
        .post(
            &format!("/admin/clients/{client_id}/secret"),
            &[("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(forged.html.contains("A public application has no secret."));
    assert!(
        auth_server::clients::authenticate(&app.state.db, &client_id, None)
            .await
            .is_ok()
    );
}

async fn the_application_forms_refuse_posts_without_their_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let mut browser = console(&app, &admin).await;
    for path in [
        "/admin/clients/register",
        "/admin/clients/sgc_x/edit",
        "/admin/clients/sgc_x/secret",
        "/admin/clients/sgc_x/delete",
    ] {
        browser.get("/admin/clients").await;
        let refused = browser
            .post_raw(
                path,
                &[
                    ("name", "x"),
                    ("redirect_uris", "https://a.example/cb"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(app.count_rows("oauth_clients").await, 0);
}

backend_tests!(
    an_unknown_application_is_a_404_and_a_public_one_gets_no_secret,
    the_application_forms_refuse_posts_without_their_csrf_token,
    an_application_is_registered_changed_given_a_new_secret_and_deleted_in_the_console,
    the_admin_api_changes_a_client_and_rotates_its_secret_by_the_same_rules,
);
