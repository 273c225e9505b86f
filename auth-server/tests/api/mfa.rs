//! Second factors over HTTP: an authenticator app set up on the security
//! page and asked for at every sign-in (pages and REST), recovery codes,
//! the MFA policy (per account and `MFA_REQUIRED_ROLES`), step-up with
//! `acr_values=mfa`, and the attacks: replayed and guessed codes, stolen or
//! expired challenges, a challenge moved between the REST login and a
//! browser. Codes are computed here from the secret the page shows, at the
//! server's clock, which the tests move.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use signet_service::testing::SmtpSink;

use crate::account_pages::Browser;
use crate::authorize::{exchange_code, hidden_fields, query_of, request_params, rp};
use crate::helpers::{
    assert_problem, backend_tests, claims_of, json_body, Backend, TestApp, TestUser, PASSWORD,
};

/// A server that can seal authenticator secrets (a development key file).
async fn app(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("GENERATE_DEV_KEY", "true")];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(backend, &vars).await
}

/// The code an app with `secret` (base32) shows at the server's time, `steps`
/// 30-second steps from now.
fn code(app: &TestApp, secret: &str, steps: i64) -> String {
    let at = app.state.clock.now() + chrono::Duration::seconds(steps * 30);
    auth_server::testing::totp_code(secret, at)
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let at = html.find(start)? + start.len();
    Some(&html[at..at + html[at..].find(end)?])
}

fn secret_on(html: &str) -> String {
    between(html, "id=\"totp-secret\">", "<")
        .unwrap_or_else(|| panic!("a secret on the page: {html}"))
        .to_owned()
}

fn recovery_codes_on(html: &str) -> Vec<String> {
    html.split("<li><code>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</code>").map(|(code, _)| code.to_owned()))
        .collect()
}

/// Sign `user` in at the account pages (password only: no factor yet), set
/// up an app on the security page; its secret and the recovery codes.
async fn enrol<'a>(app: &'a TestApp, user: &TestUser) -> (Browser<'a>, String, Vec<String>) {
    let mut browser = Browser::new(app);
    browser.sign_in(&user.email, PASSWORD).await;
    let page = browser.get("/account/security").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("<svg"), "a QR code: {}", page.html);
    let secret = secret_on(&page.html);
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let first = code(app, &secret, 0);
    let done = browser
        .post("/account/security/totp", &[("code", &first)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    let codes = recovery_codes_on(&done.html);
    assert_eq!(codes.len(), 10, "{}", done.html);
    (browser, secret, codes)
}

async fn rest_login(app: &TestApp, email: &str) -> reqwest::Response {
    app.login(email, PASSWORD).await
}

async fn mfa_token(app: &TestApp, email: &str) -> String {
    let body = assert_problem(rest_login(app, email).await, StatusCode::UNAUTHORIZED).await;
    assert!(
        body["type"]
            .as_str()
            .expect("type")
            .ends_with("mfa_required"),
        "{body}"
    );
    body["mfa_token"].as_str().expect("mfa_token").to_owned()
}

async fn login_mfa(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/login/mfa",
        &json!({ "mfa_token": token, "code": code }),
    )
    .await
}

