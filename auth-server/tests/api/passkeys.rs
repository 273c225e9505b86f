//! Passkeys over HTTP, with a software authenticator (webauthn-authenticator-rs
//! `SoftPasskey`) playing the browser's part: registration on the security
//! page, a sign-in that names no account, the tokens it leads to, and every
//! server-side check of both ceremonies attacked on its own: challenge
//! (replayed, stale, expired), origin, RP id hash, user verification,
//! signature, counter (a cloned authenticator), a credential of another
//! account, malformed answers.

use std::time::Duration;

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator as _;
use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use crate::account_pages::Browser;
use crate::authorize::{exchange_code, hidden_fields, query_of, request_params, rp};
use crate::helpers::{backend_tests, claims_of, json_body, Backend, TestApp, TestUser, PASSWORD};

const ORIGIN: &str = "http://localhost:8080";

async fn app(backend: Backend) -> TestApp {
    TestApp::spawn_with(
        backend,
        &[("WEBAUTHN_RP_ID", "localhost"), ("WEBAUTHN_ORIGIN", ORIGIN)],
    )
    .await
}

fn origin() -> Url {
    Url::parse(ORIGIN).expect("origin")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .expect("base64url")
}

/// The options a page's form asks for (the page's CSRF token), leaving the
/// page as it was for the next form.
async fn ask_options(browser: &mut Browser<'_>, path: &str) -> (StatusCode, Value) {
    let page = browser.page.clone();
    let answer = browser.post(path, &[]).await;
    browser.page = page;
    let body = serde_json::from_str(&answer.html).unwrap_or(Value::Null);
    (answer.status, body)
}

/// The options as the soft authenticator takes them: it keeps no
/// discoverable credentials, so the request for one is dropped (the test
/// names the credential at sign-in, as a browser's discovery would find it).
fn soft_options(mut options: Value) -> CreationChallengeResponse {
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = false.into();
    options["publicKey"]["authenticatorSelection"]["residentKey"] = "discouraged".into();
    serde_json::from_value(options).expect("options")
}

/// A new passkey's answer from `soft` to the security page's options.
async fn registration_answer(browser: &mut Browser<'_>, soft: &mut SoftPasskey) -> Value {
    let (status, options) = ask_options(browser, "/account/security/passkeys/options").await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost");
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["residentKey"],
        "required"
    );
    let options = soft_options(options);
    let made = soft
        .do_registration(origin(), options)
        .expect("registration");
    serde_json::to_value(made).expect("json")
}

async fn submit_registration(
    browser: &mut Browser<'_>,
    answer: &Value,
    name: &str,
) -> crate::account_pages::Answer {
    browser
        .post(
            "/account/security/passkeys",
            &[
                ("name", name),
                ("password", PASSWORD),
                ("credential", &answer.to_string()),
            ],
        )
        .await
}

/// Sign `user` in with the password and add a passkey from `soft`.
async fn with_passkey<'a>(
    app: &'a TestApp,
    user: &TestUser,
    soft: &mut SoftPasskey,
) -> Browser<'a> {
    let mut browser = Browser::new(app);
    browser.sign_in(&user.email, PASSWORD).await;
    let page = browser.get("/account/security").await;
    assert!(page.html.contains("Add a passkey"), "{}", page.html);
    let answer = registration_answer(&mut browser, soft).await;
    let done = submit_registration(&mut browser, &answer, "Laptop").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    browser
}

/// The answer of `soft` to sign-in options, as a browser with a discoverable
/// credential gives it: the soft authenticator needs the credential named,
/// and leaves the user handle (not signed) for the client to add.
fn discoverable_answer(
    soft: &mut SoftPasskey,
    options: Value,
    credential: &str,
    user_id: &str,
) -> Value {
    let mut options = options;
    options["publicKey"]["allowCredentials"] = json!([{ "type": "public-key", "id": credential }]);
    let options: RequestChallengeResponse = serde_json::from_value(options).expect("options");
    let used = soft
        .do_authentication(origin(), options)
        .expect("assertion");
    let mut answer = serde_json::to_value(used).expect("json");
    let handle = uuid::Uuid::parse_str(user_id).expect("uuid");
    answer["response"]["userHandle"] = b64(handle.as_bytes()).into();
    answer
}

