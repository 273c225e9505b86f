//! A real headless Chromium (Debian's, driven through chromedriver with
//! fantoccini) signs in to blog-svc through auth-server's page, writes a
//! post, sees it listed and signs out; and signs in through the gateway's
//! browser mode (a real nginx) to reach a protected application. The pages'
//! CSP, cookies and redirects are the browser's to enforce here, not a test
//! client's.

use fantoccini::Locator;
use signet_service::testing::browser::{arrive, browser, click, fill, text_of};
use signet_service::testing::Backend;

use crate::stack::{Stack, PASSWORD};

#[tokio::test]
#[cfg_attr(
    not(signet_browser),
    ignore = "needs Chromium and chromedriver: install them (Debian: chromium, chromium-driver) or set CHROMIUM_BIN and CHROMEDRIVER_BIN"
)]
async fn chromium_signs_in_to_the_blog_writes_a_post_and_signs_out() {
    let stack = Stack::spawn(Backend::Sqlite).await;
    stack.user("brenda@example.com", "Brenda Browser").await;
    let (client, _driver) = browser().await;

    client.goto(&stack.blog_url("/")).await.expect("front page");
    click(&client, "#sign-in").await;
    // auth-server's sign-in page (its own origin).
    arrive(&client, &format!("{}/oauth/authorize?", stack.auth)).await;
    fill(&client, "email", "brenda@example.com").await;
    fill(&client, "password", PASSWORD).await;
    click(&client, "button[type=submit]").await;
    // Back at the blog, signed in.
    arrive(&client, &stack.blog_url("/")).await;
    let who = text_of(&client, "#signed-in-as").await;
    assert_eq!(who, "Signed in as Brenda Browser");

    // Write a post whose title is markup: the browser shows it as text.
    click(&client, "a[href='/write']").await;
    arrive(&client, &stack.blog_url("/write")).await;
    let title = "<b>Bold?</b> & a real browser";
    fill(&client, "title", title).await;
    fill(&client, "body", "Written in Chromium.\nSecond line.").await;
    click(&client, "#publish").await;
    arrive(&client, &stack.blog_url("/posts/")).await;
    assert_eq!(text_of(&client, "article h1").await, title);
    assert_eq!(
        client
            .find_all(Locator::Css("article h1 b"))
            .await
            .expect("query")
            .len(),
        0,
        "no element from the stored markup"
    );

    // Listed on the front page.
    client.goto(&stack.blog_url("/")).await.expect("front page");
    assert_eq!(text_of(&client, ".posts li a").await, title);

    // Sign out: through auth-server's logout and back, signed out of both.
    click(&client, "#sign-out").await;
    client
        .wait()
        .for_element(Locator::Id("sign-in"))
        .await
        .expect("signed out");
    assert_eq!(
        client.current_url().await.expect("url").as_str(),
        stack.blog_url("/")
    );
    click(&client, "#sign-in").await;
    arrive(&client, &format!("{}/oauth/authorize?", stack.auth)).await;
    client
        .wait()
        .for_element(Locator::Id("password"))
        .await
        .expect("the auth server asks for the password again");
    client.close().await.expect("close");
}

/// `/docs` in a real browser, under its CSP: the page's own stylesheet
/// applies (the CSP lets exactly it in), and the operations are there.
#[tokio::test]
#[cfg_attr(
    not(signet_browser),
    ignore = "needs Chromium and chromedriver: install them (Debian: chromium, chromium-driver) or set CHROMIUM_BIN and CHROMEDRIVER_BIN"
)]
async fn chromium_shows_the_api_documentation_with_its_own_stylesheet() {
    let stack = Stack::spawn(Backend::Sqlite).await;
    let (client, _driver) = browser().await;
    for base in [stack.blog_url(""), stack.auth.clone()] {
        client.goto(&format!("{base}/docs")).await.expect("/docs");
        let styled = client
            .execute(
                "return [document.styleSheets.length, getComputedStyle(document.body).maxWidth]",
                vec![],
            )
            .await
            .expect("script");
        assert_eq!(styled[0], 1, "{base}: the stylesheet loaded");
        assert_ne!(styled[1], "none", "{base}: and applies");
        let text = text_of(&client, "main").await;
        assert!(text.contains("POST"), "{base}: {text}");
    }
    client.close().await.expect("close");
}

