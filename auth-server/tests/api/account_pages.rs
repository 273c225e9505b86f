//! `/account`, the signed-in person's page, driven over HTTP the way a
//! browser without JavaScript uses it: its cookies, its forms with their
//! CSRF tokens, its redirects. Every change is checked where it lands (the
//! account API, the sessions, the audit trail), not only on the page.

use std::collections::HashMap;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{backend_tests, csrf_field, json_body, Backend, TestApp, TestUser, PASSWORD};

/// A browser: its cookies for the issuer, and the last page it was shown.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    cookies: HashMap<String, String>,
    pub page: String,
}

pub(crate) struct Answer {
    pub status: StatusCode,
    pub location: Option<String>,
    pub html: String,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: HashMap::new(),
            page: String::new(),
        }
    }

    pub(crate) fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Answer {
        for value in response.headers().get_all(SET_COOKIE) {
            let pair = value
                .to_str()
                .expect("ascii")
                .split(';')
                .next()
                .expect("pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().expect("ascii").to_owned());
        let html = response.text().await.expect("body");
        if status != StatusCode::SEE_OTHER && status != StatusCode::FOUND {
            self.page = html.clone();
        }
        Answer {
            status,
            location,
            html,
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Answer {
        let response = self
            .app
            .client
            .get(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
            )
            .send()
            .await
            .expect("request");
        self.keep(response).await
    }

    /// Post `fields` with the CSRF token of the page last shown, as that
    /// page's form would.
    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let csrf = csrf_field(&self.page);
        let mut form: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post_raw(path, &form).await
    }

    pub(crate) async fn post_raw(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let response = self
            .app
            .client
            .post(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .header("origin", self.app.address.as_str())
            .header("sec-fetch-site", "same-origin")
            .header(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
            )
            .form(form)
            .send()
            .await
            .expect("request");
        self.keep(response).await
    }

    /// Sign in at `/account/sign-in`; the account page is then shown.
    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let form = self.get("/account/sign-in").await;
        assert_eq!(form.status, StatusCode::OK);
        let done = self
            .post(
                "/account/sign-in",
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
        assert_eq!(done.location.as_deref(), Some("/account"));
        self.get("/account").await
    }
}

async fn person(app: &TestApp) -> TestUser {
    app.user("ada@example.com").await
}

async fn account_page_requires_a_sign_in_and_comes_back_after_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = person(&app).await;
    let mut browser = Browser::new(&app);
    let first = browser.get("/account").await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(first.location.as_deref(), Some("/account/sign-in"));

    let wrong = {
        browser.get("/account/sign-in").await;
        browser
            .post(
                "/account/sign-in",
                &[
                    ("email", user.email.as_str()),
                    ("password", "not it at all"),
                ],
            )
            .await
    };
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.html.contains("role=\"alert\""), "{}", wrong.html);

    let page = browser.sign_in(&user.email, PASSWORD).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("ada@example.com"));
    assert!(
        page.html.contains("this browser"),
        "the current session is marked"
    );
    assert!(page.html.contains("Firefox on Linux"), "{}", page.html);
    assert!(
        page.html.contains("Signed in"),
        "the sign-in is in the activity list"
    );
    // Signed in already: the sign-in page sends the browser on.
    let again = browser.get("/account/sign-in").await;
    assert_eq!(again.location.as_deref(), Some("/account"));
}

async fn a_display_name_is_saved_shown_as_text_and_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = person(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    let hostile = "<script>alert(1)</script> Ada";
    let saved = browser
        .post("/account/profile", &[("display_name", hostile)])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(saved.location.as_deref(), Some("/account?done=profile"));
    let page = browser.get("/account?done=profile").await;
    assert!(page.html.contains("Your profile is saved."));
    assert!(!page.html.contains("<script>alert(1)"), "{}", page.html);
    assert!(
        page.html.contains("&#60;script&#62;alert(1)"),
        "{}",
        page.html
    );
    let me = json_body(app.me(&user.token).await).await;
    assert_eq!(me["display_name"], hostile);
    let admin = app.admin().await;
    let events = app.audit(&admin, "user.profile_changed").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["actor"], user.id.as_str());

    // Too long: the page again, the message beside the field and announced.
    let long = "x".repeat(101);
    let refused = browser
        .post("/account/profile", &[("display_name", long.as_str())])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .html
        .contains("aria-describedby=\"display_name-error\""));
    assert!(refused
        .html
        .contains("id=\"display_name-error\" role=\"alert\""));
    let me = json_body(app.me(&user.token).await).await;
    assert_eq!(me["display_name"], hostile, "nothing was saved");
}

