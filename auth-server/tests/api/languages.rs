//! The language of pages and mails: `ui_locales` first (and remembered for
//! the rest of the sign-in), then `Accept-Language`, then `DEFAULT_LOCALE`.

use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;
use signet_service::testing::SmtpSink;

use crate::code_grant::{client, REDIRECT, VERIFIER};
use crate::helpers::{backend_tests, Backend, TestApp, PASSWORD};

fn authorize_path(client_id: &str, extra: &str) -> String {
    let challenge = auth_server::oauth::codes::s256(VERIFIER);
    format!(
        "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=s1&code_challenge={challenge}&code_challenge_method=S256{extra}",
        url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    )
}

async fn ui_locales_chooses_the_language_and_the_browser_keeps_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let blog = client(&app, true).await;
    let german = app
        .client
        .get(app.url(&authorize_path(&blog.id, "&ui_locales=fr%20de-CH%20en")))
        .header(ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .expect("request");
    assert_eq!(german.status(), StatusCode::OK);
    assert_eq!(german.headers()["vary"], "Accept-Language");
    let remembered = german
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .find(|c| c.starts_with("signet_locale="))
        .expect("the language is remembered");
    assert!(remembered.starts_with("signet_locale=de;"), "{remembered}");
    assert!(remembered.contains("HttpOnly") && remembered.contains("SameSite=Lax"));
    let html = german.text().await.expect("html");
    assert!(html.contains("<html lang=\"de\">"), "{html}");
    assert!(html.contains("Bei Blog anmelden"), "{html}");
    assert!(html.contains("Passwort vergessen?"));
    // The form carries ui_locales back with the request.
    assert!(html.contains("name=\"ui_locales\""), "{html}");

    // A later page without the parameter: the cookie decides, over the
    // browser's Accept-Language.
    let later = app
        .client
        .get(app.url("/account/password-reset"))
        .header(COOKIE, "signet_locale=de")
        .header(ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("html");
    assert!(later.contains("Link senden"), "{later}");
}

async fn accept_language_decides_without_ui_locales_and_unknown_tags_fall_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = |language: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/account/sign-in"))
                .header(ACCEPT_LANGUAGE, language)
                .send()
                .await
                .expect("request")
                .text()
                .await
                .expect("html")
        }
    };
    assert!(page("fr-FR, de;q=0.8, en;q=0.5")
        .await
        .contains("Bei Ihrem Konto anmelden"));
    assert!(page("ja, zz-!!;q=0.9")
        .await
        .contains("Sign in to your account"));
    // A cookie naming a language without a catalogue is ignored.
    let junk = app
        .client
        .get(app.url("/account/sign-in"))
        .header(COOKIE, "signet_locale=<script>")
        .send()
        .await
        .expect("request");
    assert!(junk
        .headers()
        .get(SET_COOKIE)
        .is_none_or(|c| !c.to_str().unwrap_or_default().starts_with("signet_locale")));
    assert!(junk
        .text()
        .await
        .expect("html")
        .contains("<html lang=\"en\">"));
    // API answers are not pages: no Vary for a language.
    let api = app.get("/healthz").await;
    assert!(api
        .headers()
        .get("vary")
        .is_none_or(|v| !v.to_str().unwrap_or_default().contains("Accept-Language")));
}

async fn default_locale_speaks_when_nothing_else_does_and_mails_follow_the_request(
    backend: Backend,
) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = TestApp::spawn_with(backend, &[("DEFAULT_LOCALE", "de"), ("SMTP_URL", &url)]).await;
    let page = app
        .get("/account/sign-in")
        .await
        .text()
        .await
        .expect("html");
    assert!(page.contains("<html lang=\"de\">"), "{page}");
    let english = app
        .client
        .post(app.url("/api/v1/users"))
        .header(ACCEPT_LANGUAGE, "en-GB")
        .json(&json!({ "email": "en@example.com", "password": PASSWORD }))
        .send()
        .await
        .expect("request");
    assert_eq!(english.status(), StatusCode::ACCEPTED);
    let german = app
        .signup(&json!({ "email": "de@example.com", "password": PASSWORD }))
        .await;
    assert_eq!(german.status(), StatusCode::ACCEPTED);
    let mail = sink.wait_for("en@example.com", 1).await.remove(0);
    assert_eq!(
        mail.subject().as_deref(),
        Some("Confirm your email address")
    );
    let mail = sink.wait_for("de@example.com", 1).await.remove(0);
    assert_eq!(
        mail.subject().as_deref(),
        Some("Bestätigen Sie Ihre E-Mail-Adresse")
    );
    assert!(mail.body().starts_with("Hallo,"), "{}", mail.body());
    assert!(mail.body().contains("token=sge_"));
}

#[test]
fn a_default_locale_without_a_catalogue_fails_start_up_naming_it() {
    let error = auth_server::config::Config::from_lookup(|name| match name {
        "DEFAULT_LOCALE" => Some("fr".to_owned()),
        _ => None,
    })
    .expect_err("no French catalogue");
    assert_eq!(error.variable, "DEFAULT_LOCALE");
    assert!(error.message.contains("de, en"), "{}", error.message);
}

async fn a_refused_field_is_explained_in_the_pages_language_and_coded_for_programs(
    backend: Backend,
) {
    let app = TestApp::spawn_with(backend, &[("DEFAULT_LOCALE", "de")]).await;
    let user = app.user("lang@example.com").await;
    let mut browser = crate::account_pages::Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    let long = "n".repeat(101);
    let refused = browser
        .post("/account/profile", &[("display_name", long.as_str())])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("darf höchstens 100 Zeichen haben"),
        "{}",
        refused.html
    );
    // The API keeps English, and names the problem by a stable code.
    let api = app
        .client
        .patch(app.url("/api/v1/users/me"))
        .bearer_auth(&user.token)
        .json(&json!({ "display_name": long }))
        .send()
        .await
        .expect("request");
    assert_eq!(api.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = api.json().await.expect("json");
    assert_eq!(problem["errors"][0]["code"], "name_too_long", "{problem}");
    assert_eq!(
        problem["errors"][0]["message"],
        "must be at most 100 characters"
    );
}

backend_tests!(
    a_refused_field_is_explained_in_the_pages_language_and_coded_for_programs,
    ui_locales_chooses_the_language_and_the_browser_keeps_it,
    accept_language_decides_without_ui_locales_and_unknown_tags_fall_back,
    default_locale_speaks_when_nothing_else_does_and_mails_follow_the_request,
);
