//! Mail: sign-up verification, password reset and address change, over a
//! real SMTP conversation with a sink on a loopback port; the queue's
//! retries when the server is down; the `.eml` outbox without a server.

use std::time::Duration;

use auth_server::mail::{PlainSmtp, Transport};
use reqwest::StatusCode;
use serde_json::{json, Value};
use signet_service::testing::{ReceivedMail, SmtpSink};

use crate::helpers::{
    assert_problem, backend_tests, claims_of, json_body, Backend, TestApp, PASSWORD,
};

async fn app_with_sink(backend: Backend, extra: &[(&str, &str)]) -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let mut vars = vec![("SMTP_URL", url.as_str())];
    vars.extend_from_slice(extra);
    (TestApp::spawn_with(backend, &vars).await, sink)
}

/// The `sge_…` token of the one link in a mail.
fn token_in(mail: &ReceivedMail) -> String {
    let body = mail.body();
    let at = body.find("token=sge_").expect("a link with a token") + "token=".len();
    body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

fn link_in(mail: &ReceivedMail) -> String {
    let body = mail.body();
    body.lines()
        .find(|l| l.starts_with("http"))
        .expect("a link")
        .trim()
        .to_owned()
}

async fn post(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    app.post_json(path, body).await
}

async fn sign_up(app: &TestApp, email: &str) -> reqwest::Response {
    app.signup(&json!({ "email": email, "password": PASSWORD }))
        .await
}

async fn a_new_account_confirms_its_address_with_the_mailed_link_once(backend: Backend) {
    let (app, sink) = app_with_sink(backend, &[]).await;
    assert_eq!(
        sign_up(&app, "verify@example.com").await.status(),
        StatusCode::ACCEPTED
    );
    let mail = sink.wait_for("verify@example.com", 1).await.remove(0);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Confirm your email address")
    );
    assert!(mail.header("From").is_some_and(|f| f.contains("noreply@")));
    let link = link_in(&mail);
    assert!(
        link.starts_with(&format!("{}/account/verify-email?token=sge_", app.address)),
        "{link}"
    );
    let token = token_in(&mail);

    // Not verified yet, and opening the link alone changes nothing (mail
    // scanners follow links): it shows a button.
    let before = app.token_for("verify@example.com", PASSWORD).await;
    assert_eq!(claims_of(&before)["email_verified"], false);
    let page = app.client.get(&link).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("Confirm my address"), "{html}");
    assert_eq!(
        json_body(app.me(&before).await).await["email_verified"],
        false
    );

    let response = post(
        &app,
        "/api/v1/auth/verify-email",
        &json!({ "token": token }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let after = app.token_for("verify@example.com", PASSWORD).await;
    assert_eq!(claims_of(&after)["email_verified"], true);
    assert_eq!(
        json_body(app.me(&after).await).await["email_verified"],
        true
    );
    // Forward-auth tells the services.
    let service = app.service_audience_token("verify@example.com").await;
    let gate = app.get_with_token("/api/v1/auth/verify", &service).await;
    assert_eq!(gate.headers()["x-auth-email-verified"], "true");

    // Once only; and a made-up or truncated token is the same refusal.
    for bad in [
        token.as_str(),
        "sge_made-up",
        &token[..token.len() - 2],
        "x",
    ] {
        let response = post(&app, "/api/v1/auth/verify-email", &json!({ "token": bad })).await;
        assert_problem(response, StatusCode::BAD_REQUEST).await;
    }
    let used = app.client.get(&link).send().await.expect("page");
    assert_eq!(used.status(), StatusCode::BAD_REQUEST);
}

async fn a_verification_link_expires_after_a_day(backend: Backend) {
    let (app, sink) = app_with_sink(backend, &[]).await;
    sign_up(&app, "late@example.com").await;
    let token = token_in(&sink.wait_for("late@example.com", 1).await[0]);
    app.state.clock.advance(Duration::from_secs(24 * 3600 + 60));
    let response = post(
        &app,
        "/api/v1/auth/verify-email",
        &json!({ "token": token }),
    )
    .await;
    assert_problem(response, StatusCode::BAD_REQUEST).await;
}

async fn signing_up_with_a_registered_address_mails_its_owner_instead(backend: Backend) {
    let (app, sink) = app_with_sink(backend, &[]).await;
    app.user("owner@example.com").await;
    sink.wait_for("owner@example.com", 1).await;
    let response = sign_up(&app, "Owner@Example.com").await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let mails = sink.wait_for("owner@example.com", 2).await;
    assert_eq!(
        mails[1].header("Subject").as_deref(),
        Some("Someone tried to sign up with your address")
    );
    assert!(
        !mails[1].body().contains("token="),
        "no link that does anything"
    );
}

async fn a_forgotten_password_is_reset_with_a_mailed_link_and_every_session_ends(backend: Backend) {
    let (app, sink) = app_with_sink(backend, &[]).await;
    let user = app.user("forgot@example.com").await;
    let login = app.login_json(&user.email).await;
    let refresh = login["refresh_token"].as_str().expect("rt").to_owned();

    // The same answer for a known and an unknown address; mail only to the known.
    let known = post(
        &app,
        "/api/v1/auth/password-reset",
        &json!({ "email": "Forgot@example.com" }),
    )
    .await;
    let unknown = post(
        &app,
        "/api/v1/auth/password-reset",
        &json!({ "email": "nobody@example.com" }),
    )
    .await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    assert_eq!(
        known.text().await.expect("body"),
        unknown.text().await.expect("body")
    );
    let mails = sink.wait_for("forgot@example.com", 2).await;
    let reset = mails
        .iter()
        .find(|m| m.header("Subject").as_deref() == Some("Reset your password"))
        .expect("the reset mail");
    assert!(link_in(reset).starts_with(&format!(
        "{}/account/password-reset/confirm?token=sge_",
        app.address
    )));
    let token = token_in(reset);
    assert!(
        !sink
            .received()
            .iter()
            .any(|m| m.to.iter().any(|t| t == "nobody@example.com")),
        "nothing to an unknown address"
    );

    // A password the policy refuses leaves the link usable.
    let weak = post(
        &app,
        "/api/v1/auth/password-reset/confirm",
        &json!({ "token": token, "new_password": "short" }),
    )
    .await;
    assert_problem(weak, StatusCode::UNPROCESSABLE_ENTITY).await;
    let done = post(
        &app,
        "/api/v1/auth/password-reset/confirm",
        &json!({ "token": token, "new_password": "a brand new passphrase" }),
    )
    .await;
    assert_eq!(done.status(), StatusCode::NO_CONTENT);

    // Every session ended; the old password is gone, the new one works.
    assert_eq!(app.me(&user.token).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.refresh(&refresh).await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&user.email, "a brand new passphrase")
            .await
            .status(),
        StatusCode::OK
    );
    let notices = sink.wait_for("forgot@example.com", 3).await;
    assert_eq!(
        notices[2].header("Subject").as_deref(),
        Some("Your password was reset")
    );
    // Once only.
    let again = post(
        &app,
        "/api/v1/auth/password-reset/confirm",
        &json!({ "token": token, "new_password": "yet another passphrase" }),
    )
    .await;
    assert_problem(again, StatusCode::BAD_REQUEST).await;
    let admin = app.admin().await;
    assert_eq!(app.audit(&admin, "password.reset").await.len(), 1);
}

