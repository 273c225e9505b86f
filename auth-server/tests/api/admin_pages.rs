//! `/admin`, the console, over HTTP as a browser without JavaScript uses
//! it. Each action is checked where it lands (the account, its tokens,
//! the audit trail with the admin as actor), and every refusal is made.

use reqwest::StatusCode;
use serde_json::json;

use crate::account_pages::Browser;
use crate::helpers::{backend_tests, json_body, Backend, TestApp, TestUser, PASSWORD};

/// A browser signed in to the console as `admin`.
pub(crate) async fn console<'a>(app: &'a TestApp, admin: &TestUser) -> Browser<'a> {
    let mut browser = Browser::new(app);
    browser.sign_in(&admin.email, PASSWORD).await;
    let users = browser.get("/admin/users").await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.html);
    browser
}

async fn the_console_asks_for_a_sign_in_and_refuses_people_without_the_admin_role(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("ada@example.com").await;
    let mut browser = Browser::new(&app);
    let first = browser.get("/admin/users?q=ada").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let to_sign_in = first.location.expect("location");
    assert_eq!(to_sign_in, "/account/sign-in?next=%2Fadmin%2Fusers");
    let form = browser.get(&to_sign_in).await;
    assert!(
        form.html.contains("name=\"next\" value=\"/admin/users\""),
        "{}",
        form.html
    );
    assert!(form.html.contains("the admin console"));
    let signed_in = browser
        .post(
            "/account/sign-in",
            &[
                ("email", admin.email.as_str()),
                ("password", PASSWORD),
                ("next", "/admin/users"),
            ],
        )
        .await;
    assert_eq!(signed_in.location.as_deref(), Some("/admin/users"));
    assert_eq!(browser.get("/admin/users").await.status, StatusCode::OK);

    // A signed-in person without the role: a 403 page, on every page and form.
    let mut person = Browser::new(&app);
    person.sign_in(&user.email, PASSWORD).await;
    for path in [
        "/admin/users",
        "/admin/audit",
        &format!("/admin/users/{}", admin.id),
    ] {
        let refused = person.get(path).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(refused.html.contains("This page is for administrators"));
    }
    person.get("/account").await;
    let forged = person
        .post(
            &format!("/admin/users/{}/roles", user.id),
            &[("roles", "admin")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let me = json_body(app.me(&user.token).await).await;
    assert_eq!(me["roles"], json!([]), "nothing changed: {me}");
}

async fn an_admin_finds_users_by_part_of_their_email_or_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for (email, name) in [
        ("ada@example.com", "Ada Lovelace"),
        ("grace@example.com", "Grace <b>Hopper</b>"),
        ("alan_t@example.com", "Alan"),
    ] {
        let response = app
            .signup(&json!({ "email": email, "password": PASSWORD, "display_name": name }))
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let mut browser = console(&app, &admin).await;
    let hopper = browser.get("/admin/users?q=HOPPER").await;
    assert!(hopper.html.contains("grace@example.com"));
    assert!(!hopper.html.contains("ada@example.com"));
    assert!(!hopper.html.contains("<b>Hopper"), "names are text");
    // `_` is a character, not LIKE's wildcard; `%` likewise.
    let underscore = browser.get("/admin/users?q=n_t").await;
    assert!(underscore.html.contains("alan_t@example.com"));
    let percent = browser.get("/admin/users?q=%25").await;
    assert!(
        percent.html.contains("No user matches."),
        "{}",
        percent.html
    );

    // The admin API searches the same way, page by page.
    let first = json_body(
        app.get_with_token("/api/v1/users?q=example&limit=2", &admin.token)
            .await,
    )
    .await;
    assert_eq!(first["items"].as_array().expect("items").len(), 2);
    let cursor = first["next_cursor"].as_str().expect("more");
    let second = json_body(
        app.get_with_token(
            &format!("/api/v1/users?q=example&limit=2&cursor={cursor}"),
            &admin.token,
        )
        .await,
    )
    .await;
    let emails: Vec<&str> = first["items"]
        .as_array()
        .into_iter()
        .chain(second["items"].as_array())
        .flatten()
        .map(|u| u["email"].as_str().expect("email"))
        .collect();
    assert_eq!(emails.len(), 4, "{emails:?}");
}

async fn a_user_disabled_in_the_console_is_refused_at_their_next_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("ada@example.com").await;
    let mut browser = console(&app, &admin).await;
    let page = browser.get(&format!("/admin/users/{}", user.id)).await;
    assert!(page.html.contains("Disable this account"));
    let disabled = browser
        .post(&format!("/admin/users/{}/disable", user.id), &[])
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    assert_eq!(app.me(&user.token).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let events = app.audit(&admin, "user.disabled").await;
    assert_eq!(events[0]["actor"], admin.id.as_str());
    assert_eq!(events[0]["subject"], user.id.as_str());

    let page = browser
        .get(&format!("/admin/users/{}?done=disabled", user.id))
        .await;
    assert!(page.html.contains("The account is disabled"));
    browser
        .post(&format!("/admin/users/{}/enable", user.id), &[])
        .await;
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );

    // Not oneself.
    browser.get(&format!("/admin/users/{}", admin.id)).await;
    let own = browser
        .post(&format!("/admin/users/{}/disable", admin.id), &[])
        .await;
    assert_eq!(own.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(own.html.contains("role=\"alert\""));
}

async fn roles_are_set_checked_and_a_demoted_admin_is_refused_at_the_next_click(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let other_admin = app.admin_named("second@example.com").await;
    let user = app.user("ada@example.com").await;
    let mut browser = console(&app, &admin).await;
    let path = format!("/admin/users/{}", user.id);
    browser.get(&path).await;
    let bad = browser
        .post(&format!("{path}/roles"), &[("roles", "editor Not<Valid>")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("id=\"roles-error\""));
    let set = browser
        .post(&format!("{path}/roles"), &[("roles", "editor, admin")])
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER);
    let viewed = json_body(
        app.get_with_token(&format!("/api/v1/users/{}", user.id), &admin.token)
            .await,
    )
    .await;
    assert_eq!(viewed["roles"], json!(["editor", "admin"]));

    // The other admin takes this admin's role away over the API: the
    // console refuses this browser at its next request.
    let demoted = app
        .patch_user(&other_admin.token, &admin.id, &json!({ "roles": [] }))
        .await;
    assert_eq!(demoted.status(), StatusCode::OK);
    assert_eq!(
        browser.get("/admin/users").await.status,
        StatusCode::FORBIDDEN
    );
}

async fn deleting_a_user_asks_for_the_admins_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("ada@example.com").await;
    let mut browser = console(&app, &admin).await;
    let path = format!("/admin/users/{}", user.id);
    browser.get(&path).await;
    let wrong = browser
        .post(
            &format!("{path}/delete"),
            &[("password", "not my password")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.html.contains("id=\"delete_password-error\""));
    assert_eq!(
        app.me(&user.token).await.status(),
        StatusCode::OK,
        "still there"
    );
    let missing = browser.post(&format!("{path}/delete"), &[]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let deleted = browser
        .post(&format!("{path}/delete"), &[("password", PASSWORD)])
        .await;
    assert_eq!(
        deleted.location.as_deref(),
        Some("/admin/users?done=deleted")
    );
    let gone = app
        .get_with_token(&format!("/api/v1/users/{}", user.id), &admin.token)
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.audit(&admin, "admin.reauth_failed").await.len(), 2);
    assert_eq!(browser.get(&path).await.status, StatusCode::NOT_FOUND);
}

async fn ending_a_users_sessions_refuses_their_tokens(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("ada@example.com").await;
    let second = app.token_for(&user.email, PASSWORD).await;
    let mut browser = console(&app, &admin).await;
    let page = browser.get(&format!("/admin/users/{}", user.id)).await;
    assert!(page.html.contains("<dd>2</dd>"), "two active sessions");
    let ended = browser
        .post(&format!("/admin/users/{}/sessions-end", user.id), &[])
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    for token in [&user.token, &second] {
        assert_eq!(app.me(token).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK,
        "not disabled"
    );
    let events = app.audit(&admin, "user.sessions_ended").await;
    assert_eq!(events[0]["detail"]["sessions_revoked"], 2);

    // The admin API ends them the same way.
    let fresh = app.token_for(&user.email, PASSWORD).await;
    let api = app
        .client
        .delete(app.url(&format!("/api/v1/users/{}/sessions", user.id)))
        .bearer_auth(&admin.token)
        .send()
        .await
        .expect("request");
    assert_eq!(json_body(api).await["sessions_ended"], 2);
    assert_eq!(app.me(&fresh).await.status(), StatusCode::UNAUTHORIZED);
}

async fn the_audit_trail_filters_by_user_event_and_day_and_shows_details_as_text(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("ada@example.com").await;
    let registered = app
        .client
        .post(app.url("/api/v1/clients"))
        .bearer_auth(&admin.token)
        .json(&json!({
            "name": "<img src=x onerror=alert(1)>",
            "redirect_uris": ["https://printer.example/callback"],
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let mut browser = console(&app, &admin).await;
    let all = browser.get("/admin/audit").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.html.contains("<code>client.created</code>"));
    assert!(!all.html.contains("<img src=x"), "details are text");

    let by_user = browser.get(&format!("/admin/audit?user={}", user.id)).await;
    assert!(by_user.html.contains("<code>user.signup</code>"));
    assert!(!by_user.html.contains("<code>client.created</code>"));
    let by_event = browser.get("/admin/audit?event=client.created").await;
    assert!(by_event.html.contains("<code>client.created</code>"));
    assert!(!by_event.html.contains("<code>user.signup</code>"));

    let today = app.state.clock.now().date_naive();
    let from_tomorrow = browser
        .get(&format!(
            "/admin/audit?from={}",
            today.succ_opt().expect("day")
        ))
        .await;
    assert!(from_tomorrow.html.contains("No event matches."));
    let through_today = browser
        .get(&format!("/admin/audit?from={today}&to={today}"))
        .await;
    assert!(through_today.html.contains("<code>user.signup</code>"));

    let bad = browser.get("/admin/audit?from=yesterday&user=ada").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("id=\"from-error\""));
    assert!(bad.html.contains("id=\"user-error\""));

    // The admin API takes the same filters.
    let api = json_body(
        app.get_with_token(
            &format!("/api/v1/audit?user={}&event=user.signup", user.id),
            &admin.token,
        )
        .await,
    )
    .await;
    assert_eq!(api["items"].as_array().expect("items").len(), 1);
}

async fn every_console_form_refuses_a_post_without_its_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("ada@example.com").await;
    let mut browser = console(&app, &admin).await;
    let base = format!("/admin/users/{}", user.id);
    let forms: [(&str, &[(&str, &str)]); 6] = [
        ("roles", &[("roles", "admin")]),
        ("disable", &[]),
        ("enable", &[]),
        ("sessions-end", &[]),
        ("password-reset", &[]),
        ("delete", &[("password", PASSWORD)]),
    ];
    for (action, fields) in forms {
        browser.get(&base).await;
        let refused = browser.post_raw(&format!("{base}/{action}"), fields).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{action}");
    }
    let me = json_body(app.me(&user.token).await).await;
    assert_eq!(me["roles"], json!([]), "nothing changed");
}

async fn a_forced_password_reset_ends_the_old_password_and_mails_a_link(backend: Backend) {
    let sink = signet_service::testing::SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::spawn_with(backend, &[("SMTP_URL", url.as_str())]).await;
    let admin = app.admin().await;
    let user = app.user("reset-me@example.com").await;
    let mut browser = console(&app, &admin).await;
    browser.get(&format!("/admin/users/{}", user.id)).await;
    let forced = browser
        .post(&format!("/admin/users/{}/password-reset", user.id), &[])
        .await;
    assert_eq!(
        forced.location.as_deref(),
        Some(&*format!("/admin/users/{}?done=reset", user.id))
    );
    assert_eq!(app.me(&user.token).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let account = auth_server::accounts::admin::find(
        &app.state.db,
        uuid::Uuid::parse_str(&user.id).expect("uuid"),
    )
    .await
    .expect("account");
    assert!(
        !account.has_password(),
        "no password until the link sets one"
    );
    let rows = app.audit(&admin, "password.reset_forced").await;
    assert_eq!(rows[0]["actor"], admin.id.as_str());
    // The first mail is the sign-up's confirmation.
    let mail = sink
        .wait_for(&user.email, 2)
        .await
        .into_iter()
        .find(|m| m.subject().as_deref() == Some("Choose a new password"))
        .expect("the reset mail");
    let body = mail.body();
    let at = body.find("token=sge_").expect("a link") + "token=".len();
    let token: String = body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let done = app
        .post_json(
            "/api/v1/auth/password-reset/confirm",
            &json!({ "token": token, "new_password": "a brand new passphrase" }),
        )
        .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.login(&user.email, "a brand new passphrase")
            .await
            .status(),
        StatusCode::OK
    );
}

backend_tests!(
    a_forced_password_reset_ends_the_old_password_and_mails_a_link,
    the_console_asks_for_a_sign_in_and_refuses_people_without_the_admin_role,
    an_admin_finds_users_by_part_of_their_email_or_name,
    a_user_disabled_in_the_console_is_refused_at_their_next_request,
    roles_are_set_checked_and_a_demoted_admin_is_refused_at_the_next_click,
    deleting_a_user_asks_for_the_admins_password,
    ending_a_users_sessions_refuses_their_tokens,
    the_audit_trail_filters_by_user_event_and_day_and_shows_details_as_text,
    every_console_form_refuses_a_post_without_its_csrf_token,
);
