//! The console's keys over HTTP: an API key made (its secret on that one
//! page), used and revoked after the admin's password; the signing keys
//! listed, rotated and, behind a confirmation and the password, removed as
//! compromised. Each change lands in the audit trail with the admin as actor.

use reqwest::StatusCode;

use crate::admin_pages::console;
use crate::helpers::{backend_tests, client_id_of, Backend, TestApp, TestUser, PASSWORD};

/// The text of the `<code class="secret">` on a page.
fn secret_on(html: &str) -> String {
    let marker = "<code class=\"secret\">";
    let at = html.find(marker).expect("the secret") + marker.len();
    html[at..].split('<').next().expect("text").to_owned()
}

fn option_values(html: &str, select: &str) -> Vec<String> {
    let at = html
        .find(&format!("<select id=\"{select}\""))
        .expect(select);
    let end = html[at..].find("</select>").expect("end") + at;
    html[at..end]
        .split("<option value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().expect("value").to_owned())
        .collect()
}

async fn an_api_key_made_in_the_console_shows_its_secret_once_and_revoking_it_asks_the_password(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let mut browser = console(&app, &admin).await;
    let page = browser.get("/admin/api-keys").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("No API key exists yet."));

    let refused = browser
        .post(
            "/admin/api-keys/create",
            &[("name", "<b>Scraper</b>"), ("expires", "yesterday")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.html.contains("id=\"expires-error\""),
        "{}",
        refused.html
    );
    let past = browser
        .post(
            "/admin/api-keys/create",
            &[("name", "Scraper"), ("expires", "2001-01-01")],
        )
        .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(past.html.contains("must be in the future"), "{}", past.html);
    let unnamed = browser
        .post("/admin/api-keys/create", &[("scopes", "posts:read")])
        .await;
    assert_eq!(unnamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unnamed.html.contains("id=\"name-error\""),
        "{}",
        unnamed.html
    );

    let made = browser
        .post(
            "/admin/api-keys/create",
            &[("name", "<b>Scraper</b>"), ("scopes", "posts:read")],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.html);
    let secret = secret_on(&made.html);
    assert!(secret.starts_with("sgn_"), "{secret}");
    assert!(!made.html.contains("<b>Scraper</b>"), "the name is text");
    // The key works, and its secret is never shown again.
    let token = app.service_token(&secret).await;
    assert!(!token.is_empty());
    let later = browser.get("/admin/api-keys").await;
    assert!(!later.html.contains(&secret));
    assert!(later.html.contains(&client_id_of(&secret)));

    let keys = option_values(&later.html, "key");
    assert_eq!(keys.len(), 1);
    let wrong = browser
        .post(
            "/admin/api-keys/revoke",
            &[("key", keys[0].as_str()), ("password", "not my password")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.html.contains("This is not your password."));
    assert_eq!(app.audit(&admin, "admin.reauth_failed").await.len(), 1);
    let revoked = browser
        .post(
            "/admin/api-keys/revoke",
            &[("key", keys[0].as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        revoked.location.as_deref(),
        Some("/admin/api-keys?done=revoked")
    );
    let refused = app
        .oauth_token(
            &[("grant_type", "client_credentials")],
            Some((&client_id_of(&secret), &secret)),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let rows = app.audit(&admin, "api_key.created").await;
    assert_eq!(rows[0]["actor"], admin.id.as_str());
    let rows = app.audit(&admin, "api_key.revoked").await;
    assert_eq!(rows[0]["actor"], admin.id.as_str());
    // Nothing to revoke: no revoke form; a forged post is refused.
    let after = browser.get("/admin/api-keys").await;
    assert!(!after.html.contains("id=\"key\""));
    let unknown = browser
        .post(
            "/admin/api-keys/revoke",
            &[
                ("key", &uuid::Uuid::new_v4().to_string()),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

async fn key_files_are_listed_and_managed_elsewhere(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let mut browser = console(&app, &admin).await;
    let page = browser.get("/admin/keys").await;
    assert_eq!(page.status, StatusCode::OK);
    let kid = app.state.keys.ring().active().kid.clone();
    assert!(page.html.contains(&kid));
    assert!(page.html.contains("id=\"files-mode\""));
    let rotate = browser.post("/admin/keys/rotate", &[]).await;
    assert_eq!(rotate.status, StatusCode::CONFLICT);
    let compromise = browser
        .post(
            "/admin/keys/compromise",
            &[
                ("kid", kid.as_str()),
                ("confirm", "yes"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(compromise.status, StatusCode::CONFLICT);
    assert_eq!(
        app.state.keys.ring().active().kid,
        kid,
        "the key file signs on"
    );
}

async fn signing_keys_rotate_and_a_compromised_one_goes_after_a_confirmation_and_the_password(
    backend: Backend,
) {
    use base64::Engine as _;
    let kek = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
    let app = TestApp::spawn_with(backend, &[("KEY_ENCRYPTION_KEY", kek.as_str())]).await;
    let admin = app.admin().await;
    let mut browser = console(&app, &admin).await;
    let page = browser.get("/admin/keys").await;
    assert_eq!(option_values(&page.html, "kid").len(), 1);
    let rotated = browser.post("/admin/keys/rotate", &[]).await;
    assert_eq!(
        rotated.location.as_deref(),
        Some("/admin/keys?done=rotated")
    );
    let page = browser.get("/admin/keys?done=rotated").await;
    assert!(page.html.contains("published, signs soon"), "{}", page.html);
    let kids = option_values(&page.html, "kid");
    assert_eq!(kids.len(), 2);
    assert_eq!(
        app.audit(&admin, "key.rotated").await[0]["actor"],
        admin.id.as_str()
    );

    let active = app.state.keys.ring().active().kid.clone();
    let unconfirmed = browser
        .post(
            "/admin/keys/compromise",
            &[("kid", active.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unconfirmed.html.contains("id=\"confirm-error\""));
    browser.get("/admin/keys").await;
    let wrong = browser
        .post(
            "/admin/keys/compromise",
            &[
                ("kid", active.as_str()),
                ("confirm", "yes"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(app
        .state
        .keys
        .ring()
        .published()
        .iter()
        .any(|k| k.kid == active));
    let removed = browser
        .post(
            "/admin/keys/compromise",
            &[
                ("kid", active.as_str()),
                ("confirm", "yes"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        removed.location.as_deref(),
        Some("/admin/keys?done=compromised")
    );
    assert_ne!(app.state.keys.ring().active().kid, active);
    assert!(!app
        .state
        .keys
        .ring()
        .published()
        .iter()
        .any(|k| k.kid == active));
    // The admin's token was signed by the removed key: a new one reads the trail.
    let admin = TestUser {
        token: app.token_for(&admin.email, PASSWORD).await,
        ..admin
    };
    let rows = app.audit(&admin, "key.compromised").await;
    assert_eq!(rows[0]["actor"], admin.id.as_str());
    // An unknown kid: the form again, nothing removed.
    browser.get("/admin/keys").await;
    let unknown = browser
        .post(
            "/admin/keys/compromise",
            &[
                ("kid", "no-such-kid"),
                ("confirm", "yes"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

async fn the_key_forms_refuse_posts_without_their_csrf_token_and_people_without_the_role(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = app.user("ada@example.com").await;
    let mut browser = console(&app, &admin).await;
    for path in [
        "/admin/api-keys/create",
        "/admin/api-keys/revoke",
        "/admin/keys/rotate",
        "/admin/keys/compromise",
    ] {
        browser.get("/admin/api-keys").await;
        let refused = browser
            .post_raw(path, &[("name", "x"), ("password", PASSWORD)])
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
    }
    let mut person = crate::account_pages::Browser::new(&app);
    person.sign_in(&user.email, PASSWORD).await;
    for path in ["/admin/api-keys", "/admin/keys"] {
        assert_eq!(
            person.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    person.get("/account").await;
    let forged = person
        .post("/admin/api-keys/create", &[("name", "mine")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count_rows("api_keys").await, 0);
}

backend_tests!(
    an_api_key_made_in_the_console_shows_its_secret_once_and_revoking_it_asks_the_password,
    key_files_are_listed_and_managed_elsewhere,
    signing_keys_rotate_and_a_compromised_one_goes_after_a_confirmation_and_the_password,
    the_key_forms_refuse_posts_without_their_csrf_token_and_people_without_the_role,
);