async fn a_reset_link_expires_after_thirty_minutes_and_requests_are_limited(backend: Backend) {
    let (app, sink) = app_with_sink(backend, &[("RATE_LIMIT_PASSWORD_RESET_PER_IP", "3/1m")]).await;
    app.user("slow@example.com").await;
    let asked = post(
        &app,
        "/api/v1/auth/password-reset",
        &json!({ "email": "slow@example.com" }),
    )
    .await;
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let mails = sink.wait_for("slow@example.com", 2).await;
    let reset = mails
        .iter()
        .find(|m| m.header("Subject").as_deref() == Some("Reset your password"))
        .expect("the reset mail");
    let token = token_in(reset);
    app.state.clock.advance(Duration::from_secs(31 * 60));
    let late = post(
        &app,
        "/api/v1/auth/password-reset/confirm",
        &json!({ "token": token, "new_password": "a brand new passphrase" }),
    )
    .await;
    assert_problem(late, StatusCode::BAD_REQUEST).await;
    for _ in 0..2 {
        post(
            &app,
            "/api/v1/auth/password-reset",
            &json!({ "email": "x@example.com" }),
        )
        .await;
    }
    let limited = post(
        &app,
        "/api/v1/auth/password-reset",
        &json!({ "email": "y@example.com" }),
    )
    .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn strangers_cannot_flood_one_address_with_mail(backend: Backend) {
    let (app, sink) = app_with_sink(backend, &[("RATE_LIMIT_MAIL_PER_ADDRESS", "2/1h")]).await;
    for _ in 0..6 {
        let response = sign_up(&app, "victim@example.com").await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "the answer never changes"
        );
    }
    sink.wait_for("victim@example.com", 2).await;
    // Two mails in all (a link, then a notice): the rest were never queued.
    // (A sent mail leaves the queue just after the server took it.)
    let mut queued = app.count_rows("mail_outbox").await;
    for _ in 0..500 {
        if queued == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        queued = app.count_rows("mail_outbox").await;
    }
    assert_eq!(queued, 0, "nothing else queued");
    assert_eq!(sink.wait_for("victim@example.com", 2).await.len(), 2);
}