#[tokio::test]
#[cfg_attr(
    not(all(signet_browser, signet_nginx)),
    ignore = "needs Chromium, chromedriver and nginx: install them (Debian: chromium, chromium-driver, nginx) or set CHROMIUM_BIN, CHROMEDRIVER_BIN and NGINX_BIN"
)]
async fn chromium_signs_in_through_the_gateway_to_a_protected_application() {
    let stack = Stack::spawn_gateway().await;
    stack.user("gina@example.com", "Gina Gateway").await;
    let site = stack.gateway.as_ref().expect("gateway").url.clone();
    let (client, _driver) = browser().await;

    client
        .goto(&format!("{site}/private/report?year=2026"))
        .await
        .expect("protected page");
    arrive(&client, &format!("{site}/oauth/gateway/sign-in?rd=")).await;
    fill(&client, "email", "gina@example.com").await;
    fill(&client, "password", PASSWORD).await;
    click(&client, "button[type=submit]").await;
    arrive(&client, &format!("{site}/private/report?year=2026")).await;
    let page = client.source().await.expect("source");
    assert!(page.contains("gina@example.com"), "{page}");
    client.close().await.expect("close");
}

/// The blog's administration page needs a sign-in with two factors (`acr`
/// `mfa`). An admin signed in with a password is sent back to auth-server
/// asking for it (`acr_values=mfa`); with no second factor set up, the
/// blog says so instead of asking again; with an authenticator app, the
/// auth server asks for its code (a step-up of the same browser session)
/// and the page opens.
#[tokio::test]
#[cfg_attr(
    not(signet_browser),
    ignore = "needs Chromium and chromedriver: install them (Debian: chromium, chromium-driver) or set CHROMIUM_BIN and CHROMEDRIVER_BIN"
)]
async fn chromium_steps_up_to_two_factors_for_the_administration_page() {
    let stack = Stack::spawn(Backend::Sqlite).await;
    let state = &stack.auth_state;
    let admin = auth_server::accounts::create_admin(
        &state.db,
        &state.hasher,
        auth_server::accounts::NewUser {
            email: "ada@example.com".into(),
            password: auth_server::accounts::password::Password::new(PASSWORD),
            display_name: Some("Ada Admin".into()),
            roles: vec!["admin".into()],
        },
        state.clock.now(),
    )
    .await
    .expect("admin");
    let (client, _driver) = browser().await;
    client.goto(&stack.blog_url("/")).await.expect("front page");
    click(&client, "#sign-in").await;
    arrive(&client, &format!("{}/oauth/authorize?", stack.auth)).await;
    fill(&client, "email", "ada@example.com").await;
    fill(&client, "password", PASSWORD).await;
    click(&client, "button[type=submit]").await;
    arrive(&client, &stack.blog_url("/")).await;

    // No second factor yet: asked, and told, not sent round again.
    client
        .goto(&stack.blog_url("/admin"))
        .await
        .expect("admin page");
    client
        .wait()
        .for_element(Locator::Css("main h1"))
        .await
        .expect("a page");
    assert_eq!(
        text_of(&client, "main h1").await,
        "A second factor is needed"
    );

    // An authenticator app, set up (as the security page would).
    let seal = state.factor_seal.as_deref().expect("a sealing key");
    let now = state.clock.now();
    let enrolment = auth_server::mfa::totp::begin(&state.db, seal, &admin, "Signet", now)
        .await
        .expect("enrolment");
    let code_at = |at| auth_server::testing::totp_code(&enrolment.secret_base32, at);
    // The previous step's code (within the skew), so the current one is
    // still fresh for the step-up.
    auth_server::mfa::confirm_enrolment(
        &state.db,
        state.password_gate(),
        seal,
        &admin,
        &code_at(now - chrono::Duration::seconds(30)),
        None,
        now,
    )
    .await
    .expect("confirmed");

    client
        .goto(&stack.blog_url("/admin"))
        .await
        .expect("admin page");
    arrive(&client, &format!("{}/oauth/authorize?", stack.auth)).await;
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .as_str()
            .contains("acr_values=mfa"),
        "the blog asks for two factors"
    );
    fill(&client, "code", &code_at(state.clock.now())).await;
    click(&client, "button[type=submit]").await;
    arrive(&client, &stack.blog_url("/admin")).await;
    client
        .wait()
        .for_element(Locator::Css("main h1"))
        .await
        .expect("the page");
    assert_eq!(
        text_of(&client, "main h1").await,
        "Administration: every post"
    );
    client.close().await.expect("close");
}