async fn stored_credential_id(app: &TestApp) -> String {
    use sea_orm::EntityTrait as _;
    auth_server::passkeys::entity::Entity::find()
        .all(&app.state.db)
        .await
        .expect("rows")
        .first()
        .expect("a passkey")
        .credential_id
        .clone()
}

async fn sign_in_options(browser: &mut Browser<'_>, page: &str) -> Value {
    browser.get(page).await;
    assert!(
        browser.page.contains("Sign in with a passkey"),
        "{}",
        browser.page
    );
    let (status, options) = ask_options(browser, "/sign-in/passkey/options").await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "no account named: {options}"
    );
    options
}

async fn a_passkey_is_added_on_the_security_page_and_signs_in_without_an_email(backend: Backend) {
    let app = app(backend).await;
    let user = app.user("keys@example.com").await;
    let admin = app.admin().await;
    let mut soft = SoftPasskey::new(true);
    let mut browser = with_passkey(&app, &user, &mut soft).await;
    let page = browser.get("/account/security?done=passkey").await;
    assert!(page.html.contains("Laptop"), "{}", page.html);
    assert_eq!(app.audit(&admin, "passkey.registered").await.len(), 1);

    let credential = stored_credential_id(&app).await;
    let mut other = Browser::new(&app);
    let options = sign_in_options(&mut other, "/account/sign-in").await;
    let answer = discoverable_answer(&mut soft, options, &credential, &user.id);
    let signed_in = other
        .post("/account/sign-in", &[("passkey", &answer.to_string())])
        .await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.html
    );
    assert_eq!(signed_in.location.as_deref(), Some("/account"));
    assert_eq!(other.get("/account").await.status, StatusCode::OK);
    let logins = app.audit(&admin, "login.success").await;
    assert!(logins[0]["detail"]["passkey"].is_string(), "{logins:?}");
    let page = other.get("/account/security").await;
    assert!(
        !page.html.contains("never"),
        "last used is shown: {}",
        page.html
    );
}

async fn a_passkey_sign_in_gives_tokens_of_two_factors(backend: Backend) {
    let app = app(backend).await;
    let rp = rp(&app, true).await;
    let user = app.user("tokens@example.com").await;
    let mut soft = SoftPasskey::new(true);
    with_passkey(&app, &user, &mut soft).await;
    let credential = stored_credential_id(&app).await;

    let mut browser = Browser::new(&app);
    let mut url = Url::parse(&app.url("/oauth/authorize")).expect("url");
    url.query_pairs_mut()
        .extend_pairs(request_params(&rp).iter().map(|(k, v)| (*k, v.as_str())));
    let page = format!("/oauth/authorize?{}", url.query().expect("query"));
    let options = sign_in_options(&mut browser, &page).await;
    let answer = discoverable_answer(&mut soft, options, &credential, &user.id);
    // The passkey form's own hidden fields (the page's password form has
    // the same request fields).
    let passkey_form = browser
        .page
        .split("data-passkey=\"sign-in\"")
        .nth(1)
        .expect("the passkey form");
    let passkey_form = passkey_form.split("</form>").next().expect("its end");
    let mut form: Vec<(String, String)> = hidden_fields(passkey_form)
        .into_iter()
        .filter(|(name, _)| name != "csrf_token" && name != "passkey")
        .collect();
    form.push(("passkey".into(), answer.to_string()));
    let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let back = browser.post("/oauth/authorize", &fields).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.html);
    let code = query_of(back.location.as_deref().expect("location"))["code"].clone();
    let tokens = json_body(exchange_code(&app, &rp, &code).await).await;
    let id = claims_of(tokens["id_token"].as_str().expect("id token"));
    assert_eq!(id["acr"], "mfa");
    assert_eq!(id["amr"], json!(["hwk", "user", "mfa"]));
    assert_eq!(id["sub"], user.id.as_str());
}