async fn the_account_api_changes_the_display_name_too(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = person(&app).await;
    let patch = |body: serde_json::Value| {
        app.client
            .patch(app.url("/api/v1/users/me"))
            .bearer_auth(&user.token)
            .json(&body)
            .send()
    };
    let changed = patch(json!({ "display_name": "Ada L." }))
        .await
        .expect("request");
    assert_eq!(changed.status(), StatusCode::OK);
    assert_eq!(json_body(changed).await["display_name"], "Ada L.");
    let unknown = patch(json!({ "email": "x@example.com" }))
        .await
        .expect("request");
    assert!(unknown.status().is_client_error(), "{}", unknown.status());
    let cleared = patch(json!({ "display_name": "  " }))
        .await
        .expect("request");
    assert_eq!(
        json_body(cleared).await["display_name"],
        serde_json::Value::Null
    );
}

async fn signing_out_another_session_ends_it_and_only_ones_own_can_be(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = person(&app).await;
    let other_person = app.user("grace@example.com").await;
    let mut browser = Browser::new(&app);
    let page = browser.sign_in(&user.email, PASSWORD).await;
    // `user.token`'s session (the REST login) is listed with this browser's.
    let sessions = json_body(
        app.get_with_token("/api/v1/users/me/sessions", &user.token)
            .await,
    )
    .await;
    let rest_session = sessions
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["current"] == true)
        .expect("the token's session")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(page.html.contains(&rest_session));

    // Someone else's session id: refused, and it lives on.
    let theirs = json_body(
        app.get_with_token("/api/v1/users/me/sessions", &other_person.token)
            .await,
    )
    .await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let refused = browser
        .post("/account/sessions/end", &[("session", theirs.as_str())])
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    assert_eq!(app.me(&other_person.token).await.status(), StatusCode::OK);
    browser.get("/account").await;
    let garbage = browser
        .post("/account/sessions/end", &[("session", "not-a-uuid")])
        .await;
    assert_eq!(garbage.status, StatusCode::NOT_FOUND);

    browser.get("/account").await;
    let ended = browser
        .post(
            "/account/sessions/end",
            &[("session", rest_session.as_str())],
        )
        .await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert_eq!(app.me(&user.token).await.status(), StatusCode::UNAUTHORIZED);
    let page = browser.get("/account?done=session").await;
    assert!(page.html.contains("That session is signed out."));
    assert!(!page.html.contains(&rest_session));
}

async fn signing_out_everywhere_else_keeps_only_this_browser(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = person(&app).await;
    let second = app.token_for(&user.email, PASSWORD).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    let done = browser.post("/account/sessions/end-others", &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    for token in [&user.token, &second] {
        assert_eq!(app.me(token).await.status(), StatusCode::UNAUTHORIZED);
    }
    let page = browser.get("/account?done=others").await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "this browser is still signed in"
    );
    assert!(page.html.contains("Every other session is signed out."));
    assert!(
        !page.html.contains("Sign out everywhere else"),
        "one session left"
    );
    let admin = app.admin().await;
    let events = app.audit(&admin, "session.revoked_others").await;
    assert_eq!(events[0]["detail"]["sessions_revoked"], 2);
}

async fn a_password_change_needs_the_current_one_and_signs_every_session_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = person(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    let wrong = browser
        .post(
            "/account/password",
            &[
                ("current_password", "not my password"),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.html.contains("id=\"current_password-error\""));
    let weak = browser
        .post(
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", "short")],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.html.contains("id=\"new_password-error\""));
    assert_eq!(app.me(&user.token).await.status(), StatusCode::OK);

    let changed = browser
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert!(changed.html.contains("Your password is changed"));
    assert_eq!(app.me(&user.token).await.status(), StatusCode::UNAUTHORIZED);
    let after = browser.get("/account").await;
    assert_eq!(after.location.as_deref(), Some("/account/sign-in"));
    let page = browser.sign_in(&user.email, "a brand new passphrase").await;
    assert!(page.html.contains("Password changed"));
}

