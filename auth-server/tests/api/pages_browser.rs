//! auth-server's pages in a real headless Chromium: every page passes
//! axe-core (no serious or critical WCAG 2.1 A/AA violation), has no
//! horizontal scrolling at 320 px, and turns dark under
//! `prefers-color-scheme: dark`; a person manages their account with it.
//! With `SCREENSHOT_DIR` set (`scripts/screenshots.sh`), the pages are
//! saved as PNGs for docs/screenshots.

use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::json;
use signet_service::testing::browser::{
    accessibility_violations, arrive, background_of, browser, click, emulate_dark, emulate_width,
    fill, horizontal_overflow, screenshot, text_of,
};

use crate::helpers::{json_body, Backend, TestApp, PASSWORD};

/// The page background of the light and the dark theme (`--bg`).
const LIGHT_BG: &str = "rgb(244, 245, 248)";
const DARK_BG: &str = "rgb(18, 20, 26)";

/// The checks every page gets, on the page the browser shows now.
async fn check_page(client: &Client, name: &str) {
    let url = client.current_url().await.expect("url").to_string();
    let violations = accessibility_violations(client).await;
    assert!(violations.is_empty(), "{name} ({url}): {violations:#?}");
    assert_eq!(
        background_of(client, "body").await,
        LIGHT_BG,
        "{name}: light"
    );
    screenshot(client, &format!("{name}-light")).await;

    emulate_dark(client, true).await;
    assert_eq!(background_of(client, "body").await, DARK_BG, "{name}: dark");
    let violations = accessibility_violations(client).await;
    assert!(violations.is_empty(), "{name} (dark): {violations:#?}");
    screenshot(client, &format!("{name}-dark")).await;
    emulate_dark(client, false).await;

    // The override reflows the page in place: no reload, which would post a
    // page reached by a form (the consent page) a second time.
    emulate_width(client, Some(320)).await;
    assert_eq!(
        horizontal_overflow(client).await,
        0,
        "{name}: scrolls sideways at 320 px"
    );
    screenshot(client, &format!("{name}-320")).await;
    emulate_width(client, None).await;
}