async fn registration_checks_each_refuse_a_crafted_answer(backend: Backend) {
    let app = app(backend).await;
    let user = app.user("crafted@example.com").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    browser.get("/account/security").await;
    let refused = |answer: crate::account_pages::Answer, what: &str| {
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            answer.html
        );
        assert!(answer.html.contains("id=\"passkey-error\""), "{what}");
    };
    let mut soft = SoftPasskey::new(true);

    // Another origin (a phishing site under the same RP id).
    let mut answer = registration_answer(&mut browser, &mut soft).await;
    let client_data = unb64(
        answer["response"]["clientDataJSON"]
            .as_str()
            .expect("client data"),
    );
    let mut client_data: Value = serde_json::from_slice(&client_data).expect("json");
    client_data["origin"] = "http://evil.localhost:8080".into();
    answer["response"]["clientDataJSON"] = b64(client_data.to_string().as_bytes()).into();
    refused(
        submit_registration(&mut browser, &answer, "Evil").await,
        "origin",
    );

    // The RP id hash of another site in the authenticator data.
    let mut answer = registration_answer(&mut browser, &mut soft).await;
    let mut object = unb64(
        answer["response"]["attestationObject"]
            .as_str()
            .expect("object"),
    );
    let ours = sha256(b"localhost");
    let at = object
        .windows(32)
        .position(|w| w == ours)
        .expect("rp id hash");
    object[at..at + 32].copy_from_slice(&sha256(b"evil.example"));
    answer["response"]["attestationObject"] = b64(&object).into();
    refused(
        submit_registration(&mut browser, &answer, "Hash").await,
        "rp id hash",
    );

    // User verification missing: the UV flag (bit 2) cleared.
    let mut answer = registration_answer(&mut browser, &mut soft).await;
    let mut object = unb64(
        answer["response"]["attestationObject"]
            .as_str()
            .expect("object"),
    );
    let at = object
        .windows(32)
        .position(|w| w == ours)
        .expect("rp id hash");
    object[at + 32] &= !0x04;
    answer["response"]["attestationObject"] = b64(&object).into();
    refused(
        submit_registration(&mut browser, &answer, "No UV").await,
        "user verification",
    );

    // A challenge that is not this ceremony's: an answer made for earlier options.
    let stale = registration_answer(&mut browser, &mut soft).await;
    let _fresh_options = ask_options(&mut browser, "/account/security/passkeys/options").await;
    refused(
        submit_registration(&mut browser, &stale, "Stale").await,
        "challenge",
    );

    // Malformed answers.
    for garbage in ["{not json", "{}", "[]", &"x".repeat(20_000)] {
        let _ = ask_options(&mut browser, "/account/security/passkeys/options").await;
        let answer = browser
            .post(
                "/account/security/passkeys",
                &[("name", "Junk"), ("credential", garbage)],
            )
            .await;
        assert!(
            answer.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{garbage:.20}: {}",
            answer.status
        );
    }
    assert_eq!(app.count_rows("passkeys").await, 0, "nothing was stored");

    // Without the password, or with a wrong one, no passkey is added.
    for password in ["", "not the password"] {
        let answer = registration_answer(&mut browser, &mut soft).await;
        let refused = browser
            .post(
                "/account/security/passkeys",
                &[
                    ("name", "Mine"),
                    ("password", password),
                    ("credential", &answer.to_string()),
                ],
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password:?}"
        );
    }
    assert_eq!(app.count_rows("passkeys").await, 0);

    // A right answer once; the same answer again is a replay.
    let answer = registration_answer(&mut browser, &mut soft).await;
    let bad_name = submit_registration(&mut browser, &answer, "").await;
    assert_eq!(bad_name.status, StatusCode::UNPROCESSABLE_ENTITY);
    let answer = registration_answer(&mut browser, &mut soft).await;
    assert_eq!(
        submit_registration(&mut browser, &answer, "Good")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    browser.get("/account/security").await;
    let replay = submit_registration(&mut browser, &answer, "Again").await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", replay.html);
    assert_eq!(app.count_rows("passkeys").await, 1);
}

