//! Passkeys and authenticator apps in a real headless Chromium: a passkey
//! made by Chromium's virtual authenticator (WebDriver's WebAuthn
//! extension) on the security page signs in with no email typed; an app
//! is set up from the secret the page shows, then its codes and a recovery
//! code complete sign-ins. The server is on `http://localhost:<port>`, the
//! secure context and domain that WebAuthn needs.

use std::time::Duration;

use fantoccini::{Client, Locator};
use signet_service::testing::browser::{
    arrive, browser, click, fill, text_of, virtual_authenticator, virtual_credentials,
    without_passkey_autofill,
};

use crate::helpers::{Backend, TestApp, PASSWORD};

async fn app() -> TestApp {
    TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("JWT_ISSUER", "http://localhost:0"),
            ("GENERATE_DEV_KEY", "true"),
        ],
    )
    .await
}

fn at(app: &TestApp, path: &str) -> String {
    format!("{}{path}", app.state.config.issuer)
}

async fn sign_in_with_password(client: &Client, app: &TestApp, email: &str) {
    client
        .goto(&at(app, "/account/sign-in"))
        .await
        .expect("sign-in page");
    fill(client, "email", email).await;
    fill(client, "password", PASSWORD).await;
    click(
        client,
        "form[action='/account/sign-in']:not([data-passkey]) button[type=submit]",
    )
    .await;
}

async fn sign_out(client: &Client, app: &TestApp) {
    click(client, "form.sign-out button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Id("notice"))
        .await
        .expect("signed out");
    client.goto(&at(app, "/account")).await.expect("account");
    arrive(client, &at(app, "/account/sign-in")).await;
}

fn code(app: &TestApp, secret: &str) -> String {
    auth_server::testing::totp_code(secret, app.state.clock.now())
}

#[tokio::test]
#[cfg_attr(
    not(signet_browser),
    ignore = "needs Chromium and chromedriver: install them (Debian: chromium, chromium-driver) or set CHROMIUM_BIN and CHROMEDRIVER_BIN"
)]
async fn chromium_adds_a_passkey_and_signs_in_with_it_without_typing_an_email() {
    let app = app().await;
    let user = app.user("chromium@example.com").await;
    let (client, _driver) = browser().await;
    let authenticator = virtual_authenticator(&client).await;

    sign_in_with_password(&client, &app, &user.email).await;
    arrive(&client, &at(&app, "/account")).await;
    click(&client, "#security-link").await;
    arrive(&client, &at(&app, "/account/security")).await;
    fill(&client, "passkey_name", "Chromium <test>").await;
    fill(&client, "passkey_password", PASSWORD).await;
    click(&client, "#passkey-add").await;
    arrive(&client, &at(&app, "/account/security?done=passkey")).await;
    assert!(text_of(&client, "#passkey-list")
        .await
        .contains("Chromium <test>"));
    assert_eq!(virtual_credentials(&client, &authenticator).await.len(), 1);

    // Signed out, the sign-in page offers the passkey in the email field's
    // autofill (conditional mediation); the virtual authenticator takes
    // that offer at once, as a person choosing it would. No email typed.
    click(&client, "form.sign-out button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Id("notice"))
        .await
        .expect("signed out");
    client
        .goto(&at(&app, "/account/sign-in"))
        .await
        .expect("sign-in page");
    client
        .wait()
        .for_element(Locator::Id("profile"))
        .await
        .expect("the account page");
    assert!(text_of(&client, "main").await.contains(&user.email));

    // A browser without autofill for passkeys: the button.
    without_passkey_autofill(&client).await;
    sign_out(&client, &app).await;
    click(&client, "#passkey-sign-in").await;
    arrive(&client, &at(&app, "/account")).await;
    client
        .wait()
        .for_element(Locator::Id("profile"))
        .await
        .expect("the account page");
    client.close().await.expect("close");
}

#[tokio::test]
#[cfg_attr(
    not(signet_browser),
    ignore = "needs Chromium and chromedriver: install them (Debian: chromium, chromium-driver) or set CHROMIUM_BIN and CHROMEDRIVER_BIN"
)]
async fn chromium_sets_up_an_app_then_signs_in_with_a_code_and_with_a_recovery_code() {
    let app = app().await;
    let user = app.user("app@example.com").await;
    let (client, _driver) = browser().await;
    sign_in_with_password(&client, &app, &user.email).await;
    arrive(&client, &at(&app, "/account")).await;
    client
        .goto(&at(&app, "/account/security"))
        .await
        .expect("security");
    let secret = text_of(&client, "#totp-secret").await;
    assert!(
        client.find(Locator::Css("#app svg")).await.is_ok(),
        "the QR code is shown"
    );
    fill(&client, "code", &code(&app, &secret)).await;
    click(
        &client,
        "form[action='/account/security/totp'] button[type=submit]",
    )
    .await;
    client
        .wait()
        .for_element(Locator::Id("recovery-codes"))
        .await
        .expect("the recovery codes");
    let codes: Vec<String> = text_of(&client, "#recovery-codes")
        .await
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10, "{codes:?}");
    click(&client, "#continue").await;
    arrive(&client, &at(&app, "/account/security?done=totp")).await;

    sign_out(&client, &app).await;
    sign_in_with_password(&client, &app, &user.email).await;
    client
        .wait()
        .for_element(Locator::Id("code"))
        .await
        .expect("the second-factor page");
    // A new step: the code that set the app up is spent.
    app.state.clock.advance(Duration::from_secs(30));
    fill(&client, "code", &code(&app, &secret)).await;
    click(&client, "button[type=submit]").await;
    arrive(&client, &at(&app, "/account")).await;

    sign_out(&client, &app).await;
    sign_in_with_password(&client, &app, &user.email).await;
    fill(&client, "code", &codes[0]).await;
    click(&client, "button[type=submit]").await;
    arrive(&client, &at(&app, "/account")).await;
    client
        .wait()
        .for_element(Locator::Id("profile"))
        .await
        .expect("the account page");
    client.close().await.expect("close");
}