async fn an_address_change_takes_effect_when_the_new_address_confirms(backend: Backend) {
    let (app, sink) = app_with_sink(backend, &[]).await;
    let user = app.user("old@example.com").await;
    let change = |password: &str, new_email: &str| {
        app.client
            .post(app.url("/api/v1/account/email"))
            .bearer_auth(&user.token)
            .json(&json!({ "new_email": new_email, "password": password }))
            .send()
    };
    let wrong = change("not the password", "new@example.com")
        .await
        .expect("request");
    assert_problem(wrong, StatusCode::FORBIDDEN).await;
    let bad = change(PASSWORD, "not an address").await.expect("request");
    assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    let asked = change(PASSWORD, "New@example.com").await.expect("request");
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let mail = sink.wait_for("new@example.com", 1).await.remove(0);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Confirm your new email address")
    );
    // Nothing changed yet.
    assert_eq!(
        json_body(app.me(&user.token).await).await["email"],
        "old@example.com"
    );
    let confirmed = post(
        &app,
        "/api/v1/auth/verify-email",
        &json!({ "token": token_in(&mail) }),
    )
    .await;
    assert_eq!(confirmed.status(), StatusCode::NO_CONTENT);
    let me = json_body(app.me(&user.token).await).await;
    assert_eq!(
        (me["email"].as_str(), me["email_verified"].as_bool()),
        (Some("new@example.com"), Some(true))
    );
    let told = sink.wait_for("old@example.com", 2).await;
    assert_eq!(
        told[1].header("Subject").as_deref(),
        Some("Your account's address changed")
    );
    assert_eq!(
        app.login("new@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn a_mail_server_that_is_down_fails_no_sign_up_and_the_mail_follows_later(backend: Backend) {
    let sink = SmtpSink::start().await;
    let url = sink.url();
    let addr = sink.stop().await;
    let app = TestApp::spawn_with(backend, &[("SMTP_URL", url.as_str())]).await;
    assert_eq!(
        sign_up(&app, "patient@example.com").await.status(),
        StatusCode::ACCEPTED
    );
    // The sender tried and will try again later; the mail waits in the queue.
    let mut attempted = false;
    for _ in 0..500 {
        use sea_orm::{EntityTrait, QuerySelect};
        let rows = auth_server::mail::entity::Entity::find()
            .limit(1)
            .all(&app.state.db)
            .await
            .expect("query");
        if rows
            .first()
            .is_some_and(|r| r.attempts >= 1 && r.last_error.is_some())
        {
            attempted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(attempted, "the sender never tried");
    assert_eq!(app.count_rows("mail_outbox").await, 1);

    // The server is back; past the back-off the mail goes out.
    let sink = SmtpSink::start_on(&addr.to_string()).await;
    app.state.clock.advance(Duration::from_secs(31));
    let mail = sink.wait_for("patient@example.com", 1).await.remove(0);
    assert!(mail.body().contains("token=sge_"));
    for _ in 0..500 {
        if app.count_rows("mail_outbox").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("a sent mail stays in the queue");
}

async fn a_mail_the_server_never_takes_is_given_up_after_the_last_attempt_and_kept(
    backend: Backend,
) {
    use auth_server::mail::{entity as outbox, Sender, MAX_ATTEMPTS};
    use sea_orm::EntityTrait;
    let sink = SmtpSink::start().await;
    let url = sink.url();
    sink.stop().await;
    let app = TestApp::spawn_with(backend, &[("SMTP_URL", url.as_str())]).await;
    assert_eq!(
        sign_up(&app, "unlucky@example.com").await.status(),
        StatusCode::ACCEPTED
    );
    // A sender driven by hand over the same queue (the app's own competes
    // for each attempt through the same claim, so the count stays exact).
    let sender = Sender {
        logout: None,
        db: app.state.db.clone(),
        queue: app.state.mail.clone(),
        transport: std::sync::Arc::new(
            Transport::smtp(&url, PlainSmtp::LoopbackOnly).expect("transport"),
        ),
        from: "signet@example.com".parse().expect("mailbox"),
        clock: app.state.clock.clone(),
        metrics: app.state.metrics.clone(),
    };
    let row = || async {
        outbox::Entity::find()
            .one(&app.state.db)
            .await
            .expect("query")
            .expect("the mail is kept")
    };
    for _ in 0..=MAX_ATTEMPTS {
        if row().await.failed_at.is_some() {
            break;
        }
        sender.send_due().await.expect("queue");
        // Past the longest back-off (an hour).
        app.state.clock.advance(Duration::from_secs(3601));
    }
    let given_up = row().await;
    assert!(given_up.failed_at.is_some(), "never given up");
    assert_eq!(given_up.attempts, MAX_ATTEMPTS);
    assert!(given_up.last_error.is_some());
    // A given-up mail is not tried again, however long one waits.
    app.state.clock.advance(Duration::from_secs(24 * 3600));
    assert_eq!(sender.send_due().await.expect("queue"), 0);
    assert_eq!(row().await.attempts, MAX_ATTEMPTS);
}

async fn without_smtp_mail_is_written_to_the_outbox_folder(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let outbox = dir.path().join("outbox");
    let app = TestApp::spawn_with(
        backend,
        &[("MAIL_OUTBOX_DIR", outbox.to_str().expect("utf-8"))],
    )
    .await;
    sign_up(&app, "files@example.com").await;
    for _ in 0..500 {
        if let Ok(entries) = std::fs::read_dir(&outbox) {
            let files: Vec<_> = entries.filter_map(Result::ok).collect();
            if let Some(file) = files.first() {
                let text = std::fs::read_to_string(file.path()).expect("eml");
                assert!(text.contains("To: files@example.com"), "{text}");
                // Quoted-printable: `=` is written `=3D`.
                assert!(
                    text.contains("token=3Dsge_") || text.contains("token=sge_"),
                    "{text}"
                );
                assert!(file.path().extension().is_some_and(|e| e == "eml"));
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt as _;
                    let mode = std::fs::metadata(file.path())
                        .expect("meta")
                        .permissions()
                        .mode();
                    assert_eq!(mode & 0o077, 0, "private: {mode:o}");
                }
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no .eml file was written");
}

async fn addresses_that_could_inject_a_header_are_refused(backend: Backend) {
    let (app, sink) = app_with_sink(backend, &[]).await;
    for email in [
        "a@example.com\r\nBcc: all@example.com",
        "a@example.com\nSubject: x",
        "\"Ann\" <ann@example.com>",
    ] {
        let response = sign_up(&app, email).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        let response = post(
            &app,
            "/api/v1/auth/password-reset",
            &json!({ "email": email }),
        )
        .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    assert_eq!(app.count_rows("users").await, 0);
    assert_eq!(app.count_rows("mail_outbox").await, 0);
    assert!(sink.received().is_empty());
}

async fn with_require_verified_email_an_unverified_account_cannot_sign_in(backend: Backend) {
    let (app, sink) = app_with_sink(backend, &[("REQUIRE_VERIFIED_EMAIL", "true")]).await;
    sign_up(&app, "strict@example.com").await;
    sink.wait_for("strict@example.com", 1).await;
    let refused = app.login("strict@example.com", PASSWORD).await;
    assert_problem(refused, StatusCode::FORBIDDEN).await;
    // The owner gets a fresh link, which works.
    let mails = sink.wait_for("strict@example.com", 2).await;
    let response = post(
        &app,
        "/api/v1/auth/verify-email",
        &json!({ "token": token_in(&mails[1]) }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.login("strict@example.com", PASSWORD).await.status(),
        StatusCode::OK
    );
    // A wrong password is still the one 401 for everyone.
    assert_problem(
        app.login("strict@example.com", "wrong password here").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn smtp_without_starttls_sends_nothing_when_tls_is_required() {
    let sink = SmtpSink::start().await;
    let transport = Transport::smtp(&sink.url(), PlainSmtp::Never).expect("transport");
    let from = "Signet <noreply@example.com>".parse().expect("mailbox");
    let sent = transport
        .deliver(&from, "ann@example.com", "Hello", "a body")
        .await;
    assert!(sent.is_err(), "the sink offers no STARTTLS");
    assert!(sink.received().is_empty(), "nothing was sent in the clear");
    // The same sink with plain SMTP allowed (loopback) receives it.
    let plain = Transport::smtp(&sink.url(), PlainSmtp::LoopbackOnly).expect("transport");
    plain
        .deliver(&from, "ann@example.com", "Hello", "a body")
        .await
        .expect("sent");
    let got = sink.wait_for("ann@example.com", 1).await;
    assert_eq!(got[0].header("Subject").as_deref(), Some("Hello"));
}

/// A browser's form post on this server's own page: the page's CSRF cookie
/// and token, its hidden fields, and `fields`.
async fn submit(
    app: &TestApp,
    page: reqwest::Response,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let cookie = crate::helpers::value_of(
        &crate::helpers::set_cookie(page.headers(), "signet_csrf").expect("csrf cookie"),
    );
    let html = page.text().await.expect("html");
    let mut form: Vec<(String, String)> = html
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split_once("value=\"")?.1.split_once('"')?.0;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    form.extend(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    app.client
        .post(app.url(action))
        .header("cookie", cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .expect("request")
}

async fn a_person_recovers_a_password_and_confirms_an_address_in_the_browser(backend: Backend) {
    let (app, sink) = app_with_sink(backend, &[]).await;
    app.user("browser@example.com").await;
    let verify = sink.wait_for("browser@example.com", 1).await.remove(0);

    // The confirmation page's button.
    let page = app.client.get(link_in(&verify)).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let done = submit(&app, page, "/account/verify-email", &[]).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done
        .text()
        .await
        .expect("html")
        .contains("Your address is confirmed"));

    // "Forgot password?" from the sign-in page, then the mailed link.
    let sign_in = include_str!("../../templates/signin.html");
    assert!(sign_in.contains("href=\"/account/password-reset\""));
    let form = app.get("/account/password-reset").await;
    assert_eq!(form.status(), StatusCode::OK);
    let asked = submit(
        &app,
        form,
        "/account/password-reset",
        &[("email", "browser@example.com")],
    )
    .await;
    assert_eq!(asked.status(), StatusCode::OK);
    let asked_page = asked.text().await.expect("html");
    let form = app.get("/account/password-reset").await;
    let unknown = submit(
        &app,
        form,
        "/account/password-reset",
        &[("email", "nobody@example.com")],
    )
    .await;
    assert_eq!(
        unknown.text().await.expect("html"),
        asked_page,
        "the same page for an unknown address"
    );
    let reset = sink.wait_for("browser@example.com", 2).await.remove(1);
    let page = app.client.get(link_in(&reset)).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let weak = submit(
        &app,
        page,
        "/account/password-reset/confirm",
        &[("new_password", "short")],
    )
    .await;
    assert_eq!(
        weak.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "shown again"
    );
    let set = submit(
        &app,
        weak,
        "/account/password-reset/confirm",
        &[("new_password", "a long new browser passphrase")],
    )
    .await;
    assert_eq!(set.status(), StatusCode::OK);
    assert!(set
        .text()
        .await
        .expect("html")
        .contains("Your password is set"));
    assert_eq!(
        app.login("browser@example.com", "a long new browser passphrase")
            .await
            .status(),
        StatusCode::OK
    );
    // The used link shows a page that says so, never the form.
    let used = app.client.get(link_in(&reset)).send().await.expect("page");
    assert_eq!(used.status(), StatusCode::BAD_REQUEST);
    // A form post without the page's CSRF cookie changes nothing.
    let forged = app
        .client
        .post(app.url("/account/password-reset/confirm"))
        .form(&[
            ("token", token_in(&reset).as_str()),
            ("new_password", "attacker passphrase"),
        ])
        .send()
        .await
        .expect("request");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

backend_tests!(
    a_person_recovers_a_password_and_confirms_an_address_in_the_browser,
    a_new_account_confirms_its_address_with_the_mailed_link_once,
    a_verification_link_expires_after_a_day,
    signing_up_with_a_registered_address_mails_its_owner_instead,
    a_forgotten_password_is_reset_with_a_mailed_link_and_every_session_ends,
    a_reset_link_expires_after_thirty_minutes_and_requests_are_limited,
    strangers_cannot_flood_one_address_with_mail,
    an_address_change_takes_effect_when_the_new_address_confirms,
    a_mail_server_that_is_down_fails_no_sign_up_and_the_mail_follows_later,
    a_mail_the_server_never_takes_is_given_up_after_the_last_attempt_and_kept,
    without_smtp_mail_is_written_to_the_outbox_folder,
    addresses_that_could_inject_a_header_are_refused,
    with_require_verified_email_an_unverified_account_cannot_sign_in,
);