async fn a_ceremony_expires_after_five_minutes(backend: Backend) {
    let app = app(backend).await;
    let user = app.user("late@example.com").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&user.email, PASSWORD).await;
    browser.get("/account/security").await;
    let mut soft = SoftPasskey::new(true);
    let answer = registration_answer(&mut browser, &mut soft).await;
    app.state.clock.advance(Duration::from_secs(5 * 60 + 1));
    let late = submit_registration(&mut browser, &answer, "Late").await;
    assert_eq!(late.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.count_rows("passkeys").await, 0);
}

async fn sign_in_checks_each_refuse_a_crafted_answer(backend: Backend) {
    let app = app(backend).await;
    let user = app.user("signin@example.com").await;
    let other_user = app.user("other@example.com").await;
    let admin = app.admin().await;
    let mut soft = SoftPasskey::new(true);
    with_passkey(&app, &user, &mut soft).await;
    let credential = stored_credential_id(&app).await;
    let mut browser = Browser::new(&app);

    // The credential under another account's user handle.
    let options = sign_in_options(&mut browser, "/account/sign-in").await;
    let answer = discoverable_answer(&mut soft, options, &credential, &other_user.id);
    let sent = browser
        .post("/account/sign-in", &[("passkey", &answer.to_string())])
        .await;
    assert_eq!(sent.status, StatusCode::UNAUTHORIZED, "{}", sent.html);

    // A signature that does not verify.
    let options = sign_in_options(&mut browser, "/account/sign-in").await;
    let mut answer = discoverable_answer(&mut soft, options, &credential, &user.id);
    let mut signature = unb64(answer["response"]["signature"].as_str().expect("sig"));
    let last = signature.len() - 1;
    signature[last] ^= 1;
    answer["response"]["signature"] = b64(&signature).into();
    let sent = browser
        .post("/account/sign-in", &[("passkey", &answer.to_string())])
        .await;
    assert_eq!(sent.status, StatusCode::UNAUTHORIZED);

    // An answer to options this browser never asked for (no ceremony cookie).
    let options = sign_in_options(&mut browser, "/account/sign-in").await;
    let answer = discoverable_answer(&mut soft, options, &credential, &user.id);
    let mut stranger = Browser::new(&app);
    stranger.get("/account/sign-in").await;
    let sent = stranger
        .post("/account/sign-in", &[("passkey", &answer.to_string())])
        .await;
    assert_eq!(sent.status, StatusCode::UNAUTHORIZED);
    // ... and the browser that asked uses it once; again is a replay.
    let sent = browser
        .post("/account/sign-in", &[("passkey", &answer.to_string())])
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.html);
    let mut again = Browser::new(&app);
    again.get("/account/sign-in").await;
    let sent = again
        .post("/account/sign-in", &[("passkey", &answer.to_string())])
        .await;
    assert_eq!(sent.status, StatusCode::UNAUTHORIZED);

    // Malformed answers.
    for garbage in ["{not json", "{}", "null"] {
        let _ = sign_in_options(&mut again, "/account/sign-in").await;
        let sent = again
            .post("/account/sign-in", &[("passkey", garbage)])
            .await;
        assert_eq!(sent.status, StatusCode::UNAUTHORIZED, "{garbage}");
    }
    assert!(!app.audit(&admin, "login.failure").await.is_empty());
}