/// A third-party client, and an authorization request of it.
async fn third_party_request(app: &TestApp, admin_token: &str) -> String {
    let registered = app
        .client
        .post(app.url("/api/v1/clients"))
        .bearer_auth(admin_token)
        .json(&json!({
            "name": "Photo Printer",
            "redirect_uris": ["http://127.0.0.1:9/callback"],
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let client_id = json_body(registered).await["client_id"]
        .as_str()
        .expect("client_id")
        .to_owned();
    let mut url = url::Url::parse(&app.url("/oauth/authorize")).expect("url");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", "http://127.0.0.1:9/callback")
        .append_pair("scope", "openid email profile")
        .append_pair("state", "s1")
        .append_pair("nonce", "n1")
        .append_pair(
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
        .append_pair("code_challenge_method", "S256");
    url.to_string()
}

#[tokio::test]
#[cfg_attr(
    not(all(signet_browser, signet_axe)),
    ignore = "needs Chromium, chromedriver and axe-core: install them (Debian: chromium, chromium-driver; npm: axe-core, as .ci/run does) or set CHROMIUM_BIN, CHROMEDRIVER_BIN and AXE_CORE_JS"
)]
async fn chromium_finds_every_page_accessible_narrow_and_dark() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin().await;
    let user = app.user("ada@example.com").await;
    let request = third_party_request(&app, &admin.token).await;
    let (client, _driver) = browser().await;

    client
        .goto(&app.url("/account/sign-in"))
        .await
        .expect("sign-in");
    check_page(&client, "signin").await;
    // A wrong password: the page again, with its announced error.
    fill(&client, "email", &user.email).await;
    fill(&client, "password", "not the password").await;
    click(&client, "button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Css("[role=alert]"))
        .await
        .expect("the error");
    check_page(&client, "signin-error").await;

    client
        .goto(&app.url("/account/password-reset"))
        .await
        .expect("reset");
    check_page(&client, "password-reset").await;

    client
        .goto(&app.url("/oauth/authorize"))
        .await
        .expect("error page");
    check_page(&client, "error").await;

    // The authorization endpoint's sign-in, sign-up and consent pages.
    client.goto(&request).await.expect("authorize");
    check_page(&client, "authorize-signin").await;
    click(&client, "a[href^='/oauth/signup?']").await;
    arrive(&client, &app.url("/oauth/signup?")).await;
    check_page(&client, "signup").await;
    client.goto(&request).await.expect("authorize");
    fill(&client, "email", &user.email).await;
    fill(&client, "password", PASSWORD).await;
    click(&client, "button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Css("button[value=allow]"))
        .await
        .expect("the consent page");
    check_page(&client, "consent").await;

    // Signed in (the authorization's sign-in is this site's): the account page.
    client.goto(&app.url("/account")).await.expect("account");
    arrive(&client, &app.url("/account")).await;
    check_page(&client, "account").await;

    // The device page: a CLI's code typed in, and its consent page.
    let cli = auth_server::clients::register(
        &app.state.db,
        auth_server::clients::NewClient {
            name: "Signet CLI".into(),
            public: true,
            grant_types: vec![auth_server::device::GRANT_TYPE.into()],
            ..auth_server::clients::NewClient::default()
        },
        auth_server::clients::Actor {
            id: "test",
            ip: None,
        },
        app.state.clock.now(),
    )
    .await
    .expect("a device client");
    let codes = app
        .client
        .post(app.url("/oauth/device_authorization"))
        .form(&[("client_id", cli.client.client_id.as_str())])
        .send()
        .await
        .expect("codes");
    let user_code = json_body(codes).await["user_code"]
        .as_str()
        .expect("user code")
        .to_owned();
    client.goto(&app.url("/device")).await.expect("device");
    check_page(&client, "device").await;
    fill(&client, "user_code", &user_code).await;
    click(&client, "form[action='/device'] button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Id("device-warning"))
        .await
        .expect("the device's consent page");
    check_page(&client, "device-consent").await;

    client.goto(&app.url("/account")).await.expect("account");
    click(&client, ".sign-out button").await;
    client
        .wait()
        .for_element(Locator::Id("notice"))
        .await
        .expect("signed out");
    check_page(&client, "signed-out").await;

    // The console, as the admin: the sign-in leads back to it.
    client
        .goto(&app.url("/admin/users"))
        .await
        .expect("console");
    arrive(&client, &app.url("/account/sign-in?next=")).await;
    fill(&client, "email", &admin.email).await;
    fill(&client, "password", PASSWORD).await;
    click(&client, "button[type=submit]").await;
    arrive(&client, &app.url("/admin/users")).await;
    check_page(&client, "console-users").await;
    click(&client, &format!("a[href='/admin/users/{}']", user.id)).await;
    arrive(&client, &app.url(&format!("/admin/users/{}", user.id))).await;
    check_page(&client, "console-user").await;
    // Disabling the user in the console refuses their next request.
    assert_eq!(app.me(&user.token).await.status(), StatusCode::OK);
    click(&client, "button.danger").await;
    arrive(
        &client,
        &app.url(&format!("/admin/users/{}?done=disabled", user.id)),
    )
    .await;
    assert_eq!(app.me(&user.token).await.status(), StatusCode::UNAUTHORIZED);
    client.goto(&app.url("/admin/audit")).await.expect("audit");
    check_page(&client, "console-audit").await;
    client
        .goto(&app.url("/admin/api-keys"))
        .await
        .expect("api keys");
    check_page(&client, "console-api-keys").await;
    fill(&client, "name", "Scraper").await;
    fill(&client, "scopes", "posts:read").await;
    click(&client, "form[action='/admin/api-keys/create'] button").await;
    client
        .wait()
        .for_element(Locator::Id("new-secret"))
        .await
        .expect("the new key's secret");
    check_page(&client, "console-api-key-made").await;
    client.goto(&app.url("/admin/keys")).await.expect("keys");
    check_page(&client, "console-keys").await;
    client
        .goto(&app.url("/admin/clients"))
        .await
        .expect("clients");
    check_page(&client, "console-clients").await;
    click(&client, "a[href^='/admin/clients/sgc_']").await;
    client
        .wait()
        .for_element(Locator::Css("form[action$='/edit']"))
        .await
        .expect("an application's page");
    check_page(&client, "console-client").await;
    client.close().await.expect("close");
}

#[tokio::test]
#[cfg_attr(
    not(signet_browser),
    ignore = "needs Chromium and chromedriver: install them (Debian: chromium, chromium-driver) or set CHROMIUM_BIN and CHROMEDRIVER_BIN"
)]
async fn chromium_changes_the_display_name_and_signs_another_browser_out() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let user = app.user("ada@example.com").await;
    let (laptop, _laptop_driver) = browser().await;
    let (phone, _phone_driver) = browser().await;
    for browser in [&laptop, &phone] {
        browser.goto(&app.url("/account")).await.expect("account");
        arrive(browser, &app.url("/account/sign-in")).await;
        fill(browser, "email", &user.email).await;
        fill(browser, "password", PASSWORD).await;
        click(browser, "button[type=submit]").await;
        browser
            .wait()
            .for_element(Locator::Id("profile"))
            .await
            .expect("the account page");
    }

    fill(&laptop, "display_name", "Ada <Lovelace>").await;
    click(&laptop, "#profile button[type=submit]").await;
    arrive(&laptop, &app.url("/account?done=profile")).await;
    assert_eq!(text_of(&laptop, "#notice").await, "Your profile is saved.");
    let shown = laptop
        .find(Locator::Id("display_name"))
        .await
        .expect("field")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(shown.as_deref(), Some("Ada <Lovelace>"));

    // The laptop lists three sessions (the REST login, itself, the phone)
    // and signs the phone out: the newest other one.
    let others = laptop
        .find_all(Locator::Css(
            "#sessions form[action='/account/sessions/end'] button",
        ))
        .await
        .expect("buttons");
    assert_eq!(others.len(), 2, "two other sessions");
    others[0].click().await.expect("sign the phone out");
    arrive(&laptop, &app.url("/account?done=session")).await;
    assert_eq!(
        text_of(&laptop, "#notice").await,
        "That session is signed out."
    );
    phone.refresh().await.expect("reload");
    arrive(&phone, &app.url("/account/sign-in")).await;
    // The laptop and the REST login live on.
    laptop.refresh().await.expect("reload");
    arrive(&laptop, &app.url("/account")).await;
    assert_eq!(app.me(&user.token).await.status(), StatusCode::OK);
    laptop.close().await.expect("close");
    phone.close().await.expect("close");
}

#[tokio::test]
#[cfg_attr(
    not(all(signet_browser, signet_axe)),
    ignore = "needs Chromium, chromedriver and axe-core: install them (Debian: chromium, chromium-driver; npm: axe-core, as .ci/run does) or set CHROMIUM_BIN, CHROMEDRIVER_BIN and AXE_CORE_JS"
)]
async fn chromium_speaks_german_through_a_sign_in_asked_for_with_ui_locales_de() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let admin = app.admin().await;
    let request = third_party_request(&app, &admin.token).await + "&ui_locales=de";
    let (client, _driver) = browser().await;

    client.goto(&request).await.expect("authorize");
    assert_eq!(text_of(&client, "h1").await, "Anmelden");
    let lang = client
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("lang");
    assert_eq!(lang.as_deref(), Some("de"));
    check_page(&client, "de-authorize-signin").await;
    // A wrong password: the form comes back in German, with no query.
    fill(&client, "email", &admin.email).await;
    fill(&client, "password", "nicht das Passwort").await;
    click(&client, "button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Css("[role=alert]"))
        .await
        .expect("the error");
    assert_eq!(
        text_of(&client, "[role=alert]").await,
        "E-Mail-Adresse oder Passwort ist falsch."
    );
    fill(&client, "email", &admin.email).await;
    fill(&client, "password", PASSWORD).await;
    click(&client, "button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Css("button[value=allow]"))
        .await
        .expect("the consent page");
    assert_eq!(text_of(&client, "button[value=allow]").await, "Zulassen");
    check_page(&client, "de-consent").await;

    client.goto(&app.url("/account")).await.expect("account");
    arrive(&client, &app.url("/account")).await;
    assert_eq!(text_of(&client, "h1").await, "Ihr Konto");
    check_page(&client, "de-account").await;
    client
        .goto(&app.url("/admin/users"))
        .await
        .expect("console");
    assert_eq!(text_of(&client, "h1").await, "Konten");
    check_page(&client, "de-console-users").await;
    client.close().await.expect("close");
}

/// The pages of two-step sign-in pass the same checks: the security page
/// with its QR code, its errors, the recovery codes, the list of passkeys,
/// the second-factor page, and the sign-in page with its passkey button.
#[tokio::test]
#[cfg_attr(
    not(all(signet_browser, signet_axe)),
    ignore = "needs Chromium, chromedriver and axe-core: install them (Debian: chromium, chromium-driver; npm: axe-core, as .ci/run does) or set CHROMIUM_BIN, CHROMEDRIVER_BIN and AXE_CORE_JS"
)]
async fn chromium_finds_the_two_step_pages_accessible_narrow_and_dark() {
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("JWT_ISSUER", "http://localhost:0"),
            ("GENERATE_DEV_KEY", "true"),
        ],
    )
    .await;
    let at = |path: &str| format!("{}{path}", app.state.config.issuer);
    let user = app.user("two@example.com").await;
    let (client, _driver) = browser().await;
    signet_service::testing::browser::virtual_authenticator(&client).await;
    signet_service::testing::browser::without_passkey_autofill(&client).await;
    client.goto(&at("/account/sign-in")).await.expect("sign-in");
    check_page(&client, "signin-passkey").await;
    fill(&client, "email", &user.email).await;
    fill(&client, "password", PASSWORD).await;
    click(&client, "form:not([data-passkey]) button[type=submit]").await;
    arrive(&client, &at("/account")).await;
    client
        .goto(&at("/account/security"))
        .await
        .expect("security");
    check_page(&client, "security").await;
    fill(&client, "code", "000000").await;
    click(
        &client,
        "form[action='/account/security/totp'] button[type=submit]",
    )
    .await;
    client
        .wait()
        .for_element(Locator::Id("code-error"))
        .await
        .expect("the error");
    check_page(&client, "security-error").await;
    let secret = text_of(&client, "#totp-secret").await;
    let code = auth_server::testing::totp_code(&secret, app.state.clock.now());
    fill(&client, "code", &code).await;
    click(
        &client,
        "form[action='/account/security/totp'] button[type=submit]",
    )
    .await;
    client
        .wait()
        .for_element(Locator::Id("recovery-codes"))
        .await
        .expect("the codes");
    check_page(&client, "recovery-codes").await;
    client
        .goto(&at("/account/security"))
        .await
        .expect("security");
    fill(&client, "passkey_name", "Laptop").await;
    fill(&client, "passkey_password", PASSWORD).await;
    click(&client, "#passkey-add").await;
    arrive(&client, &at("/account/security?done=passkey")).await;
    check_page(&client, "security-on").await;
    click(&client, "form.sign-out button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Id("notice"))
        .await
        .expect("signed out");
    client.goto(&at("/account/sign-in")).await.expect("sign-in");
    fill(&client, "email", &user.email).await;
    fill(&client, "password", PASSWORD).await;
    click(&client, "form:not([data-passkey]) button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Id("code"))
        .await
        .expect("the second-factor page");
    check_page(&client, "second-factor").await;
    client.close().await.expect("close");
}