async fn an_app_is_set_up_on_the_security_page_and_asked_for_at_every_sign_in(backend: Backend) {
    let app = app(backend, &[]).await;
    let user = app.user("two@example.com").await;
    let admin = app.admin().await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    let account = browser.get("/account").await;
    assert!(
        account.html.contains("href=\"/account/security\""),
        "linked from /account"
    );
    let page = browser.get("/account/security").await;
    let secret = secret_on(&page.html);
    // The page shows the same waiting secret until it is confirmed.
    assert_eq!(
        secret_on(&browser.get("/account/security").await.html),
        secret
    );

    let wrong = browser
        .post("/account/security/totp", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.html.contains("role=\"alert\""), "{}", wrong.html);
    let right = code(&app, &secret, 0);
    let done = browser
        .post("/account/security/totp", &[("code", &right)])
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(recovery_codes_on(&done.html).len(), 10);
    let on = browser.get("/account/security?done=totp").await;
    assert!(on.html.contains("id=\"totp-status\""), "{}", on.html);
    assert!(
        !on.html.contains("id=\"totp-secret\""),
        "the secret is shown no more"
    );
    assert!(on.html.contains("10 of 10"), "{}", on.html);
    assert_eq!(app.audit(&admin, "mfa.totp_enrolled").await.len(), 1);

    // A new browser: the password leads to the second-factor page.
    let mut other = Browser::new(&app);
    other.get("/account/sign-in").await;
    let second = other
        .post(
            "/account/sign-in",
            &[("email", &user.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "no session yet");
    assert!(second.html.contains("name=\"code\""), "{}", second.html);
    assert!(!second.html.contains("name=\"password\""));
    assert!(!other.cookie_header().contains("signet_session"));
    assert_eq!(other.get("/account").await.status, StatusCode::SEE_OTHER);
    // The page came from a challenge in this browser's cookie, not the page.
    other.get("/account/sign-in").await;
    let again = other
        .post(
            "/account/sign-in",
            &[("email", &user.email), ("password", PASSWORD)],
        )
        .await;
    assert!(
        !again.html.contains("smf_"),
        "the challenge never reaches the page"
    );
    app.state.clock.advance(Duration::from_secs(30));
    let next = code(&app, &secret, 0);
    let signed_in = other.post("/account/sign-in", &[("code", &next)]).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.html
    );
    assert_eq!(signed_in.location.as_deref(), Some("/account"));
    assert_eq!(other.get("/account").await.status, StatusCode::OK);
    let logins = app.audit(&admin, "login.success").await;
    assert_eq!(logins[0]["detail"]["second_factor"], "totp", "{logins:?}");
}

async fn the_rest_login_answers_mfa_required_and_a_code_completes_it_once(backend: Backend) {
    let app = app(backend, &[]).await;
    let user = app.user("rest@example.com").await;
    let admin = app.admin().await;
    let (_, secret, _) = enrol(&app, &user).await;

    let token = mfa_token(&app, &user.email).await;
    assert!(token.starts_with("smf_"));
    app.state.clock.advance(Duration::from_secs(30));
    let first = code(&app, &secret, 0);
    let signed_in = login_mfa(&app, &token, &first).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let tokens = json_body(signed_in).await;
    let claims = claims_of(tokens["access_token"].as_str().expect("access token"));
    assert_eq!(claims["acr"], "mfa");
    assert_eq!(claims["amr"], json!(["pwd", "otp", "mfa"]));
    // A refreshed token keeps what the sign-in proved.
    let refreshed = json_body(
        app.refresh(tokens["refresh_token"].as_str().expect("refresh"))
            .await,
    )
    .await;
    assert_eq!(
        claims_of(refreshed["access_token"].as_str().expect("at"))["acr"],
        "mfa"
    );

    // The token is spent; and the same code again, in a new sign-in, is a replay.
    let spent = login_mfa(&app, &token, &first).await;
    let spent = assert_problem(spent, StatusCode::UNAUTHORIZED).await;
    assert!(spent["type"]
        .as_str()
        .expect("type")
        .ends_with("invalid-mfa-token"));
    let token = mfa_token(&app, &user.email).await;
    let replay = assert_problem(
        login_mfa(&app, &token, &first).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        replay["type"]
            .as_str()
            .expect("type")
            .ends_with("invalid-code"),
        "{replay}"
    );
    assert_eq!(app.audit(&admin, "mfa.code_replayed").await.len(), 1);
    // The code of the step before the one used is refused too.
    let older = code(&app, &secret, -1);
    assert_eq!(
        login_mfa(&app, &token, &older).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.state.clock.advance(Duration::from_secs(30));
    let fresh = code(&app, &secret, 0);
    assert_eq!(
        login_mfa(&app, &token, &fresh).await.status(),
        StatusCode::OK
    );
}

async fn recovery_codes_sign_in_once_each_and_each_use_is_mailed_and_audited(backend: Backend) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let app = app(backend, &[("SMTP_URL", url.as_str())]).await;
    let user = app.user("lost@example.com").await;
    let admin = app.admin().await;
    let (mut browser, _, codes) = enrol(&app, &user).await;

    let token = mfa_token(&app, &user.email).await;
    // Typed as people type them: upper case, with spaces for dashes.
    let typed = codes[3].to_uppercase().replace('-', " ");
    let signed_in = login_mfa(&app, &token, &typed).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let claims = claims_of(
        json_body(signed_in).await["access_token"]
            .as_str()
            .expect("at"),
    );
    assert_eq!(claims["acr"], "mfa");
    let token = mfa_token(&app, &user.email).await;
    assert_eq!(
        login_mfa(&app, &token, &codes[3]).await.status(),
        StatusCode::UNAUTHORIZED,
        "a recovery code works once"
    );
    let used = app.audit(&admin, "mfa.recovery_code_used").await;
    assert_eq!(used.len(), 1);
    assert_eq!(used[0]["detail"]["left"], 9);
    let mail = sink
        .wait_for(&user.email, 2)
        .await
        .into_iter()
        .find(|m| m.header("Subject").as_deref() == Some("A recovery code was used"))
        .expect("the notice, after the sign-up's verification mail");
    assert!(mail.body().contains("9 codes are left"), "{}", mail.body());
    let page = browser.get("/account/security").await;
    assert!(page.html.contains("9 of 10"), "{}", page.html);

    // New codes need the password, and replace the old ones.
    let refused = browser
        .post(
            "/account/security/recovery-codes",
            &[("password", "not the password")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fresh = browser
        .post(
            "/account/security/recovery-codes",
            &[("password", PASSWORD)],
        )
        .await;
    let fresh = recovery_codes_on(&fresh.html);
    assert_eq!(fresh.len(), 10);
    let token = mfa_token(&app, &user.email).await;
    assert_eq!(
        login_mfa(&app, &token, &codes[0]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_mfa(&app, &token, &fresh[0]).await.status(),
        StatusCode::OK
    );
}

async fn wrong_codes_spend_the_challenge_and_count_against_the_account(backend: Backend) {
    let app = app(backend, &[]).await;
    let user = app.user("guess@example.com").await;
    let (_, secret, _) = enrol(&app, &user).await;
    let token = mfa_token(&app, &user.email).await;
    for guess in ["000000", "111111", "222222", "333333", "444444"] {
        let wrong = login_mfa(&app, &token, guess).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    app.state.clock.advance(Duration::from_secs(30));
    let right = code(&app, &secret, 0);
    let spent = assert_problem(
        login_mfa(&app, &token, &right).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(
        spent["type"]
            .as_str()
            .expect("type")
            .ends_with("invalid-mfa-token"),
        "five wrong codes end the challenge: {spent}"
    );
}

async fn guessing_codes_hits_the_account_back_off(backend: Backend) {
    let app = app(backend, &[("LOGIN_FAILURES_BEFORE_BACKOFF", "3")]).await;
    let user = app.user("brute@example.com").await;
    let (_, secret, _) = enrol(&app, &user).await;
    let token = mfa_token(&app, &user.email).await;
    for guess in ["000000", "111111", "222222"] {
        assert_eq!(
            login_mfa(&app, &token, guess).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let right = code(&app, &secret, 1);
    let refused = login_mfa(&app, &token, &right).await;
    assert_eq!(
        refused.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right code waits out the back-off"
    );
    assert!(refused.headers().contains_key("retry-after"));
}

async fn a_challenge_expires_and_belongs_to_where_it_was_made(backend: Backend) {
    let app = app(backend, &[]).await;
    let user = app.user("moved@example.com").await;
    let (_, secret, _) = enrol(&app, &user).await;

    let token = mfa_token(&app, &user.email).await;
    app.state.clock.advance(Duration::from_secs(5 * 60 + 1));
    let late = assert_problem(
        login_mfa(&app, &token, &code(&app, &secret, 0)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(late["type"]
        .as_str()
        .expect("type")
        .ends_with("invalid-mfa-token"));

    // A browser's challenge is no REST token, and a REST token is no cookie.
    let mut browser = Browser::new(&app);
    browser.get("/account/sign-in").await;
    browser
        .post(
            "/account/sign-in",
            &[("email", &user.email), ("password", PASSWORD)],
        )
        .await;
    let cookie = browser
        .cookie_header()
        .split("; ")
        .find_map(|pair| pair.strip_prefix("signet_mfa="))
        .expect("the challenge cookie")
        .to_owned();
    app.state.clock.advance(Duration::from_secs(30));
    assert_eq!(
        login_mfa(&app, &cookie, &code(&app, &secret, 0))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let rest_token = mfa_token(&app, &user.email).await;
    let mut thief = Browser::new(&app);
    let page = thief.get("/account/sign-in").await;
    assert_eq!(page.status, StatusCode::OK);
    let response = app
        .client
        .post(app.url("/account/sign-in"))
        .header(
            "cookie",
            format!("{}; signet_mfa={rest_token}", thief.cookie_header()),
        )
        .header("origin", app.address.as_str())
        .header("sec-fetch-site", "same-origin")
        .form(&[
            (
                "csrf_token",
                crate::helpers::csrf_field(&thief.page).as_str(),
            ),
            ("code", code(&app, &secret, 0).as_str()),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "no session from a REST token"
    );
    // Garbage of every shape is a 401, never a 500.
    for garbage in ["", "smf_", "smf_\u{0}", &"x".repeat(5000)] {
        assert_eq!(
            login_mfa(&app, garbage, "123456").await.status(),
            StatusCode::UNAUTHORIZED,
            "{garbage:?}"
        );
    }
    let unknown = app
        .post_json(
            "/api/v1/auth/login/mfa",
            &json!({ "mfa_token": rest_token, "code": "1", "extra": 1 }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_required_role_walks_the_account_through_set_up_at_its_next_sign_in(backend: Backend) {
    let app = app(backend, &[("MFA_REQUIRED_ROLES", "admin")]).await;
    let admin_user = auth_server::accounts::create_admin(
        &app.state.db,
        &app.state.hasher,
        auth_server::accounts::NewUser {
            email: "boss@example.com".into(),
            password: auth_server::accounts::password::Password::new(PASSWORD),
            display_name: None,
            roles: vec!["admin".into()],
        },
        app.state.clock.now(),
    )
    .await
    .expect("admin");
    let refused = assert_problem(
        rest_login(&app, &admin_user.email).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(
        refused["type"]
            .as_str()
            .expect("type")
            .ends_with("mfa_enrollment_required"),
        "{refused}"
    );
    assert!(refused.get("mfa_token").is_none());

    let mut browser = Browser::new(&app);
    browser.get("/account/sign-in?next=/admin").await;
    let set_up = browser
        .post(
            "/account/sign-in",
            &[
                ("email", "boss@example.com"),
                ("password", PASSWORD),
                ("next", "/admin"),
            ],
        )
        .await;
    assert_eq!(set_up.status, StatusCode::OK);
    let secret = secret_on(&set_up.html);
    assert!(set_up.html.contains("<svg"));
    let wrong = browser
        .post(
            "/account/sign-in",
            &[("code", "123456"), ("next", "/admin")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(secret_on(&wrong.html), secret, "the same secret again");
    let done = browser
        .post(
            "/account/sign-in",
            &[("code", &code(&app, &secret, 0)), ("next", "/admin")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert_eq!(recovery_codes_on(&done.html).len(), 10);
    assert!(
        done.html.contains("href=\"/admin\""),
        "then on: {}",
        done.html
    );
    assert_eq!(
        browser.get("/admin/users").await.status,
        StatusCode::OK,
        "the console opens"
    );

    // From now on the REST login asks for the code, and the app stays.
    let _ = mfa_token(&app, "boss@example.com").await;
    let page = browser.get("/account/security").await;
    assert!(page.html.contains("required for your account"));
    let removal = browser
        .post("/account/security/totp/remove", &[("password", PASSWORD)])
        .await;
    assert_eq!(removal.status, StatusCode::CONFLICT);
}

async fn an_admin_requires_a_second_factor_for_one_account(backend: Backend) {
    let app = app(backend, &[]).await;
    let admin = app.admin().await;
    let user = app.user("flagged@example.com").await;
    let changed = app
        .patch_user(&admin.token, &user.id, &json!({ "mfa_required": true }))
        .await;
    assert_eq!(json_body(changed).await["mfa_required"], true);
    assert_eq!(app.audit(&admin, "user.mfa_required").await.len(), 1);
    let refused = assert_problem(rest_login(&app, &user.email).await, StatusCode::FORBIDDEN).await;
    assert!(refused["type"]
        .as_str()
        .expect("type")
        .ends_with("mfa_enrollment_required"));
    let changed = app
        .patch_user(&admin.token, &user.id, &json!({ "mfa_required": false }))
        .await;
    assert_eq!(json_body(changed).await["mfa_required"], false);
    assert_eq!(rest_login(&app, &user.email).await.status(), StatusCode::OK);
}

async fn acr_values_mfa_steps_a_password_session_up_with_the_second_factor(backend: Backend) {
    let app = app(backend, &[]).await;
    let rp = rp(&app, true).await;
    let user = app.user("step@example.com").await;
    // Signed in with the password, then the app set up: the session is `pwd`.
    let (mut browser, secret, _) = enrol(&app, &user).await;
    let authorize = |extra: &[(&str, &str)]| {
        let mut url = url::Url::parse(&app.url("/oauth/authorize")).expect("url");
        url.query_pairs_mut()
            .extend_pairs(request_params(&rp).iter().map(|(k, v)| (*k, v.as_str())))
            .extend_pairs(extra.iter().copied());
        format!("/oauth/authorize?{}", url.query().expect("query"))
    };
    let plain = browser.get(&authorize(&[])).await;
    assert_eq!(
        plain.status,
        StatusCode::SEE_OTHER,
        "no step-up asked: a code"
    );
    let code_value = query_of(plain.location.as_deref().expect("location"))["code"].clone();
    let tokens = json_body(exchange_code(&app, &rp, &code_value).await).await;
    assert_eq!(
        claims_of(tokens["id_token"].as_str().expect("id token"))["acr"],
        "pwd"
    );

    let asked = browser.get(&authorize(&[("acr_values", "mfa")])).await;
    assert_eq!(asked.status, StatusCode::OK, "the second-factor page");
    assert!(asked.html.contains("name=\"code\""));
    let mut form: Vec<(String, String)> = hidden_fields(&asked.html)
        .into_iter()
        .filter(|(name, _)| name != "csrf_token")
        .collect();
    app.state.clock.advance(Duration::from_secs(30));
    form.push(("code".into(), code(&app, &secret, 0)));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let stepped = browser.post("/oauth/authorize", &fields).await;
    assert_eq!(stepped.status, StatusCode::SEE_OTHER, "{}", stepped.html);
    let code_value = query_of(stepped.location.as_deref().expect("location"))["code"].clone();
    let tokens = json_body(exchange_code(&app, &rp, &code_value).await).await;
    let id = claims_of(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(id["acr"], "mfa");
    assert_eq!(id["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(
        claims_of(tokens["access_token"].as_str().expect("at"))["acr"],
        "mfa"
    );
    // The stronger session replaced the weaker one: no second step-up.
    let again = browser.get(&authorize(&[("acr_values", "mfa")])).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}

async fn a_step_up_does_not_bring_back_a_session_that_ended(backend: Backend) {
    let app = app(backend, &[]).await;
    let rp = rp(&app, true).await;
    let user = app.user("ended@example.com").await;
    let (mut browser, secret, _) = enrol(&app, &user).await;
    let mut url = url::Url::parse(&app.url("/oauth/authorize")).expect("url");
    url.query_pairs_mut()
        .extend_pairs(request_params(&rp).iter().map(|(k, v)| (*k, v.as_str())))
        .append_pair("acr_values", "mfa");
    let asked = browser
        .get(&format!("/oauth/authorize?{}", url.query().expect("query")))
        .await;
    assert!(asked.html.contains("name=\"code\""));
    // Every session of the account ends (the password changed elsewhere, an admin).
    auth_server::sessions::revoke_all_for_user(
        &app.state.db,
        uuid::Uuid::parse_str(&user.id).expect("uuid"),
        auth_server::events::SubjectChange::CredentialChange,
        "test",
        app.state.clock.now(),
    )
    .await
    .expect("ended");
    let mut form: Vec<(String, String)> = hidden_fields(&asked.html)
        .into_iter()
        .filter(|(name, _)| name != "csrf_token")
        .collect();
    app.state.clock.advance(Duration::from_secs(30));
    form.push(("code".into(), code(&app, &secret, 0)));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let refused = browser.post("/oauth/authorize", &fields).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.html);
    assert!(!refused.html.contains("code="), "no code issued");
}

async fn an_admin_with_a_second_factor_steps_up_before_the_console(backend: Backend) {
    let app = app(backend, &[]).await;
    let admin = app.admin().await;
    let (mut browser, secret, _) = enrol(&app, &admin).await;
    let console = browser.get("/admin/users").await;
    assert_eq!(
        console.status,
        StatusCode::OK,
        "the second-factor page first"
    );
    assert!(console.html.contains("name=\"code\""), "{}", console.html);
    assert!(!console.html.contains("flagged"), "no console content yet");
    app.state.clock.advance(Duration::from_secs(30));
    let done = browser
        .post(
            "/account/sign-in",
            &[("code", &code(&app, &secret, 0)), ("next", "/admin/users")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(done.location.as_deref(), Some("/admin/users"));
    let console = browser.get("/admin/users").await;
    assert_eq!(console.status, StatusCode::OK);
    assert!(!console.html.contains("name=\"code\""));
}

async fn removing_the_app_needs_the_password_and_a_password_then_suffices(backend: Backend) {
    let app = app(backend, &[]).await;
    let user = app.user("done@example.com").await;
    let (mut browser, _, _) = enrol(&app, &user).await;
    browser.get("/account/security").await;
    let wrong = browser
        .post(
            "/account/security/totp/remove",
            &[("password", "wrong password here")],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.html
    );
    let _ = mfa_token(&app, &user.email).await;
    let removed = browser
        .post("/account/security/totp/remove", &[("password", PASSWORD)])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(rest_login(&app, &user.email).await.status(), StatusCode::OK);
    assert_eq!(app.count_rows("recovery_codes").await, 0);
}

async fn without_a_sealing_key_no_app_can_be_set_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("plain@example.com").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    let page = browser.get("/account/security").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.html.contains("id=\"totp-secret\""));
    assert!(page.html.contains("not available"), "{}", page.html);
    let posted = browser
        .post("/account/security/totp", &[("code", "123456")])
        .await;
    assert_eq!(posted.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.count_rows("totp_factors").await, 0);
}

async fn secrets_are_sealed_at_rest(backend: Backend) {
    let app = app(backend, &[]).await;
    let user = app.user("sealed@example.com").await;
    let (_, secret, codes) = enrol(&app, &user).await;
    use sea_orm::EntityTrait as _;
    let rows = auth_server::mfa::totp_entity::Entity::find()
        .all(&app.state.db)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].secret_sealed.contains(&secret));
    let stored: Vec<Value> = auth_server::mfa::recovery_entity::Entity::find()
        .all(&app.state.db)
        .await
        .expect("rows")
        .into_iter()
        .map(|row| json!(row.code_hash))
        .collect();
    assert_eq!(stored.len(), 10);
    for code in &codes {
        assert!(!stored.iter().any(|h| h
            .as_str()
            .is_some_and(|h| h.contains(&code.replace('-', "")))));
    }
}

async fn an_admin_removes_the_second_factors_of_a_person_who_lost_their_devices(backend: Backend) {
    let app = app(backend, &[]).await;
    let admin = app.admin().await;
    let user = app.user("lostphone@example.com").await;
    let _ = enrol(&app, &user).await;
    let mut console = Browser::new(&app);
    console.sign_in(&admin.email, PASSWORD).await;
    let page = format!("/admin/users/{}", user.id);
    console.get(&page).await;
    let action = format!("/admin/users/{}/mfa-reset", user.id);
    let refused = console
        .post(&action, &[("password", "not the password")])
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert_eq!(app.count_rows("totp_factors").await, 1, "nothing removed");
    console.get(&page).await;
    let done = console.post(&action, &[("password", PASSWORD)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    assert_eq!(app.count_rows("totp_factors").await, 0);
    assert_eq!(app.count_rows("recovery_codes").await, 0);
    let reset = app.audit(&admin, "mfa.reset").await;
    assert_eq!(reset.len(), 1);
    assert_eq!(reset[0]["actor"], admin.id.as_str());
    assert_eq!(reset[0]["detail"]["recovery_codes"], 10);
    // The password alone signs in again.
    assert_eq!(rest_login(&app, &user.email).await.status(), StatusCode::OK);
}

backend_tests!(
    a_step_up_does_not_bring_back_a_session_that_ended,
    an_admin_removes_the_second_factors_of_a_person_who_lost_their_devices,
    an_app_is_set_up_on_the_security_page_and_asked_for_at_every_sign_in,
    the_rest_login_answers_mfa_required_and_a_code_completes_it_once,
    recovery_codes_sign_in_once_each_and_each_use_is_mailed_and_audited,
    wrong_codes_spend_the_challenge_and_count_against_the_account,
    guessing_codes_hits_the_account_back_off,
    a_challenge_expires_and_belongs_to_where_it_was_made,
    a_required_role_walks_the_account_through_set_up_at_its_next_sign_in,
    an_admin_requires_a_second_factor_for_one_account,
    acr_values_mfa_steps_a_password_session_up_with_the_second_factor,
    an_admin_with_a_second_factor_steps_up_before_the_console,
    removing_the_app_needs_the_password_and_a_password_then_suffices,
    without_a_sealing_key_no_app_can_be_set_up,
    secrets_are_sealed_at_rest,
);