async fn a_counter_that_goes_backwards_is_refused_and_audited(backend: Backend) {
    let app = app(backend).await;
    let user = app.user("clone@example.com").await;
    let admin = app.admin().await;
    let mut soft = SoftPasskey::new(true);
    with_passkey(&app, &user, &mut soft).await;
    let credential = stored_credential_id(&app).await;
    // One sign-in moves the stored counter on.
    let mut browser = Browser::new(&app);
    let options = sign_in_options(&mut browser, "/account/sign-in").await;
    let answer = discoverable_answer(&mut soft, options, &credential, &user.id);
    let sent = browser
        .post("/account/sign-in", &[("passkey", &answer.to_string())])
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    // A copy of the authenticator elsewhere had counted further.
    use sea_orm::{ActiveModelTrait as _, EntityTrait as _, Set};
    let row = auth_server::passkeys::entity::Entity::find()
        .one(&app.state.db)
        .await
        .expect("row")
        .expect("a passkey");
    let mut stored: Value = serde_json::from_str(&row.credential).expect("json");
    stored["cred"]["counter"] = 50.into();
    let mut active: auth_server::passkeys::entity::ActiveModel = row.into();
    active.credential = Set(stored.to_string());
    active.update(&app.state.db).await.expect("update");

    let mut next = Browser::new(&app);
    let options = sign_in_options(&mut next, "/account/sign-in").await;
    let answer = discoverable_answer(&mut soft, options, &credential, &user.id);
    let sent = next
        .post("/account/sign-in", &[("passkey", &answer.to_string())])
        .await;
    assert_eq!(sent.status, StatusCode::UNAUTHORIZED);
    assert!(sent.html.contains("copied"), "{}", sent.html);
    assert_eq!(app.audit(&admin, "passkey.clone_suspected").await.len(), 1);
}