async fn an_email_change_mails_a_link_after_the_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = person(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    let wrong = browser
        .post(
            "/account/email",
            &[
                ("new_email", "ada@new.example"),
                ("password", "nope nope nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.html.contains("id=\"email_password-error\""));
    assert!(wrong.html.contains("value=\"ada@new.example\""), "kept");
    let invalid = browser
        .post(
            "/account/email",
            &[("new_email", "not an address"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.html.contains("id=\"new_email-error\""));
    let sent = browser
        .post(
            "/account/email",
            &[("new_email", "ada@new.example"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(sent.location.as_deref(), Some("/account?done=email"));
    let admin = app.admin().await;
    assert_eq!(app.audit(&admin, "email.change_requested").await.len(), 1);
}

async fn removing_an_app_withdraws_its_consent_and_ends_its_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = person(&app).await;
    let registered = app
        .client
        .post(app.url("/api/v1/clients"))
        .bearer_auth(&admin.token)
        .json(&json!({
            "name": "Photo <b>Printer</b>",
            "redirect_uris": ["https://printer.example/callback"],
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let client_id = json_body(registered).await["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    let user_id = uuid::Uuid::parse_str(&user.id).expect("uuid");
    auth_server::oauth::consent::grant(
        &app.state.db,
        user_id,
        &client_id,
        "openid email",
        app.state.clock.now(),
    )
    .await
    .expect("consent");
    let mut browser = Browser::new(&app);
    let page = browser.sign_in(&user.email, PASSWORD).await;
    assert!(
        page.html.contains("Photo &#60;b&#62;Printer"),
        "{}",
        page.html
    );
    assert!(!page.html.contains("<b>Printer"));
    assert!(page.html.contains("see your email address"));
    let removed = browser
        .post("/account/apps/remove", &[("client_id", client_id.as_str())])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let consents = json_body(
        app.get_with_token("/api/v1/users/me/consents", &user.token)
            .await,
    )
    .await;
    assert_eq!(consents, json!([]));
    browser.get("/account").await;
    let again = browser
        .post("/account/apps/remove", &[("client_id", client_id.as_str())])
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn every_account_form_refuses_a_post_without_its_csrf_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = person(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    let forms: [(&str, &[(&str, &str)]); 8] = [
        (
            "/account/sign-in",
            &[("email", "ada@example.com"), ("password", PASSWORD)],
        ),
        ("/account/sign-out", &[]),
        ("/account/profile", &[("display_name", "Mallory")]),
        (
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "mallory's own passphrase"),
            ],
        ),
        (
            "/account/email",
            &[("new_email", "mallory@example.com"), ("password", PASSWORD)],
        ),
        (
            "/account/sessions/end",
            &[("session", "00000000-0000-0000-0000-000000000000")],
        ),
        ("/account/sessions/end-others", &[]),
        ("/account/apps/remove", &[("client_id", "x")]),
    ];
    for (path, fields) in forms {
        let csrf = csrf_field(&browser.page);
        let without = browser.post_raw(path, fields).await;
        assert_eq!(
            without.status,
            StatusCode::FORBIDDEN,
            "{path} without a token"
        );
        let mut forged: Vec<(&str, &str)> = vec![("csrf_token", "forged-token-value")];
        forged.extend_from_slice(fields);
        let wrong = browser.post_raw(path, &forged).await;
        assert_eq!(
            wrong.status,
            StatusCode::FORBIDDEN,
            "{path} with a forged token"
        );
        // The right token from another site: refused too.
        let mut fields_with: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
        fields_with.extend_from_slice(fields);
        let cross = app
            .client
            .post(app.url(path))
            .header(COOKIE, browser.cookie_header())
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .form(&fields_with)
            .send()
            .await
            .expect("request");
        assert_eq!(
            cross.status(),
            StatusCode::FORBIDDEN,
            "{path} from another site"
        );
        browser.get("/account").await;
    }
    let me = json_body(app.me(&user.token).await).await;
    assert_eq!(
        me["display_name"],
        serde_json::Value::Null,
        "nothing changed"
    );
    assert_eq!(app.me(&user.token).await.status(), StatusCode::OK);
}

async fn a_post_without_a_session_goes_to_the_sign_in_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut browser = Browser::new(&app);
    browser.get("/account/sign-in").await;
    let answer = browser
        .post("/account/profile", &[("display_name", "x")])
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location.as_deref(), Some("/account/sign-in"));
}

async fn signing_out_ends_this_browsers_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = person(&app).await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    let out = browser.post("/account/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::OK);
    assert!(out.html.contains("You are signed out"));
    assert_eq!(
        browser.get("/account").await.location.as_deref(),
        Some("/account/sign-in")
    );
    assert_eq!(
        app.me(&user.token).await.status(),
        StatusCode::OK,
        "other sessions live on"
    );
}

backend_tests!(
    account_page_requires_a_sign_in_and_comes_back_after_it,
    a_display_name_is_saved_shown_as_text_and_audited,
    the_account_api_changes_the_display_name_too,
    signing_out_another_session_ends_it_and_only_ones_own_can_be,
    signing_out_everywhere_else_keeps_only_this_browser,
    a_password_change_needs_the_current_one_and_signs_every_session_out,
    an_email_change_mails_a_link_after_the_password,
    removing_an_app_withdraws_its_consent_and_ends_its_sessions,
    every_account_form_refuses_a_post_without_its_csrf_token,
    a_post_without_a_session_goes_to_the_sign_in_page,
    signing_out_ends_this_browsers_session,
);