async fn the_last_way_to_sign_in_cannot_be_removed(backend: Backend) {
    let app = app(backend).await;
    let user = app.user("last@example.com").await;
    let mut soft = SoftPasskey::new(true);
    let mut browser = with_passkey(&app, &user, &mut soft).await;
    let page = browser.get("/account/security").await;
    let id = passkey_id_on(&page.html);
    // With a password left, the passkey may go.
    let removed = browser
        .post("/account/security/passkeys/remove", &[("id", &id)])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(app.count_rows("passkeys").await, 0);
    // Without one (an account made by an upstream sign-in), the last may not.
    let mut soft = SoftPasskey::new(true);
    let mut browser = with_passkey(&app, &user, &mut soft).await;
    use sea_orm::{
        ActiveModelTrait as _, ColumnTrait as _, EntityTrait as _, QueryFilter as _, Set,
    };
    let account = auth_server::accounts::entity::Entity::find()
        .filter(auth_server::accounts::entity::Column::Email.eq("last@example.com"))
        .one(&app.state.db)
        .await
        .expect("row")
        .expect("the account");
    let mut active: auth_server::accounts::entity::ActiveModel = account.into();
    active.password_hash = Set(format!(
        "{}upstream",
        auth_server::accounts::password::NO_PASSWORD_PREFIX
    ));
    active.update(&app.state.db).await.expect("no password");
    let page = browser.get("/account/security").await;
    let id = passkey_id_on(&page.html);
    let kept = browser
        .post("/account/security/passkeys/remove", &[("id", &id)])
        .await;
    assert_eq!(kept.status, StatusCode::CONFLICT, "{}", kept.html);
    assert_eq!(app.count_rows("passkeys").await, 1);
    let unknown = browser
        .post(
            "/account/security/passkeys/remove",
            &[("id", &uuid::Uuid::now_v7().to_string())],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

async fn without_a_relying_party_there_are_no_passkey_forms(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.user("nokeys@example.com").await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/account/sign-in").await;
    assert!(!page.html.contains("data-passkey"));
    assert!(
        !page.html.contains("<script"),
        "no script where none is needed"
    );
    browser.sign_in(&user.email, PASSWORD).await;
    let page = browser.get("/account/security").await;
    assert!(page.html.contains("not available"));
    let (status, _) = ask_options(&mut browser, "/account/security/passkeys/options").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The id of the first passkey the security page lists.
fn passkey_id_on(html: &str) -> String {
    html.split("name=\"id\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a passkey id")
        .to_owned()
}

async fn asking_for_options_takes_from_the_sign_in_bucket(backend: Backend) {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("WEBAUTHN_RP_ID", "localhost"),
            ("WEBAUTHN_ORIGIN", ORIGIN),
            ("RATE_LIMIT_LOGIN_PER_IP", "2/1m"),
        ],
    )
    .await;
    let mut browser = Browser::new(&app);
    browser.get("/account/sign-in").await;
    for _ in 0..2 {
        let (status, _) = ask_options(&mut browser, "/sign-in/passkey/options").await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = ask_options(&mut browser, "/sign-in/passkey/options").await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "each is a row: not free"
    );
    assert_eq!(app.count_rows("webauthn_ceremonies").await, 2);
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

async fn a_passkey_is_a_second_factor_after_the_password(backend: Backend) {
    let app = app(backend).await;
    let user = app.user("second@example.com").await;
    let admin = app.admin().await;
    let mut soft = SoftPasskey::new(true);
    with_passkey(&app, &user, &mut soft).await;
    // The REST login: a passkey is a factor, so the password alone is not enough.
    let refused = app.login(&user.email, PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let mut browser = Browser::new(&app);
    browser.get("/account/sign-in").await;
    let second = browser
        .post(
            "/account/sign-in",
            &[("email", &user.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(
        second.html.contains("Use a passkey instead"),
        "{}",
        second.html
    );
    let (status, options) =
        ask_options(&mut browser, "/sign-in/passkey/second-factor/options").await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "the account's passkey is named: {options}"
    );
    let options: RequestChallengeResponse = serde_json::from_value(options).expect("options");
    let used = soft
        .do_authentication(origin(), options)
        .expect("assertion");
    let answer = serde_json::to_value(used).expect("json").to_string();
    // Without the ceremony this browser was given, the answer is worth nothing.
    let mut thief = Browser::new(&app);
    thief.get("/account/sign-in").await;
    let stolen = thief
        .post("/account/sign-in", &[("factor_passkey", &answer)])
        .await;
    assert_eq!(
        stolen.status,
        StatusCode::BAD_REQUEST,
        "no challenge in that browser"
    );
    let done = browser
        .post("/account/sign-in", &[("factor_passkey", &answer)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let logins = app.audit(&admin, "login.success").await;
    assert_eq!(
        logins[0]["detail"]["second_factor"], "passkey",
        "{logins:?}"
    );
    use sea_orm::{EntityTrait as _, QueryOrder as _};
    let session = auth_server::sessions::entity::Entity::find()
        .order_by_desc(auth_server::sessions::entity::Column::CreatedAt)
        .one(&app.state.db)
        .await
        .expect("row")
        .expect("a session");
    assert_eq!(session.amr.as_deref(), Some("pwd hwk mfa"));
}

backend_tests!(
    asking_for_options_takes_from_the_sign_in_bucket,
    a_passkey_is_a_second_factor_after_the_password,
    a_passkey_is_added_on_the_security_page_and_signs_in_without_an_email,
    a_passkey_sign_in_gives_tokens_of_two_factors,
    registration_checks_each_refuse_a_crafted_answer,
    a_ceremony_expires_after_five_minutes,
    sign_in_checks_each_refuse_a_crafted_answer,
    a_counter_that_goes_backwards_is_refused_and_audited,
    the_last_way_to_sign_in_cannot_be_removed,
    without_a_relying_party_there_are_no_passkey_forms,
);
